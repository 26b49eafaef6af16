// Reads offset ranges with kafkajs' public consumer: a throw-away consumer group
// (`flowgate-dump-<random>`), consumer.seek() to each range's start, autoCommit off (nothing
// is ever committed, so the group leaves no offsets behind and expires on its own), each
// partition paused when it reaches its end, and done when all are.
//
// It costs the group join: a new group waits group.initial.rebalance.delay.ms (Kafka's
// default 3 s; the librdkafka mock's fixed 3 s) before its first fetch. That is why the
// direct-fetch reader is the default; this one is the fallback when kafkajs' internals are not
// available, and `--reader group` selects it by hand.

import { randomUUID } from 'node:crypto';
import type { Batch, Kafka } from 'kafkajs';
import type { PartitionRange } from './offset-plan';
import { fromKafkaMessage } from './dump-message';
import { inRange, quietly, ReadAborted, type BatchHandler, type RangeReader, type ReaderSettings } from './reader';

export class GroupReader implements RangeReader {
  readonly kind = 'group';

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: ReaderSettings,
  ) {}

  async read(topic: string, ranges: readonly PartitionRange[], onBatch: BatchHandler, signal?: AbortSignal): Promise<void> {
    const active = new Map<number, { pos: number; end: number }>();
    for (const r of ranges) if (r.start < r.end) active.set(r.partition, { pos: r.start, end: r.end });
    if (active.size === 0) return;
    const consumer = this.kafka.consumer({
      groupId: `flowgate-dump-${randomUUID()}`,
      maxWaitTimeInMs: this.settings.maxWaitMs,
      maxBytes: this.settings.maxBytes,
      maxBytesPerPartition: this.settings.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      // A crash ends the dump with its error instead of kafkajs restarting the consumer.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    let finish: () => void = () => undefined;
    let fail: (e: unknown) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const advance = (partition: number, next: number): boolean => {
      const p = active.get(partition);
      if (!p) return false;
      p.pos = Math.max(p.pos, next);
      if (p.pos < p.end) return false;
      active.delete(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
      if (active.size === 0) finish();
      return true;
    };
    const onAbort = (): void => fail(new ReadAborted());
    signal?.addEventListener('abort', onAbort);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
      // Batches of only control records or aborted messages never reach eachBatch; their
      // end event still moves the position, so a partition ending in them finishes.
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        if (e.payload.topic === topic && e.payload.lastOffset !== null) advance(e.payload.partition, Number(e.payload.lastOffset) + 1);
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => this.batch(topic, batch, active, onBatch, advance),
      });
      // seek() works only after run(); the group's first fetch comes after its join, seconds later.
      for (const [partition, p] of active) consumer.seek({ topic, partition, offset: String(p.pos) });
      const idle = ranges.filter((r) => r.start >= r.end).map((r) => r.partition);
      if (idle.length) consumer.pause([{ topic, partitions: idle }]);
      await done;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await quietly(consumer.disconnect(), 2_000);
    }
  }

  private async batch(
    topic: string,
    batch: Batch,
    active: Map<number, { pos: number; end: number }>,
    onBatch: BatchHandler,
    advance: (partition: number, next: number) => boolean,
  ): Promise<void> {
    const p = active.get(batch.partition);
    if (batch.topic !== topic || !p || batch.messages.length === 0) return;
    const msgs = inRange(batch.messages.map(fromKafkaMessage), p.pos, p.end);
    const next = Math.min(Number(batch.lastOffset()) + 1, p.end);
    await onBatch({ partition: batch.partition, messages: msgs, next: Math.max(next, p.pos) });
    advance(batch.partition, next);
  }
}
