// One Kafka message → the canonical records inside it, by its headers (DESIGN.md §4):
//   flowgate-framing: raw        the value is one FlowMessage
//   flowgate-framing: delimited  the value is varint-length-prefixed FlowMessages
//   flowgate-schema              must be flowpb.FlowMessage when present (the counters topic,
//                                pointed at by mistake, is counted, not decoded as garbage)
//
// Messages WITHOUT a framing header come from other producers: cloudflare/goflow and
// bwNetFlow write raw messages, goflow2 v2's `bin` format writes length-delimited ones. Both
// are tried, delimited FIRST, each with the strict decoder (flow-decoder.ts):
//   - a raw FlowMessage does not pass as delimited: goflow2, goflow and flowgate write `type`
//     (field 1) first, so a raw value starts 08 0t with t in 1-4; read as delimited that is
//     an 8-byte frame whose first byte 0t is a tag with field number 0, which is invalid
//     (only a record of type FLOWUNKNOWN, where `type` is left out, could be misread);
//   - a delimited value CAN pass as raw by accident: its length prefix read as a tag may be a
//     valid bytes field (0x32 = field 6, src_addr) that swallows the next bytes, and the rest
//     may happen to parse. Trying raw first would then output a garbage record silently.
// A message that decodes neither way is counted as bad, never thrown.

import { decodeFlowRecord } from '../canonical/flow-decoder';
import type { FlowRecord } from '../canonical/flow-record';
import { FRAMING_ABSENT, FRAMING_DELIMITED, FRAMING_RAW, SCHEMA_OTHER, type DumpMessage } from './dump-message';

export type BadReason = 'empty' | 'undecodable' | 'unknown-framing' | 'other-schema';

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

export class MessageDecoder {
  /** Messages that produced no records, by reason. */
  readonly bad: Record<BadReason, number> = { empty: 0, undecodable: 0, 'unknown-framing': 0, 'other-schema': 0 };
  /** Messages without a framing header, by the framing they turned out to have. */
  readonly sniffed = { raw: 0, delimited: 0 };

  /** Appends the message's records to `out`; false (counted in `bad`) when it has none. */
  decode(m: DumpMessage, out: FlowRecord[]): boolean {
    const start = m.valueStart;
    const end = m.valueEnd;
    // A tombstone or an empty value holds no flow (an empty raw value would "decode" to a
    // record with every field zero, which no producer means).
    if (start < 0 || end <= start) return this.fail('empty');
    if (m.schema === SCHEMA_OTHER) return this.fail('other-schema');
    switch (m.framing) {
      case FRAMING_RAW:
        try {
          out.push(decodeFlowRecord(m.data, start, end));
          return true;
        } catch {
          return this.fail('undecodable');
        }
      case FRAMING_DELIMITED:
        return decodeDelimited(m.data, start, end, out) || this.fail('undecodable');
      case FRAMING_ABSENT:
        return this.sniff(m.data, start, end, out);
      default:
        return this.fail('unknown-framing');
    }
  }

  private sniff(b: Uint8Array, start: number, end: number, out: FlowRecord[]): boolean {
    if (decodeDelimited(b, start, end, out)) {
      this.sniffed.delimited++;
      return true;
    }
    try {
      out.push(decodeFlowRecord(b, start, end));
      this.sniffed.raw++;
      return true;
    } catch {
      return this.fail('undecodable');
    }
  }

  private fail(reason: BadReason): false {
    this.bad[reason]++;
    return false;
  }

  badTotal(): number {
    let n = 0;
    for (const v of Object.values(this.bad)) n += v;
    return n;
  }
}
