// Collector addresses: "IPv4:PORT" or "[IPv6]:PORT". Literal addresses only: a collector's
// address is configuration, and resolving names at start would hide a typo until traffic is lost.

import { isIPv4, isIPv6 } from 'node:net';

export interface Target {
  /** As written in the config: the metric label. */
  text: string;
  host: string;
  port: number;
  family: 4 | 6;
}

export function parseTarget(text: string): Target | string {
  const m = /^(?:\[([^\]]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  if (!m && (text.match(/:/g) ?? []).length > 1 && !text.startsWith('[')) return `${JSON.stringify(text)}: write an IPv6 address in brackets, e.g. "[::1]:9995"`;
  if (!m && /^[A-Za-z]/.test(text)) return `${JSON.stringify(text)}: give the collector's IP address, not a host name (resolved once, a name would hide a typo until traffic is lost), e.g. "127.0.0.1:2055"`;
  if (!m) return `${JSON.stringify(text)} is not "IPv4:PORT" or "[IPv6]:PORT", e.g. "127.0.0.1:2055" or "[::1]:9995"`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `${JSON.stringify(text)} has port ${port}; collectors listen on ports 1-65535`;
  if (m[1] !== undefined) {
    if (!isIPv6(m[1])) return `${JSON.stringify(text)}: "${m[1]}" in brackets is not an IPv6 address`;
    return { text, host: m[1], port, family: 6 };
  }
  if (!isIPv4(m[2])) return `${JSON.stringify(text)}: "${m[2]}" is not an IPv4 address (write IPv6 in brackets)`;
  return { text, host: m[2], port, family: 4 };
}
