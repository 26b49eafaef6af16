// Canonical records → Kafka messages for outputs that publish (split, reduce), in the same
// framing, headers and key mode as the gateway's own bus (record-framer.ts): a consumer of a
// per-customer or reduced topic reads it exactly like the flow topic. Encoding reuses
// FlowEncoder; a record sent to several topics is encoded once.

import type { Message } from 'kafkajs';
import { FlowEncoder, v32, vsize } from '../canonical/flow-encoder';
import type { FlowRecord } from '../canonical/flow-record';
import { framingHeaders, SCHEMA_NAME } from '../bus/record-framer';
import { fiveTupleKey } from '../bus/record-key';
import type { Framing, KeyMode } from '../config/types';
import { ipToText } from '../util/ip';

export interface EncodedRecord {
  key: Buffer | null;
  /** One encoded FlowMessage (no length prefix). */
  value: Buffer;
}

export interface TopicMessages {
  topic: string;
  messages: Message[];
}

export class RecordMessages {
  private readonly encoder = new FlowEncoder();
  private readonly headers: Record<string, Buffer>;
  /** Per topic, then per key (delimited packs only records that share a key). */
  private readonly pending = new Map<string, Map<string, { key: Buffer | null; values: Buffer[] }>>();
  private readonly raw = new Map<string, Message[]>();
  private exporterKeys = new Map<string, Buffer>();

  constructor(private readonly framing: Framing, private readonly keyMode: KeyMode, private readonly maxMessageBytes: number) {
    this.headers = { ...framingHeaders(framing, SCHEMA_NAME) };
  }

  encode(r: FlowRecord): EncodedRecord {
    return { key: this.key(r), value: this.encoder.encode(r) };
  }

  add(topic: string, e: EncodedRecord): void {
    if (this.framing === 'raw') {
      let l = this.raw.get(topic);
      if (!l) this.raw.set(topic, (l = []));
      l.push({ key: e.key, value: e.value, headers: this.headers });
      return;
    }
    let byKey = this.pending.get(topic);
    if (!byKey) this.pending.set(topic, (byKey = new Map()));
    const k = e.key ? e.key.toString('latin1') : '';
    let g = byKey.get(k);
    if (!g) byKey.set(k, (g = { key: e.key, values: [] }));
    g.values.push(e.value);
  }

  /** Everything added since the last take, as messages per topic. */
  take(): TopicMessages[] {
    const out: TopicMessages[] = [];
    for (const [topic, messages] of this.raw) out.push({ topic, messages });
    this.raw.clear();
    for (const [topic, byKey] of this.pending) {
      const messages: Message[] = [];
      for (const g of byKey.values()) this.pack(g.key, g.values, messages);
      out.push({ topic, messages });
    }
    this.pending.clear();
    return out;
  }

  /** Length-prefixed records, as many per message as fit under maxMessageBytes (at least one). */
  private pack(key: Buffer | null, values: Buffer[], out: Message[]): void {
    let first = 0;
    while (first < values.length) {
      let size = 0;
      let last = first;
      while (last < values.length) {
        const add = vsize(values[last].length) + values[last].length;
        if (last > first && size + add > this.maxMessageBytes) break;
        size += add;
        last++;
      }
      const v = Buffer.allocUnsafe(size);
      let p = 0;
      for (let i = first; i < last; i++) {
        p = v32(v, p, values[i].length);
        p += values[i].copy(v, p);
      }
      out.push({ key, value: v, headers: this.headers });
      first = last;
    }
  }

  private key(r: FlowRecord): Buffer | null {
    switch (this.keyMode) {
      case 'none': return null;
      case 'five-tuple': return fiveTupleKey({ proto: r.proto, srcAddr: r.src_addr, dstAddr: r.dst_addr, srcPort: r.src_port, dstPort: r.dst_port });
      case 'exporter': {
        const text = ipToText(r.exporter_address);
        let k = this.exporterKeys.get(text);
        if (!k) {
          if (this.exporterKeys.size >= 100_000) this.exporterKeys = new Map();
          k = Buffer.from(text);
          this.exporterKeys.set(text, k);
        }
        return k;
      }
    }
  }
}
