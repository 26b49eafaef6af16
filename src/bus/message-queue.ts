// FIFO of bus messages with record and byte totals, taken from the front in batches and
// put back at the front when a send fails. Segments (one per publish call) keep push and
// take O(batch), not O(queue).

import type { BusMessage } from './bus';

export function messageBytes(m: BusMessage): number {
  return m.value.length + (m.key ? m.key.length : 0);
}

export class MessageQueue {
  private segments: BusMessage[][] = [];
  private head = 0; // index into segments[0]
  records = 0;
  bytes = 0;
  messages = 0;
  /** When the oldest message still queued was pushed (ms), for linger. */
  oldestMs = 0;

  push(msgs: readonly BusMessage[], records: number, bytes: number, nowMs: number): void {
    if (!msgs.length) return;
    if (this.messages === 0) this.oldestMs = nowMs;
    this.segments.push(msgs as BusMessage[]);
    this.records += records;
    this.bytes += bytes;
    this.messages += msgs.length;
  }

  /** Up to maxRecords records / maxBytes bytes (at least one message) from the front. */
  take(maxRecords: number, maxBytes: number): { messages: BusMessage[]; records: number; bytes: number } {
    const out: BusMessage[] = [];
    let records = 0;
    let bytes = 0;
    while (this.segments.length) {
      const seg = this.segments[0];
      while (this.head < seg.length) {
        const m = seg[this.head];
        const b = messageBytes(m);
        if (out.length && (records + m.records > maxRecords || bytes + b > maxBytes)) return this.took(out, records, bytes);
        out.push(m);
        records += m.records;
        bytes += b;
        this.head++;
      }
      this.segments.shift();
      this.head = 0;
    }
    return this.took(out, records, bytes);
  }

  /** Puts a failed batch back in front, keeping its order. */
  unshift(msgs: BusMessage[], records: number, bytes: number, nowMs: number): void {
    if (!msgs.length) return;
    if (this.head > 0) {
      this.segments[0] = this.segments[0].slice(this.head);
      this.head = 0;
    }
    this.segments.unshift(msgs);
    this.records += records;
    this.bytes += bytes;
    this.messages += msgs.length;
    this.oldestMs = Math.min(this.oldestMs || nowMs, nowMs);
  }

  /** Empties the queue, returning how many records it held. */
  clear(): number {
    const n = this.records;
    this.segments = [];
    this.head = 0;
    this.records = this.bytes = this.messages = 0;
    return n;
  }

  private took(out: BusMessage[], records: number, bytes: number): { messages: BusMessage[]; records: number; bytes: number } {
    this.records -= records;
    this.bytes -= bytes;
    this.messages -= out.length;
    return { messages: out, records, bytes };
  }
}
