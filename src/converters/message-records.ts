// A bus or Kafka message → the canonical records inside it, by its framing header
// (`flowgate-framing: raw|delimited`; without one, src/canonical/framed-records.ts tells them
// apart). Values of another schema (`flowgate-schema`, e.g. the counters topic) and empty
// values hold no flows. A message that does not decode is counted by the caller, not thrown.

import type { FlowRecord } from '../canonical/flow-record';
import { decodeDelimited, decodeRaw, decodeUnframed } from '../canonical/framed-records';
import { HEADER_FRAMING, HEADER_SCHEMA, SCHEMA_NAME } from '../bus/record-framer';

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;
type Headers = Readonly<Record<string, HeaderValue>> | undefined;

function header(headers: Headers, name: string): string | undefined {
  const h = headers?.[name];
  const v = Array.isArray(h) ? h[h.length - 1] : h;
  return v?.toString();
}

/** Appends the message's records to `out`; returns false if it holds none it could read. */
export function recordsOf(value: Buffer | null, headers: Headers, out: FlowRecord[]): boolean {
  if (!value || value.length === 0) return false;
  const schema = header(headers, HEADER_SCHEMA);
  if (schema !== undefined && schema !== SCHEMA_NAME) return false;
  switch (header(headers, HEADER_FRAMING)) {
    case 'raw': return decodeRaw(value, 0, value.length, out);
    case 'delimited': return decodeDelimited(value, 0, value.length, out);
    case undefined: return decodeUnframed(value, 0, value.length, out) !== undefined;
    default: return false;
  }
}
