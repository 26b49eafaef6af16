// Which offsets of each partition `dump` reads for a time window [from, to).
//
// Kafka answers "the earliest offset whose timestamp is >= T" (ListOffsets by timestamp); every
// message before that offset has a timestamp < T. So, per partition, with the high watermark
// H taken once at the start (a dump never waits for data that arrives later):
//   start = offsetFor(from)                 nothing before it can be in the window
//   end   = min(offsetFor(to + skew), H)    CreateTime is set by producers and is not
//                                           monotonic within a partition: a message in the
//                                           window may sit after one stamped later than `to`.
//                                           Reading on until `to + skew` catches messages up to
//                                           `skew` ms out of order; later stragglers are missed.
// Every message read is then tested against [from, to) by its own timestamp, so the output is
// exact within those limits. (kafkajs reports "no such offset" (-1) as the high watermark.)
//
// Brokers that cannot look up by timestamp. librdkafka's mock cluster (our test broker)
// answers every timestamp lookup with -1, which kafkajs turns into the high watermark: taken
// at face value, every window would look empty. A real broker's lookup for timestamp 0 returns
// the partition's first offset (every message has a timestamp >= 0), so a partition that holds
// messages but answers "none" for timestamp 0 cannot be trusted, and is read whole, from its
// first offset to H, with the per-message test doing all the selecting. The same fallback
// covers a broker that rejects the lookup outright. The plan's notes say when this happened.

import type { Admin } from 'kafkajs';

export type OffsetAdmin = Pick<Admin, 'fetchTopicOffsets' | 'fetchTopicOffsetsByTimestamp'>;

export interface PartitionRange {
  partition: number;
  /** First offset to read. */
  start: number;
  /** First offset NOT to read (exclusive); start === end when there is nothing to read. */
  end: number;
  /** Partition's first offset and high watermark when the plan was made. */
  low: number;
  high: number;
  /** False when the broker's timestamp lookup was not usable and the whole partition is read. */
  byTimestamp: boolean;
}

export interface OffsetPlan {
  ranges: PartitionRange[];
  /** Offsets to read over all partitions (the progress bar's 100 %). */
  total: number;
  /** Things the user should know (fallbacks taken). */
  notes: string[];
}

function toMap(entries: Array<{ partition: number; offset: string }>): Map<number, number> {
  return new Map(entries.map((e) => [e.partition, Number(e.offset)]));
}

export async function planOffsets(admin: OffsetAdmin, topic: string, fromMs: number, toMs: number, skewMs: number): Promise<OffsetPlan> {
  const marks = await admin.fetchTopicOffsets(topic);
  const notes: string[] = [];
  let byTime: { from: Map<number, number>; end: Map<number, number>; zero: Map<number, number> } | undefined;
  try {
    const [from, end, zero] = await Promise.all([
      admin.fetchTopicOffsetsByTimestamp(topic, fromMs),
      admin.fetchTopicOffsetsByTimestamp(topic, toMs + skewMs),
      admin.fetchTopicOffsetsByTimestamp(topic, 0),
    ]);
    byTime = { from: toMap(from), end: toMap(end), zero: toMap(zero) };
  } catch (e) {
    notes.push(`the broker refused offsets by timestamp (${e instanceof Error ? e.message : String(e)}); reading every partition whole and selecting by message timestamp`);
  }
  const untrusted: number[] = [];
  const ranges = marks
    .map((m): PartitionRange => {
      const low = Number(m.low);
      const high = Number(m.high);
      if (high <= low) return { partition: m.partition, start: high, end: high, low, high, byTimestamp: true };
      const zero = byTime?.zero.get(m.partition);
      if (byTime === undefined || zero === undefined || zero >= high) {
        if (byTime) untrusted.push(m.partition);
        return { partition: m.partition, start: low, end: high, low, high, byTimestamp: false };
      }
      const end = Math.min(byTime.end.get(m.partition) ?? high, high);
      const start = Math.min(Math.max(byTime.from.get(m.partition) ?? high, low), end);
      return { partition: m.partition, start, end, low, high, byTimestamp: true };
    })
    .sort((a, b) => a.partition - b.partition);
  if (untrusted.length) {
    notes.push(
      `the broker found no offset for timestamp 0 in partition${untrusted.length > 1 ? 's' : ''} ${untrusted.join(', ')}, which hold messages: ` +
        'it does not look up offsets by timestamp (the librdkafka mock cluster does not); reading them whole and selecting by message timestamp',
    );
  }
  return { ranges, total: ranges.reduce((n, r) => n + (r.end - r.start), 0), notes };
}
