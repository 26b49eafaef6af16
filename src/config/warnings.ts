// Things in a valid config an operator should know about but that do not stop the gateway:
// secret files every local user can read, and /metrics endpoints reachable from other machines.
// check-config prints them, `run` logs them, `dump` prints the secret-file ones.

import { isIP } from 'node:net';
import { worldReadableSecrets } from './secrets';
import type { GatewayConfig } from './types';

export interface ConfigWarning {
  /** Key path, e.g. kafka.sasl.password_file or metrics.listen. */
  key: string;
  text: string;
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and the name localhost: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return isIP(h.slice(7)) === 4 && h.slice(7).startsWith('127.');
  return false;
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Metrics endpoints (the gateway's and prometheus outputs') bound beyond loopback. */
export function exposedMetrics(c: GatewayConfig): ConfigWarning[] {
  const out: ConfigWarning[] = [];
  const exposed = (key: string, host: string, port: number, what: string): void => {
    if (isLoopbackHost(host)) return;
    // Metrics name exporters, interfaces and volumes: reconnaissance for anyone who can reach them.
    out.push({ key, text: `${key}: ${hostPort(host, port)} is not a loopback address, so ${what} is reachable from other machines; fine behind a firewall or for a remote scraper, otherwise use 127.0.0.1` });
  };
  if (c.metrics) exposed('metrics.listen', c.metrics.host, c.metrics.port, '/metrics');
  c.outputs.forEach((o, i) => {
    if (o.type === 'prometheus') exposed(`outputs[${i}].listen`, o.listen.host, o.listen.port, `the ${o.name} output's /metrics`);
  });
  return out;
}

export function configWarnings(c: GatewayConfig): ConfigWarning[] {
  return [...worldReadableSecrets(c.kafka).map((w) => ({ key: w.key, text: w.text })), ...exposedMetrics(c)];
}
