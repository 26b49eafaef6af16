// listeners[].allow: which exporter source addresses a listener accepts. Checked per datagram
// before anything else, so the verdict is cached per source address text: a hit is one Map
// lookup; the prefix walk runs once per new address.

import { PrefixSet, parsePrefix, type Prefix } from '../outputs/prefix';
import { textToIp } from '../util/ip';

/** Spoofed sources must not grow the cache without end; it is cleared when this full. */
const MAX_CACHED = 65536;

export class SourceAllowlist {
  private readonly set: PrefixSet;
  private readonly verdicts = new Map<string, boolean>();

  constructor(texts: readonly string[]) {
    const prefixes: Prefix[] = [];
    for (const t of texts) {
      const p = parsePrefix(t);
      if (typeof p === 'string') throw new Error(`allow: ${p}`);
      prefixes.push(p);
    }
    this.set = new PrefixSet(prefixes);
  }

  /** `address` as rinfo.address gives it: dotted quad, IPv6 text, maybe with a %zone. */
  allows(address: string): boolean {
    const v = this.verdicts.get(address);
    if (v !== undefined) return v;
    const verdict = this.decide(address);
    if (this.verdicts.size >= MAX_CACHED) this.verdicts.clear();
    this.verdicts.set(address, verdict);
    return verdict;
  }

  private decide(address: string): boolean {
    let bytes: Uint8Array;
    try {
      bytes = textToIp(address.replace(/%.*$/, ''));
    } catch {
      return false; // not an address we can place: not on the list
    }
    if (this.set.has(bytes)) return true;
    // A dual-stack [::] socket reports IPv4 senders as ::ffff:a.b.c.d; IPv4 entries must match them.
    if (bytes.length === 16 && isV4Mapped(bytes)) return this.set.has(bytes.subarray(12));
    return false;
  }
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
