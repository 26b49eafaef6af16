// Offset planning of `dump` (src/dump/offset-plan.ts) against in-memory brokers: one that
// answers ListOffsets by timestamp as Apache Kafka does (earliest offset whose timestamp is >=
// T, or -1), one that answers -1 to everything like the librdkafka mock, one that refuses.
// The property: reading each planned range and keeping the messages whose timestamp is in
// [from, to) yields exactly the messages in the window, whenever no message is more than
// `skew` ms older than one before it in its partition.

import { expect } from 'chai';
import * as fc from 'fast-check';
import { planOffsets, type OffsetAdmin } from '../../src/dump/offset-plan';

type Log = { low: number; timestamps: number[] }; // message at offset low + i has timestamps[i]

/** kafkajs' view of a broker holding `logs` (kafkajs turns a -1 answer into the high watermark). */
function admin(logs: Log[], mode: 'kafka' | 'mock' | 'refuses'): OffsetAdmin {
  const high = (l: Log): number => l.low + l.timestamps.length;
  return {
    fetchTopicOffsets: async () => logs.map((l, partition) => ({ partition, offset: String(high(l)), high: String(high(l)), low: String(l.low) })),
    fetchTopicOffsetsByTimestamp: async (_topic: string, ts?: number) => {
      if (mode === 'refuses') throw new Error('UNSUPPORTED_VERSION');
      return logs.map((l, partition) => {
        const i = mode === 'kafka' ? l.timestamps.findIndex((t) => t >= (ts ?? 0)) : -1;
        return { partition, offset: String(i < 0 ? high(l) : l.low + i) };
      });
    },
  };
}

/** Messages (partition, offset) the dump would output for a plan. */
async function selected(logs: Log[], mode: 'kafka' | 'mock' | 'refuses', from: number, to: number, skew: number): Promise<string[]> {
  const plan = await planOffsets(admin(logs, mode), 't', from, to, skew);
  const out: string[] = [];
  for (const r of plan.ranges) {
    const l = logs[r.partition];
    for (let o = r.start; o < r.end; o++) {
      const t = l.timestamps[o - l.low];
      if (t >= from && t < to) out.push(`${r.partition}:${o}`);
    }
  }
  return out;
}

function expected(logs: Log[], from: number, to: number): string[] {
  const out: string[] = [];
  logs.forEach((l, p) => l.timestamps.forEach((t, i) => {
    if (t >= from && t < to) out.push(`${p}:${l.low + i}`);
  }));
  return out;
}

/** A partition whose CreateTimes rise with jitter: no message more than `skew` older than any before it. */
function logArb(skew: number): fc.Arbitrary<Log> {
  return fc.record({
    low: fc.nat({ max: 50 }),
    steps: fc.array(fc.nat({ max: 40 }), { maxLength: 60 }),
    jitter: fc.array(fc.nat({ max: skew / 2 }), { maxLength: 60 }),
  }).map(({ low, steps, jitter }) => {
    let clock = 1_000;
    // Each message's time is the running clock minus up to skew/2: two such messages differ
    // from the clock order by less than skew.
    return { low, timestamps: steps.map((s, i) => (clock += s) - (jitter[i] ?? 0)) };
  });
}

describe('dump offset planning', () => {
  it('Kafka-like broker: ranges cover exactly the window, for disorder within the skew', async () => {
    const skew = 30;
    await fc.assert(
      fc.asyncProperty(fc.array(logArb(skew), { minLength: 1, maxLength: 4 }), fc.nat({ max: 2500 }), fc.nat({ max: 800 }), async (logs, from, len) => {
        const to = from + len + 1;
        const got = await selected(logs, 'kafka', from, to, skew);
        expect(got).to.deep.equal(expected(logs, from, to));
      }),
      { numRuns: 500 },
    );
  });

  it('Kafka-like broker: reads little more than the window (start at from, end at to + skew)', async () => {
    const timestamps = Array.from({ length: 1000 }, (_, i) => 10_000 + i * 10); // one message per 10 ms
    const plan = await planOffsets(admin([{ low: 0, timestamps }], 'kafka'), 't', 12_000, 13_000, 60);
    expect(plan.ranges[0]).to.include({ start: 200, end: 306, byTimestamp: true });
    expect(plan.total).to.equal(106);
    expect(plan.notes).to.deep.equal([]);
  });

  it('a broker that finds no offset for timestamp 0 (librdkafka mock): whole partitions, with a note', async () => {
    const logs: Log[] = [{ low: 5, timestamps: [100, 300, 200, 400] }, { low: 0, timestamps: [] }, { low: 7, timestamps: [50] }];
    const plan = await planOffsets(admin(logs, 'mock'), 't', 150, 350, 0);
    expect(plan.ranges.map((r) => [r.partition, r.start, r.end, r.byTimestamp])).to.deep.equal([[0, 5, 9, false], [1, 0, 0, true], [2, 7, 8, false]]);
    expect(plan.notes).to.have.length(1);
    expect(plan.notes[0]).to.match(/no offset for timestamp 0 in partitions 0, 2, which hold messages/);
    expect(await selected(logs, 'mock', 150, 350, 0)).to.deep.equal(['0:6', '0:7']);
  });

  it('a broker that refuses timestamp lookups: whole partitions, with a note', async () => {
    const logs: Log[] = [{ low: 0, timestamps: [100, 300, 200, 400] }];
    const plan = await planOffsets(admin(logs, 'refuses'), 't', 150, 350, 0);
    expect(plan.ranges[0]).to.include({ start: 0, end: 4, byTimestamp: false });
    expect(plan.notes[0]).to.match(/refused offsets by timestamp \(UNSUPPORTED_VERSION\)/);
    expect(await selected(logs, 'refuses', 150, 350, 0)).to.deep.equal(['0:1', '0:2']);
  });

  it('a window after all data, and before all data, reads nothing from a Kafka-like broker', async () => {
    const logs: Log[] = [{ low: 0, timestamps: [100, 200, 300] }];
    for (const [from, to] of [[400, 500], [0, 50]]) {
      const plan = await planOffsets(admin(logs, 'kafka'), 't', from, to, 10);
      expect(plan.total, `${from}-${to}`).to.equal(0);
    }
  });
});
