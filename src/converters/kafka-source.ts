// Feeds one output from a Kafka topic through its own consumer group, at least once: a
// message's offset is committed only when every record of it, and of every message before it,
// is durable in the output (OutputCounts.durable). After a crash the group resumes from the
// last commit, so records can repeat (in files that were already renamed) but none is lost.
//
// Bookkeeping: after writing a message's records we remember (partition, offset, written
// count). When the output reports `durable` ≥ that count, the message is safe and its offset
// + 1 is committed (Kafka commits the next offset to read).

import type { Consumer, Kafka } from 'kafkajs';
import type { BusLog } from '../bus/bus';
import type { FlowRecord } from '../canonical/flow-record';
import type { FlowOutput } from './output';
import { recordsOf } from './message-records';

export interface SourceCounts {
  messages: number;
  records: number;
  malformed: number;
  committed: number;
}

/** How often a consumer held back by its output heartbeats (heartbeat() itself sends at most once per interval). */
const READY_HEARTBEAT_MS = 500;

interface Mark {
  offset: string;
  written: number;
}

export class KafkaRecordSource {
  readonly counts: SourceCounts = { messages: 0, records: 0, malformed: 0, committed: 0 };
  private readonly consumer: Consumer;
  private readonly marks = new Map<number, Mark[]>();
  private committing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly output: FlowOutput,
    private readonly topic: string,
    groupId: string,
    private readonly log: BusLog,
    sessionTimeoutMs = 30_000,
    /** How long the broker may hold an empty fetch; also how long disconnect waits. */
    maxWaitMs = 250,
  ) {
    this.consumer = kafka.consumer({
      groupId, maxWaitTimeInMs: maxWaitMs, allowAutoTopicCreation: true, maxBytes: 32 << 20,
      sessionTimeout: sessionTimeoutMs, heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMs / 5)),
    });
    output.onDurable((d) => this.commitUpTo(d));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // A new group starts at the beginning: a converter added later still gets what the topic holds.
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      // Partitions we lost go to another member, which re-reads their uncommitted messages.
      const mine = new Set((e.payload.memberAssignment[this.topic] ?? []) as number[]);
      for (const p of [...this.marks.keys()]) if (!mine.has(p)) this.marks.delete(p);
      this.log.info({ topic: this.topic, output: this.output.id, partitions: [...mine] }, 'converter: partitions assigned');
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const records: FlowRecord[] = [];
        const marks = this.marks.get(batch.partition) ?? [];
        this.marks.set(batch.partition, marks);
        let written = this.output.counts().written;
        for (const m of batch.messages) {
          if (!isRunning() || isStale() || this.stopped) break;
          const before = records.length;
          if (!recordsOf(m.value, m.headers, records)) this.counts.malformed++;
          this.counts.messages++;
          written += records.length - before;
          marks.push({ offset: m.offset, written });
          resolveOffset(m.offset);
        }
        this.counts.records += records.length;
        if (records.length) this.output.write(records);
        // An empty or malformed tail becomes durable with what came before it.
        this.commitUpTo(this.output.counts().durable);
        await heartbeat();
        await this.readyWithHeartbeats(heartbeat);
      },
    });
  }

  /**
   * Waits for the output's backpressure to lift, heartbeating meanwhile: an output may hold back
   * longer than the session timeout (a NEMEA client that stopped reading under slow_client: wait),
   * and a member that stops heartbeating is dropped from the group and stops receiving batches.
   */
  private async readyWithHeartbeats(heartbeat: () => Promise<void>): Promise<void> {
    const ready = this.output.ready();
    let done = false;
    void ready.then(() => { done = true; });
    while (!done) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ready, new Promise<void>((r) => { timer = setTimeout(r, READY_HEARTBEAT_MS); })]);
      clearTimeout(timer);
      if (!done && !this.stopped) await heartbeat();
      if (this.stopped) return;
    }
  }

  /** Stops fetching; the caller then closes the output, whose final onDurable commits the rest. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
  }

  async disconnect(): Promise<void> {
    await this.committing;
    await this.consumer.disconnect();
  }

  private commitUpTo(durable: number): void {
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [partition, marks] of this.marks) {
      let last: Mark | undefined;
      let n = 0;
      while (n < marks.length && marks[n].written <= durable) last = marks[n++];
      if (!last) continue;
      marks.splice(0, n);
      offsets.push({ topic: this.topic, partition, offset: (BigInt(last.offset) + 1n).toString() });
    }
    if (!offsets.length) return;
    // Commits are chained so they reach the broker in order.
    this.committing = this.committing.then(() =>
      this.consumer.commitOffsets(offsets).then(
        () => {
          this.counts.committed += offsets.length;
        },
        (e: unknown) => {
          // Not fatal: the next commit covers these offsets; at worst they are re-read.
          this.log.warn({ topic: this.topic, output: this.output.id, error: e instanceof Error ? e.message : String(e) }, 'converter: offset commit failed');
        },
      ),
    );
  }
}
