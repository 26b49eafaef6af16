// Field names `keep` accepts: the canonical record's, as `flowgate decode` prints them (the
// three times are *_ns there and in the proto, *_us in memory; see flow-record.ts).

import { newFlowRecord, type FlowRecord } from '../../canonical/flow-record';
import { closest } from '../../config/suggest';

const RECORD_KEYS = Object.keys(newFlowRecord()) as Array<keyof FlowRecord>;

export const KEEPABLE_FIELDS: ReadonlyMap<string, keyof FlowRecord> = new Map(
  RECORD_KEYS.map((k) => [k.endsWith('_us') ? `${k.slice(0, -3)}_ns` : k, k]),
);

/** Problems with a keep list (unknown names), worded for a config error. */
export function checkKeep(keep: readonly string[]): string[] {
  const bad = keep.filter((f) => !KEEPABLE_FIELDS.has(f));
  const known = [...KEEPABLE_FIELDS.keys()];
  return bad.map((f) => {
    const near = closest(f, known);
    return `${JSON.stringify(f)} is not a canonical field name${near ? `; did you mean ${near}?` : ''} (names as \`flowgate decode\` prints them, e.g. src_addr, bytes, time_flow_end_ns)`;
  });
}
