// The body of a Kafka Fetch response (versions 4-11, what kafkajs 2.2 sends) → per partition:
// error code, watermarks, aborted transactions and the record batches it holds (located, not
// yet decoded: record-batch.ts does that). Layout
// (https://kafka.apache.org/protocol#The_Messages_Fetch):
//
//   v4+  throttle_time_ms int32
//   v7+  error_code int16, session_id int32
//        [topic string, [partition int32, error_code int16, high_watermark int64,
//                        last_stable_offset int64, log_start_offset int64 (v5+),
//                        aborted_transactions [producer_id int64, first_offset int64] (nullable),
//                        preferred_read_replica int32 (v11+), records bytes (nullable)]]

import { scanBatches, type RecordBatchInfo } from './record-batch';

export class FetchResponseError extends Error {}

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: number;
  /** -1 when the broker does not say. */
  lastStableOffset: number;
  abortedTransactions: number;
  /** The response buffer the batches lie in. */
  data: Buffer;
  batches: RecordBatchInfo[];
  /** True when the records are in the pre-0.11 message-set format (not parsed here). */
  legacy: boolean;
}

export interface FetchedTopic {
  topic: string;
  partitions: FetchedPartition[];
}

export interface ParsedFetch {
  throttleTimeMs: number;
  errorCode: number;
  topics: FetchedTopic[];
}

export const MIN_FETCH_VERSION = 4;
export const MAX_FETCH_VERSION = 11;

class Cursor {
  p = 0;
  constructor(private readonly b: Buffer) {}
  need(n: number): void {
    if (this.p + n > this.b.length) throw new FetchResponseError(`fetch response: truncated at byte ${this.p}`);
  }
  i16(): number {
    this.need(2);
    const v = this.b.readInt16BE(this.p);
    this.p += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.p);
    this.p += 4;
    return v;
  }
  i64(): number {
    this.need(8);
    const v = this.b.readInt32BE(this.p) * 4294967296 + this.b.readUInt32BE(this.p + 4);
    this.p += 8;
    return v;
  }
  str(): string {
    const n = this.i16();
    if (n < 0) return '';
    this.need(n);
    const s = this.b.toString('utf8', this.p, this.p + n);
    this.p += n;
    return s;
  }
}

export function parseFetchResponse(b: Buffer, version: number): ParsedFetch {
  if (version < MIN_FETCH_VERSION || version > MAX_FETCH_VERSION) throw new FetchResponseError(`fetch response version ${version} is not supported here`);
  const c = new Cursor(b);
  const throttleTimeMs = c.i32();
  let errorCode = 0;
  if (version >= 7) {
    errorCode = c.i16();
    c.i32(); // session id: sessions are not used
  }
  const topics: FetchedTopic[] = [];
  const nTopics = c.i32();
  for (let t = 0; t < nTopics; t++) {
    const topic = c.str();
    const partitions: FetchedPartition[] = [];
    const nParts = c.i32();
    for (let i = 0; i < nParts; i++) {
      const partition = c.i32();
      const code = c.i16();
      const highWatermark = c.i64();
      const lastStableOffset = c.i64();
      if (version >= 5) c.i64(); // log start offset
      const nAborted = c.i32();
      if (nAborted > 0) {
        c.need(16 * nAborted);
        c.p += 16 * nAborted;
      }
      if (version >= 11) c.i32(); // preferred read replica: not used (fetch from the leader)
      const size = c.i32();
      let batches: RecordBatchInfo[] = [];
      let legacy = false;
      if (size > 0) {
        c.need(size);
        ({ batches, legacy } = scanBatches(b, c.p, c.p + size));
        c.p += size;
      }
      partitions.push({ partition, errorCode: code, highWatermark, lastStableOffset, abortedTransactions: Math.max(0, nAborted), data: b, batches, legacy });
    }
    topics.push({ topic, partitions });
  }
  return { throttleTimeMs, errorCode, topics };
}
