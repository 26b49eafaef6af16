// Where replayed datagrams go: "HOST:PORT" text in, one resolved address out. The address
// family of the target decides the family of every exporter socket.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface ReplayTarget {
  host: string;
  port: number;
}

export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
  port: number;
}

const USAGE = 'use HOST:PORT, e.g. 127.0.0.1:2055, [::1]:2055 or gateway.example:2055';

/** Accepts IPv4:PORT, [IPv6]:PORT and hostname:PORT; throws a message naming the bad part. */
export function parseTarget(text: string): ReplayTarget {
  const fail = (why: string): never => {
    throw new Error(`bad --to ${JSON.stringify(text)}: ${why}; ${USAGE}`);
  };
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    portText = bracketed[2];
    if (isIP(host) !== 6) fail(`${JSON.stringify(host)} in brackets is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) fail('no port');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    // Without brackets the last colon of an IPv6 address would be read as the port separator.
    if (host.includes(':')) fail(`IPv6 addresses go in brackets: [${host}]:${portText}`);
    if (host === '') fail('no host');
    if (isIP(host) === 0 && !/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/.test(host)) fail(`${JSON.stringify(host)} is neither an IP address nor a host name`);
  }
  if (!/^\d{1,5}$/.test(portText)) fail(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) fail(`port ${port} is outside 1..65535`);
  return { host, port };
}

export async function resolveTarget(t: ReplayTarget): Promise<ResolvedTarget> {
  const literal = isIP(t.host);
  if (literal !== 0) return { address: t.host, family: literal === 6 ? 6 : 4, port: t.port };
  try {
    const r = await lookup(t.host);
    return { address: r.address, family: r.family === 6 ? 6 : 4, port: t.port };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new Error(`cannot resolve --to host ${JSON.stringify(t.host)} (${code})`);
  }
}
