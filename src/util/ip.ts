// Address text <-> bytes. Hand-written because the hot path formats millions of addresses
// and net.* helpers go through strings twice.

import { isIPv4, isIPv6 } from 'node:net';
import type { Exporter } from '../decode/types';

export function ipToText(addr: Uint8Array): string {
  if (addr.length === 4) return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`;
  if (addr.length === 16) return ipv6ToText(addr);
  return '';
}

/** RFC 5952 text: lower case, longest run (>= 2) of zero groups as "::", IPv4-mapped kept dotted. */
function ipv6ToText(a: Uint8Array): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (a[i * 2] << 8) | a[i * 2 + 1];
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number): string => g.toString(16);
  if (bestStart < 0) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}

/** Parses dotted-quad or IPv6 text (with optional ::ffff:a.b.c.d) into 4 or 16 bytes. */
export function textToIp(text: string): Uint8Array {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map((p) => Number(p)));
  if (!isIPv6(text)) throw new Error(`not an IP address: ${JSON.stringify(text)}`);
  let s = text;
  const out = new Uint8Array(16);
  const dotted = s.lastIndexOf(':') >= 0 && s.includes('.') ? s.slice(s.lastIndexOf(':') + 1) : '';
  const tailBytes: number[] = [];
  if (dotted) {
    tailBytes.push(...dotted.split('.').map((p) => Number(p)));
    s = s.slice(0, s.length - dotted.length) + '0:0';
  }
  const [left, right] = s.includes('::') ? s.split('::') : [s, undefined];
  const lg = left ? left.split(':') : [];
  const rg = right !== undefined && right !== '' ? right.split(':') : [];
  const groups = right === undefined ? lg : [...lg, ...new Array<string>(8 - lg.length - rg.length).fill('0'), ...rg];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (dotted) out.set(tailBytes, 12);
  return out;
}

/**
 * Copies 4 address bytes out of a datagram. Cheaper than a Buffer view in V8 (~36 vs ~60 ns)
 * and the record then does not pin the datagram in memory.
 */
export function copyIpv4(b: Uint8Array, o: number): Uint8Array {
  const t = new Uint8Array(4);
  t[0] = b[o];
  t[1] = b[o + 1];
  t[2] = b[o + 2];
  t[3] = b[o + 3];
  return t;
}

export function makeExporter(address: Uint8Array, port: number): Exporter {
  const addressText = ipToText(address);
  return { address, port, addressText, key: `${addressText}|${port}` };
}

export function exporterFromText(addressText: string, port: number): Exporter {
  return makeExporter(textToIp(addressText), port);
}

/** 48-bit MAC held in a number → "aa:bb:cc:dd:ee:ff". */
export function macToText(mac: number): string {
  let s = '';
  for (let shift = 40; shift >= 0; shift -= 8) {
    const b = Math.floor(mac / 2 ** shift) % 256;
    s += (shift === 40 ? '' : ':') + (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}
