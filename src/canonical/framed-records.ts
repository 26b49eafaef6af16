// The records inside one bus/Kafka message value, by its framing (DESIGN.md §4): `raw` is one
// FlowMessage, `delimited` is varint-length-prefixed FlowMessages. Shared by every reader of the
// flow topic (converters, `flowgate dump`), so they all accept and refuse the same messages.
//
// A value WITHOUT a framing header comes from another producer: cloudflare/goflow and bwNetFlow
// write raw messages, goflow2 v2's `bin` format writes length-delimited ones. Both are tried,
// delimited FIRST, each with the strict decoder (flow-decoder.ts):
//   - a raw FlowMessage does not pass as delimited: goflow2, goflow and flowgate write `type`
//     (field 1) first, so a raw value starts 08 0t with t in 1-4; read as delimited that is
//     an 8-byte frame whose first byte 0t is a tag with field number 0, which is invalid
//     (only a record of type FLOWUNKNOWN, where `type` is left out, could be misread);
//   - a delimited value CAN pass as raw by accident: its length prefix read as a tag may be a
//     valid bytes field (0x32 = field 6, src_addr) that swallows the next bytes, and the rest
//     may happen to parse. Trying raw first would then output a garbage record silently.

import { decodeFlowRecord } from './flow-decoder';
import type { FlowRecord } from './flow-record';

/**
 * Appends the records of b[start, end) read as delimited frames to `out`, or returns false
 * (and appends nothing) when that range is not entirely well-formed delimited FlowMessages.
 */
export function decodeDelimited(b: Uint8Array, start: number, end: number, out: FlowRecord[]): boolean {
  const first = out.length;
  let p = start;
  while (p < end) {
    let len = 0;
    let mul = 1;
    let c: number;
    do {
      if (p >= end || mul > 2 ** 28) return undo(out, first);
      c = b[p++];
      len += (c & 0x7f) * mul;
      mul *= 128;
    } while (c & 0x80);
    if (len > end - p) return undo(out, first);
    try {
      out.push(decodeFlowRecord(b, p, p + len));
    } catch {
      return undo(out, first);
    }
    p += len;
  }
  return true;
}

function undo(out: FlowRecord[], first: number): false {
  out.length = first;
  return false;
}

/** Appends the one raw FlowMessage in b[start, end) to `out`, or returns false. */
export function decodeRaw(b: Uint8Array, start: number, end: number, out: FlowRecord[]): boolean {
  try {
    out.push(decodeFlowRecord(b, start, end));
    return true;
  } catch {
    return false;
  }
}

/** A value without a framing header: delimited if it reads entirely as such, else raw. */
export function decodeUnframed(b: Uint8Array, start: number, end: number, out: FlowRecord[]): 'delimited' | 'raw' | undefined {
  if (decodeDelimited(b, start, end, out)) return 'delimited';
  if (decodeRaw(b, start, end, out)) return 'raw';
  return undefined;
}
