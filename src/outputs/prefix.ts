// Address prefixes ("10.1.0.0/16", "2001:db8::/32", or a bare address meaning its full length)
// shared by the outputs that match records by address (split rules, prometheus local_prefixes)
// and by the config checks, so the config rejects exactly what the outputs could not match.

import { isIPv4, isIPv6 } from 'node:net';
import { textToIp } from '../util/ip';

export interface Prefix {
  /** 4 or 16 bytes, host bits cleared. */
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly text: string;
}

/** The prefix, or why the text is not one (worded for a config error). */
export function parsePrefix(text: string): Prefix | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  if (!isIPv4(addr) && !isIPv6(addr)) return `${JSON.stringify(text)} is not an address prefix; expected e.g. "10.1.0.0/16" or "2001:db8::/32"`;
  const bytes = textToIp(addr);
  const max = bytes.length * 8;
  let length = max;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(l) || Number(l) > max) return `${JSON.stringify(text)}: prefix length must be 0-${max}`;
    length = Number(l);
  }
  for (let bit = length; bit < max; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { bytes, length, text };
}

export function prefixContains(p: Prefix, addr: Uint8Array): boolean {
  if (addr.length !== p.bytes.length) return false;
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== p.bytes[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full] & mask) === p.bytes[full];
}

/** Several prefixes; an address matches when any holds it. */
export class PrefixSet {
  constructor(readonly prefixes: readonly Prefix[]) {}

  static parse(texts: readonly string[]): PrefixSet {
    return new PrefixSet(texts.map((t) => {
      const p = parsePrefix(t);
      if (typeof p === 'string') throw new Error(p);
      return p;
    }));
  }

  has(addr: Uint8Array): boolean {
    for (const p of this.prefixes) if (prefixContains(p, addr)) return true;
    return false;
  }
}
