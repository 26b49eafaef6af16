// One Kafka message read by `flowgate dump` → the canonical records inside it, by its headers:
// the framing rules are src/canonical/framed-records.ts (shared with the converters); here a
// `flowgate-schema` other than flowpb.FlowMessage (the counters topic, pointed at by mistake)
// and empty values are counted, not decoded as garbage. A message that decodes neither way is
// counted as bad, never thrown.

import { decodeDelimited, decodeRaw, decodeUnframed } from '../canonical/framed-records';
import type { FlowRecord } from '../canonical/flow-record';
import { FRAMING_ABSENT, FRAMING_DELIMITED, FRAMING_RAW, SCHEMA_OTHER, type DumpMessage } from './dump-message';

export type BadReason = 'empty' | 'undecodable' | 'unknown-framing' | 'other-schema';

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
        return decodeRaw(m.data, start, end, out) || this.fail('undecodable');
      case FRAMING_DELIMITED:
        return decodeDelimited(m.data, start, end, out) || this.fail('undecodable');
      case FRAMING_ABSENT:
        return this.sniff(m.data, start, end, out);
      default:
        return this.fail('unknown-framing');
    }
  }

  private sniff(b: Uint8Array, start: number, end: number, out: FlowRecord[]): boolean {
    const framing = decodeUnframed(b, start, end, out);
    if (framing === undefined) return this.fail('undecodable');
    this.sniffed[framing]++;
    return true;
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
