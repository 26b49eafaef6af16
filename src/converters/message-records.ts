// A bus or Kafka message → the canonical records inside it, by its framing header
// (`flowgate-framing: raw|delimited`). Messages without the header are read as raw, which is
// what goflow2-style producers send. A message that does not decode is counted, not thrown.

import type { FlowRecord } from '../canonical/flow-record';
import { decodeFlowRecord } from '../canonical/flow-decoder';
import { HEADER_FRAMING, splitDelimited } from '../bus/record-framer';

export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

export function framingOf(headers: Readonly<Record<string, HeaderValue>> | undefined): 'raw' | 'delimited' {
  const h = headers?.[HEADER_FRAMING];
  const v = Array.isArray(h) ? h[h.length - 1] : h;
  return v !== undefined && v.toString() === 'delimited' ? 'delimited' : 'raw';
}

/** Appends the message's records to `out`; returns false if the message is malformed. */
export function recordsOf(value: Buffer | null, headers: Readonly<Record<string, HeaderValue>> | undefined, out: FlowRecord[]): boolean {
  if (!value) return false;
  try {
    if (framingOf(headers) === 'delimited') {
      for (const part of splitDelimited(value)) out.push(decodeFlowRecord(part));
    } else {
      out.push(decodeFlowRecord(value));
    }
    return true;
  } catch {
    return false;
  }
}
