// "HOST:PORT" strings of the config: UDP listen addresses, the metrics HTTP address and Kafka
// brokers. The schema checks their shape; these checks give the precise reason a
// well-shaped string is still wrong (port 70000, "999.1.1.1", a hostname where an address
// is needed).

import { isIPv4, isIPv6 } from 'node:net';
import { parseListen } from '../ingest/udp-listener';
import { ipToText, textToIp } from '../util/ip';

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]+)$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

const fail = (problem: string): Checked<never> => ({ ok: false, problem });

function portProblem(text: string, port: number, minPort: number): string | undefined {
  if (port >= minPort && port <= 65535) return undefined;
  const range = minPort === 0 ? '0-65535 (0 = any free port)' : `${minPort}-65535`;
  return `${JSON.stringify(text)} has port ${port}; allowed ports: ${range}`;
}

/**
 * A bind address: "IPv4:PORT", "[IPv6]:PORT" or ":PORT". Hostnames are refused for UDP
 * listeners (a bind address is an address; the socket family is chosen from it) and
 * accepted for the metrics endpoint, where "localhost:9590" is the natural thing to write.
 */
export function checkBindAddress(text: string, allowHostname: boolean): Checked<HostPort> {
  const m = HOST_PORT.exec(text);
  if (!m) return fail(`${JSON.stringify(text)} is not "HOST:PORT"; e.g. "0.0.0.0:2055", "[::]:2055" or ":2055"`);
  const bad = portProblem(text, Number(m[3]), 0);
  if (bad) return fail(bad);
  const [bracketed, bare] = [m[1], m[2]];
  if (bracketed !== undefined && !isIPv6(bracketed)) return fail(`${JSON.stringify(text)}: "${bracketed}" in brackets is not an IPv6 address`);
  if (bare && !isIPv4(bare) && !(allowHostname && HOSTNAME.test(bare))) {
    const what = allowHostname ? 'an IPv4 address or a host name' : 'an IPv4 address';
    return fail(`${JSON.stringify(text)}: "${bare}" is not ${what} (write IPv6 in brackets, e.g. "[::]:${m[3]}")`);
  }
  // The listener's own parser, so config and socket can never disagree about an address.
  try {
    return { ok: true, value: parseListen(text) };
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** A Kafka bootstrap broker "host:port" (port 1-65535). */
export function checkBroker(text: string): Checked<string> {
  const m = /^([A-Za-z0-9._-]+):([0-9]+)$/.exec(text);
  if (!m) return fail(`${JSON.stringify(text)} is not "host:port" with a host name or IPv4 address, e.g. "127.0.0.1:9092"`);
  const bad = portProblem(text, Number(m[2]), 1);
  return bad ? fail(bad) : { ok: true, value: text };
}

/** One spelling per address, so "::0" and "::" or "0.0.0.0" and "" compare equal. */
function canonicalHost(host: string): string {
  try {
    return ipToText(textToIp(host));
  } catch {
    return host.toLowerCase();
  }
}

/**
 * Would binding both fail with EADDRINUSE? Measured on Linux: same port and same address,
 * or 0.0.0.0 against any IPv4 address, or :: (dual-stack) against anything.
 */
export function bindsConflict(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.port === 0) return false;
  const [x, y] = [canonicalHost(a.host), canonicalHost(b.host)];
  if (x === y || x === '::' || y === '::') return true;
  return (x === '0.0.0.0' && isIPv4(y)) || (y === '0.0.0.0' && isIPv4(x));
}
