// Which NetFlow v9 source ID a record goes out under. Per exporter (default): one per original
// exporter — address, UDP port and observation domain, the identity flowgate's decoder gives
// templates and sampling state — so a collector keeps them apart (its per-source sequence
// checks and sampler tables stay right: two exporters behind one address may sample
// differently). The id is a hash of the three, so the same exporter keeps its id across
// restarts; a collision within this process takes the next free id.
// Fixed: every record under one configured id.

import type { FlowRecord } from '../../canonical/flow-record';
import { ipToText } from '../../util/ip';

export interface SourceAssignment {
  id: number;
  /** "address:port" (IPv6 in brackets). */
  exporter: string;
  domain: number;
}

function fnv1a(bytes: Uint8Array, port: number, domain: number): number {
  let h = 0x811c9dc5;
  const mix = (x: number): void => {
    h ^= x;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 0; i < bytes.length; i++) mix(bytes[i]);
  mix(port >>> 8); mix(port & 255);
  mix(domain >>> 24); mix((domain >>> 16) & 255); mix((domain >>> 8) & 255); mix(domain & 255);
  return h >>> 0;
}

export class SourceIds {
  private readonly byKey = new Map<string, number>();
  // IPv4 fast path (the common case, and per record): address → (port × 2^32 + domain) → id.
  private readonly byV4 = new Map<number, Map<number, number>>();
  private readonly taken = new Set<number>();

  constructor(private readonly fixed: number | undefined, private readonly onNew: (a: SourceAssignment) => void) {}

  idFor(r: FlowRecord): number {
    if (this.fixed !== undefined) return this.fixed;
    const a = r.exporter_address;
    const d = r.observation_domain_id;
    const port = r.exporter_port;
    if (a.length === 4) {
      const v4 = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
      let m = this.byV4.get(v4);
      if (!m) this.byV4.set(v4, (m = new Map()));
      const pd = port * 4294967296 + d;
      const hit = m.get(pd);
      if (hit !== undefined) return hit;
      const id = this.assign(`${a[0]}.${a[1]}.${a[2]}.${a[3]}:${port}/${d}`, a, port, d);
      m.set(pd, id);
      return id;
    }
    const key = `${Buffer.from(a.buffer, a.byteOffset, a.length).toString('hex')}:${port}/${d}`;
    return this.byKey.get(key) ?? this.assign(key, a, port, d);
  }

  private assign(key: string, a: Uint8Array, port: number, d: number): number {
    let id = fnv1a(a, port, d);
    while (this.taken.has(id)) id = (id + 1) >>> 0;
    this.taken.add(id);
    this.byKey.set(key, id);
    const text = a.length === 16 ? `[${ipToText(a)}]:${port}` : a.length ? `${ipToText(a)}:${port}` : 'none';
    this.onNew({ id, exporter: text, domain: d });
    return id;
  }
}
