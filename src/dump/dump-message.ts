// One Kafka message as `dump` needs it: offset, timestamp, where its value lies, and what its
// two flowgate headers say, already classified. Values are byte ranges of a larger buffer
// (a decompressed record batch) rather than Buffers of their own, and headers are small codes
// rather than objects with string keys: making a Buffer view and a header object per message
// is what kafkajs spends most of its per-message time on (profiled: ~6 µs of kafkajs decoding
// per raw message, more than decoding and formatting the flow record itself).

import type { KafkaMessage } from 'kafkajs';
import { HEADER_FRAMING, HEADER_SCHEMA, SCHEMA_NAME } from '../bus/record-framer';

/** flowgate-framing header: absent, raw, delimited, or some other value. */
export const FRAMING_ABSENT = 0;
export const FRAMING_RAW = 1;
export const FRAMING_DELIMITED = 2;
export const FRAMING_OTHER = 3;
/** flowgate-schema header: absent, flowpb.FlowMessage, or some other schema. */
export const SCHEMA_ABSENT = 0;
export const SCHEMA_FLOW = 1;
export const SCHEMA_OTHER = 2;

export interface DumpMessage {
  offset: number;
  /** Milliseconds since the epoch (CreateTime or LogAppendTime, as the topic says). */
  timestamp: number;
  /** The value is data[valueStart, valueEnd); valueStart -1 for a null value (tombstone). */
  data: Uint8Array;
  valueStart: number;
  valueEnd: number;
  framing: number;
  schema: number;
}

const FRAMING_KEY = Buffer.from(HEADER_FRAMING);
const SCHEMA_KEY = Buffer.from(HEADER_SCHEMA);
const RAW = Buffer.from('raw');
const DELIMITED = Buffer.from('delimited');
const SCHEMA = Buffer.from(SCHEMA_NAME);

function sameBytes(b: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (b[start + i] !== want[i]) return false;
  return true;
}

/** Which flowgate header a header key b[start, end) is: 1 framing, 2 schema, 0 neither. */
export function headerKind(b: Uint8Array, start: number, end: number): number {
  if (sameBytes(b, start, end, FRAMING_KEY)) return 1;
  if (sameBytes(b, start, end, SCHEMA_KEY)) return 2;
  return 0;
}

export function framingCode(b: Uint8Array, start: number, end: number): number {
  if (sameBytes(b, start, end, RAW)) return FRAMING_RAW;
  if (sameBytes(b, start, end, DELIMITED)) return FRAMING_DELIMITED;
  return FRAMING_OTHER;
}

export function schemaCode(b: Uint8Array, start: number, end: number): number {
  return sameBytes(b, start, end, SCHEMA) ? SCHEMA_FLOW : SCHEMA_OTHER;
}

type HeaderValue = NonNullable<KafkaMessage['headers']>[string];

function headerBytes(h: HeaderValue): Buffer | undefined {
  const v: unknown = Array.isArray(h) ? h[h.length - 1] : h;
  // kafkajs gives null for a header whose value is null on the wire (its types omit it).
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? Buffer.from(v) : (v as Buffer);
}

/** A kafkajs message (consumer-group reader, unusual fetch responses) in dump's form. */
export function fromKafkaMessage(m: KafkaMessage): DumpMessage {
  const f = m.headers ? headerBytes(m.headers[HEADER_FRAMING]) : undefined;
  const s = m.headers ? headerBytes(m.headers[HEADER_SCHEMA]) : undefined;
  const value = m.value;
  return {
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    data: value ?? RAW,
    valueStart: value ? 0 : -1,
    valueEnd: value ? value.length : -1,
    framing: f === undefined ? FRAMING_ABSENT : framingCode(f, 0, f.length),
    schema: s === undefined ? SCHEMA_ABSENT : schemaCode(s, 0, s.length),
  };
}
