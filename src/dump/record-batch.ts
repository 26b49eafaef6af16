// Kafka record batches (message format v2, magic 2: every broker since 0.11 stores and
// serves it) → DumpMessages, without kafkajs' per-record objects, Long offsets and header
// maps. Layout (https://kafka.apache.org/documentation/#recordbatch):
//
//   baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc uint32,
//   attributes int16, lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64,
//   producerId int64, producerEpoch int16, baseSequence int32, recordCount int32,
//   records (compressed as a whole when attributes & 7 != 0)
//
//   record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//           key (varint length, -1 null), value (varint length, -1 null),
//           headers: count varint, then key (varint length + UTF-8) and value (varint length)
//   (every varint here is zigzag-encoded)
//
// Like kafkajs, the CRC is not verified (TCP and the broker already check the bytes).

import { CompressionCodecs } from 'kafkajs';
import { framingCode, headerKind, schemaCode, FRAMING_ABSENT, SCHEMA_ABSENT, type DumpMessage } from './dump-message';

export class RecordBatchError extends Error {}

export interface RecordBatchInfo {
  /** Byte range of the whole batch in the buffer it was found in. */
  start: number;
  end: number;
  baseOffset: number;
  /** Offset of the batch's last record (baseOffset + lastOffsetDelta). */
  lastOffset: number;
  attributes: number;
  baseTimestamp: number;
  maxTimestamp: number;
  recordCount: number;
}

/** Bytes of a v2 batch before its records. */
const BATCH_HEADER = 61;
const MAGIC_AT = 16;
const COMPRESSION_MASK = 0x07;
const LOG_APPEND_TIME = 0x08;
const CONTROL = 0x20;

function int64(b: Buffer, p: number): number {
  return b.readInt32BE(p) * 4294967296 + b.readUInt32BE(p + 4);
}

export function isControlBatch(info: RecordBatchInfo): boolean {
  return (info.attributes & CONTROL) !== 0;
}

/**
 * The complete record batches in b[start, end). A trailing batch cut short by the fetch size
 * limit is left out (the next fetch starts at its offset), as Kafka clients do. `legacy` is
 * true when the data is in the pre-0.11 message-set format, which this parser leaves to kafkajs.
 */
export function scanBatches(b: Buffer, start: number, end: number): { batches: RecordBatchInfo[]; legacy: boolean } {
  const batches: RecordBatchInfo[] = [];
  let p = start;
  while (end - p >= BATCH_HEADER) {
    const length = b.readInt32BE(p + 8);
    const batchEnd = p + 12 + length;
    if (batchEnd > end) break; // partial
    const magic = b.readInt8(p + MAGIC_AT);
    if (magic !== 2) return { batches: [], legacy: true };
    if (length < BATCH_HEADER - 12) throw new RecordBatchError(`record batch at byte ${p}: length ${length} is shorter than its header`);
    const baseOffset = int64(b, p);
    batches.push({
      start: p,
      end: batchEnd,
      baseOffset,
      lastOffset: baseOffset + b.readInt32BE(p + 23),
      attributes: b.readInt16BE(p + 21),
      baseTimestamp: int64(b, p + 27),
      maxTimestamp: int64(b, p + 35),
      recordCount: b.readInt32BE(p + 57),
    });
    p = batchEnd;
  }
  return { batches, legacy: false };
}

/** The batch's records as one buffer range: the bytes themselves, or decompressed. */
export async function recordBytes(b: Buffer, info: RecordBatchInfo): Promise<{ data: Buffer; start: number; end: number }> {
  const codecType = info.attributes & COMPRESSION_MASK;
  if (codecType === 0) return { data: b, start: info.start + BATCH_HEADER, end: info.end };
  const factory = (CompressionCodecs as unknown as Record<number, (() => { decompress(buf: Buffer): Promise<Buffer> }) | undefined>)[codecType];
  if (!factory) throw new RecordBatchError(`record batch at offset ${info.baseOffset}: unknown compression type ${codecType}`);
  const data = await factory().decompress(b.subarray(info.start + BATCH_HEADER, info.end));
  return { data, start: 0, end: data.length };
}

/** Reads zigzag varints (up to 64 bits, as exact numbers below 2^53) from one buffer. */
class VarReader {
  p = 0;
  constructor(private readonly b: Buffer) {}

  zigzag(): number {
    const b = this.b;
    let c = b[this.p++];
    let v = c & 0x7f;
    if (c > 0x7f) {
      let mul = 128;
      do {
        c = b[this.p++];
        if (c === undefined) throw new RecordBatchError('record runs past the end of its batch');
        v += (c & 0x7f) * mul;
        mul *= 128;
      } while (c > 0x7f && mul <= 2 ** 63);
    }
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
}

/** Appends the records of data[start, end) (the batch `info`'s records) to `out`. */
export function parseRecords(data: Buffer, start: number, end: number, info: RecordBatchInfo, out: DumpMessage[]): void {
  const r = new VarReader(data);
  r.p = start;
  const logAppend = (info.attributes & LOG_APPEND_TIME) !== 0;
  let n = 0;
  while (r.p < end) {
    const length = r.zigzag();
    const bodyEnd = r.p + length;
    if (length < 0 || bodyEnd > end) throw new RecordBatchError(`record batch at offset ${info.baseOffset}: record ${n} runs past the batch`);
    r.p++; // record attributes: unused
    const tsDelta = r.zigzag();
    const offsetDelta = r.zigzag();
    const keyLen = r.zigzag();
    if (keyLen > 0) r.p += keyLen;
    const valueLen = r.zigzag();
    const valueStart = valueLen < 0 ? -1 : r.p;
    if (valueLen > 0) r.p += valueLen;
    let framing = FRAMING_ABSENT;
    let schema = SCHEMA_ABSENT;
    const headers = r.zigzag();
    for (let h = 0; h < headers; h++) {
      const kl = r.zigzag();
      const ks = r.p;
      r.p += kl > 0 ? kl : 0;
      const vl = r.zigzag();
      const vs = r.p;
      r.p += vl > 0 ? vl : 0;
      // A repeated header keeps its last value, as kafkajs reports it.
      const kind = headerKind(data, ks, ks + kl);
      if (kind === 1) framing = vl < 0 ? FRAMING_ABSENT : framingCode(data, vs, vs + vl);
      else if (kind === 2) schema = vl < 0 ? SCHEMA_ABSENT : schemaCode(data, vs, vs + vl);
    }
    if (r.p !== bodyEnd) throw new RecordBatchError(`record batch at offset ${info.baseOffset}: record ${n} has ${bodyEnd - r.p} bytes unaccounted for`);
    out.push({
      offset: info.baseOffset + offsetDelta,
      timestamp: logAppend ? info.maxTimestamp : info.baseTimestamp + tsDelta,
      data,
      valueStart,
      valueEnd: valueLen < 0 ? -1 : valueStart + valueLen,
      framing,
      schema,
    });
    n++;
  }
  if (n !== info.recordCount) throw new RecordBatchError(`record batch at offset ${info.baseOffset}: ${n} records, header says ${info.recordCount}`);
}
