// `flowgate check-config [-c FILE | FILE]`: validate a config file exactly as `run` would
// (same loader, same environment) without opening a socket.
// Exit status: 0 valid (warnings, if any, on stderr); 2 invalid (one problem per line on
// stderr); 1 file unreadable.

import { ConfigError, ConfigReadError, loadConfig, type GatewayConfig } from '../config/config';
import { outputTarget } from '../config/platform-outputs';
import { configWarnings } from '../config/warnings';

export const EXIT_INVALID = 2;
export const EXIT_UNREADABLE = 1;

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** A few lines saying what the gateway would do with this config. Never shows secrets. */
export function describeConfig(c: GatewayConfig): string[] {
  const lines = [`listeners: ${c.listeners.length ? c.listeners.map((l) => `${hostPort(l.host, l.port)} (${l.protocol}${l.allow ? `, allow ${l.allow.join(' ')}` : ''})`).join(', ') : 'none (converter-only process)'}`];
  const k = c.kafka;
  if (k) {
    lines.push(`bus: kafka ${k.brokers.join(',')}; topics ${k.topic}, ${k.counters_topic}${k.state_topic ? `, state ${k.state_topic}` : ''}; framing ${k.framing}, key ${k.key}, compression ${k.compression}, acks ${k.acks}`);
    const auth = [k.sasl ? `sasl ${k.sasl.mechanism} as ${k.sasl.username} (password from ${k.sasl.password_file ? `file ${k.sasl.password_file}` : 'the environment'})` : '', k.tls ? `tls${k.tls.cert_file ? ' with client certificate' : ''}${k.tls.key_passphrase !== undefined ? ' (encrypted key)' : ''}${k.tls.reject_unauthorized ? '' : ' (certificates not verified)'}` : ''].filter(Boolean);
    if (auth.length) lines.push(`kafka security: ${auth.join(', ')}`);
  } else {
    lines.push('bus: embedded (no kafka section)');
  }
  lines.push(`state: ${c.state ? `${c.state.directory}, saved every ${c.state.save_interval_seconds} s` : 'not persisted (no state section)'}`);
  lines.push(`metrics: ${c.metrics ? `http://${hostPort(c.metrics.host, c.metrics.port)}/metrics` : 'off (no metrics section)'}`);
  if (c.outputs.length) lines.push(`outputs: ${c.outputs.map((o) => `${o.name} (${o.type} → ${outputTarget(o)}, reads ${o.topic})`).join(', ')}`);
  lines.push(`log: ${c.log.level}; summary ${c.summary_interval_seconds > 0 ? `every ${c.summary_interval_seconds} s` : 'off'}`);
  return lines;
}

export function runCheckConfig(file: string, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  try {
    const config = loadConfig(file);
    out.write(`${file}: OK\n${describeConfig(config).map((l) => `  ${l}\n`).join('')}`);
    // Warnings do not fail the check: the config works, but the operator should look.
    err.write(configWarnings(config).map((w) => `${file}: warning: ${w.text}\n`).join(''));
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(e.problems.map((p) => `${p}\n`).join(''));
    return e instanceof ConfigReadError ? EXIT_UNREADABLE : EXIT_INVALID;
  }
}
