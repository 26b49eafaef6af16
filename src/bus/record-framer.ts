// Turns one datagram's encoded records (a WireBatch) into bus messages, by the configured
// framing and key mode (DESIGN.md §4):
//   raw        one record per message (bwNetFlow / cloudflare goflow consumers)
//   delimited  varint length-prefixed records, many per message (goflow2's `bin` format)
// Every message carries the same two headers, so consumers need not guess the format.
//
// A Kafka message has one key, so delimited batches are only formed where all records share
// it: key `none` and `exporter` pack a datagram's records together; key `five-tuple` writes
// one length-prefixed record per message (still readable by every delimited consumer).

import type { WireBatch } from '../canonical/wire-batch';
import type { Exporter } from '../decode/types';
import type { Framing, KeyMode } from '../config/types';
import type { BusMessage } from './bus';
import { fiveTupleKey, readFiveTuple } from './record-key';
import { v32, vsize } from '../canonical/flow-encoder';

export const SCHEMA_NAME = 'flowpb.FlowMessage';
export const COUNTERS_SCHEMA_NAME = 'flowgate.InterfaceCounters';
export const HEADER_FRAMING = 'flowgate-framing';
export const HEADER_SCHEMA = 'flowgate-schema';

export function framingHeaders(framing: Framing, schema: string): Readonly<Record<string, Buffer>> {
  return Object.freeze({ [HEADER_FRAMING]: Buffer.from(framing), [HEADER_SCHEMA]: Buffer.from(schema) });
}

export class RecordFramer {
  readonly headers: Readonly<Record<string, Buffer>>;
  // Exporter keys are reused: one Buffer per exporter address, not per message.
  private readonly exporterKeys = new Map<string, Buffer>();

  constructor(
    readonly framing: Framing,
    readonly keyMode: KeyMode,
    /** Upper bound of a delimited message's value. */
    private readonly maxMessageBytes = 1_000_000,
  ) {
    this.headers = framingHeaders(framing, SCHEMA_NAME);
  }

  frame(batch: WireBatch, exporter: Exporter): BusMessage[] {
    if (batch.count === 0) return [];
    if (this.framing === 'raw') return this.raw(batch, exporter);
    if (this.keyMode === 'five-tuple') return this.delimitedEach(batch);
    return this.delimitedPacked(batch, this.keyMode === 'exporter' ? this.exporterKey(exporter) : null);
  }

  private exporterKey(exporter: Exporter): Buffer {
    let k = this.exporterKeys.get(exporter.addressText);
    if (!k) {
      if (this.exporterKeys.size >= 100_000) this.exporterKeys.clear(); // spoofed sources
      k = Buffer.from(exporter.addressText);
      this.exporterKeys.set(exporter.addressText, k);
    }
    return k;
  }

  private raw(batch: WireBatch, exporter: Exporter): BusMessage[] {
    const values = batch.messages();
    const out: BusMessage[] = new Array(values.length);
    const h = this.headers;
    if (this.keyMode === 'five-tuple') {
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        out[i] = { key: fiveTupleKey(readFiveTuple(v, 0, v.length)), value: v, headers: h, records: 1 };
      }
    } else {
      const key = this.keyMode === 'exporter' ? this.exporterKey(exporter) : null;
      for (let i = 0; i < values.length; i++) out[i] = { key, value: values[i], headers: h, records: 1 };
    }
    return out;
  }

  private delimitedEach(batch: WireBatch): BusMessage[] {
    const out: BusMessage[] = new Array(batch.count);
    let start = 0;
    for (let i = 0; i < batch.count; i++) {
      const end = batch.ends[i];
      const len = end - start;
      const v = Buffer.allocUnsafe(vsize(len) + len);
      const p = v32(v, 0, len);
      batch.buf.copy(v, p, start, end);
      out[i] = { key: fiveTupleKey(readFiveTuple(batch.buf, start, end)), value: v, headers: this.headers, records: 1 };
      start = end;
    }
    return out;
  }

  private delimitedPacked(batch: WireBatch, key: Buffer | null): BusMessage[] {
    const out: BusMessage[] = [];
    let first = 0;
    while (first < batch.count) {
      // Take records while the message stays under the limit (always at least one).
      let size = 0;
      let last = first;
      let start = first === 0 ? 0 : batch.ends[first - 1];
      const from = start;
      while (last < batch.count) {
        const len = batch.ends[last] - start;
        const add = vsize(len) + len;
        if (last > first && size + add > this.maxMessageBytes) break;
        size += add;
        start = batch.ends[last];
        last++;
      }
      const v = Buffer.allocUnsafe(size);
      let p = 0;
      let s = from;
      for (let i = first; i < last; i++) {
        const e = batch.ends[i];
        p = v32(v, p, e - s);
        p += batch.buf.copy(v, p, s, e);
        s = e;
      }
      out.push({ key, value: v, headers: this.headers, records: last - first });
      first = last;
    }
    return out;
  }
}
