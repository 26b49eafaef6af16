// The bytes actually sent for datagram i in loop k. Loop 0 sends the capture unchanged (unless
// --retime); every later loop adds, per sequence stream, k times the stream's period
//   period = last_seq + last_advance - first_seq   (mod 2^32)
// to each sequence number, so the first datagram of loop k+1 carries exactly the number the
// gateway expects after the last datagram of loop k, and the deltas inside a pass (including
// any gaps the original capture had) are replayed as they were.

import type { ReplayDatagram } from './capture';
import { IpfixRecordCounter } from './ipfix-record-count';
import { sequenceFields, timeFieldOf, writeTime, TimeField, type SequenceField } from './sequence-fields';

export interface RewriteOptions {
  /** Keep sequence numbers continuous across loops. */
  sequence: boolean;
  /** Set export times in headers to the send time. */
  time: boolean;
}

export interface StreamPeriod {
  stream: string;
  first: number;
  last: number;
  lastAdvance: number;
  period: number;
}

export class DatagramRewriter {
  /** Fields of datagram i are patchOffset/patchStream[patchStart[i] .. patchStart[i+1]). */
  private readonly patchStart: Uint32Array;
  private readonly patchOffset: Uint32Array;
  private readonly patchStream: Uint32Array;
  private readonly timeField: Uint8Array;
  private readonly periods: Uint32Array;
  private readonly offsets: Uint32Array;
  private loop = 0;

  private readonly payloads: readonly Buffer[];

  private constructor(
    datagrams: readonly ReplayDatagram[],
    fields: readonly SequenceField[][],
    /** Per sequence stream, what one pass of the capture advances it by; for tests and logs. */
    readonly streams: readonly StreamPeriod[],
    streamIndex: ReadonlyMap<string, number>,
    time: boolean,
  ) {
    const n = datagrams.length;
    this.payloads = datagrams.map((d) => d.payload);
    this.patchStart = new Uint32Array(n + 1);
    let total = 0;
    for (const f of fields) total += f.length;
    this.patchOffset = new Uint32Array(total);
    this.patchStream = new Uint32Array(total);
    let k = 0;
    for (let i = 0; i < n; i++) {
      this.patchStart[i] = k;
      for (const f of fields[i] ?? []) {
        this.patchOffset[k] = f.offset;
        this.patchStream[k] = streamIndex.get(f.stream) ?? 0;
        k++;
      }
    }
    this.patchStart[n] = k;
    this.timeField = new Uint8Array(n);
    if (time) datagrams.forEach((d, i) => (this.timeField[i] = timeFieldOf(d.protocol, d.payload)));
    this.periods = Uint32Array.from(streams, (s) => s.period);
    this.offsets = new Uint32Array(streams.length);
  }

  static plan(datagrams: readonly ReplayDatagram[], opts: RewriteOptions): DatagramRewriter {
    const fields: SequenceField[][] = [];
    const streams: StreamPeriod[] = [];
    const streamIndex = new Map<string, number>();
    if (opts.sequence) {
      const ipfix = new IpfixRecordCounter();
      for (const d of datagrams) {
        const f: SequenceField[] = [];
        sequenceFields(d.protocol, d.exporterKey, d.payload, ipfix, f);
        fields.push(f);
        for (const x of f) {
          let s = streamIndex.get(x.stream);
          if (s === undefined) {
            s = streams.length;
            streamIndex.set(x.stream, s);
            streams.push({ stream: x.stream, first: x.value, last: x.value, lastAdvance: 0, period: 0 });
          }
          streams[s].last = x.value;
          // Unknown (an IPFIX message with a data set whose template never came): a gateway
          // restarts the chain on such a message, so no advance is as good as any.
          streams[s].lastAdvance = x.advance ?? 0;
        }
      }
      for (const s of streams) s.period = (s.last + s.lastAdvance - s.first) >>> 0;
    }
    return new DatagramRewriter(datagrams, fields, streams, streamIndex, opts.time);
  }

  /** Loops must be started in order 0, 1, 2, ... (offsets accumulate, so loop counts need no bound). */
  startLoop(loop: number): void {
    if (loop === 0) this.offsets.fill(0);
    else if (loop === this.loop + 1) for (let s = 0; s < this.offsets.length; s++) this.offsets[s] = (this.offsets[s] + this.periods[s]) >>> 0;
    else if (loop !== this.loop) throw new RangeError(`loop ${loop} started after loop ${this.loop}`);
    this.loop = loop;
  }

  /**
   * The datagram to send. A fresh copy whenever anything changes: the previous copy may still
   * sit in a socket's send queue, and the capture's own bytes are needed by the next loop.
   */
  bytes(i: number, nowMs: number): Buffer {
    const src = this.payloads[i];
    const from = this.patchStart[i];
    const to = this.patchStart[i + 1];
    const time = this.timeField[i] as TimeField;
    const patch = this.loop > 0 && to > from;
    if (!patch && time === TimeField.None) return src;
    const out = Buffer.allocUnsafe(src.length);
    src.copy(out);
    if (patch) {
      for (let k = from; k < to; k++) {
        const off = this.patchOffset[k];
        out.writeUInt32BE((src.readUInt32BE(off) + this.offsets[this.patchStream[k]]) >>> 0, off);
      }
    }
    writeTime(time, out, nowMs);
    return out;
  }
}
