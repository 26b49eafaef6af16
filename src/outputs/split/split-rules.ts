// Split rules compiled to predicates. Within one rule every key given must hold; a record goes
// to each topic whose rule holds, once per topic even if several rules name it.
//
// `addr` matches either side and is what "a customer's traffic" usually means: a customer's
// prefix as source (uploads) and as destination (downloads). `src_addr` / `dst_addr` match one
// side only, for the rarer case of splitting by direction.

import type { FlowRecord } from '../../canonical/flow-record';
import type { SplitMatch } from '../../config/types';
import { PrefixSet } from '../prefix';

type Test = (r: FlowRecord) => boolean;

function compile(m: SplitMatch): Test {
  const tests: Test[] = [];
  if (m.addr) {
    const s = PrefixSet.parse(m.addr);
    tests.push((r) => s.has(r.src_addr) || s.has(r.dst_addr));
  }
  if (m.src_addr) {
    const s = PrefixSet.parse(m.src_addr);
    tests.push((r) => s.has(r.src_addr));
  }
  if (m.dst_addr) {
    const s = PrefixSet.parse(m.dst_addr);
    tests.push((r) => s.has(r.dst_addr));
  }
  if (m.exporter) {
    const s = PrefixSet.parse(m.exporter);
    tests.push((r) => s.has(r.exporter_address.length ? r.exporter_address : r.sampler_address));
  }
  if (m.in_if) {
    const s = new Set(m.in_if);
    tests.push((r) => s.has(r.in_if));
  }
  if (m.out_if) {
    const s = new Set(m.out_if);
    tests.push((r) => s.has(r.out_if));
  }
  return (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
}

export class SplitRouter {
  private readonly rules: Array<{ test: Test; topic: string }>;
  private readonly out: string[] = [];

  constructor(rules: ReadonlyArray<{ match: SplitMatch; topic: string }>, private readonly defaultTopic: string | undefined) {
    this.rules = rules.map((r) => ({ test: compile(r.match), topic: r.topic }));
  }

  /** The topics a record goes to (empty: dropped). The array is reused by the next call. */
  route(r: FlowRecord): readonly string[] {
    const out = this.out;
    out.length = 0;
    for (const rule of this.rules) if (!out.includes(rule.topic) && rule.test(r)) out.push(rule.topic);
    if (!out.length && this.defaultTopic !== undefined) out.push(this.defaultTopic);
    return out;
  }
}
