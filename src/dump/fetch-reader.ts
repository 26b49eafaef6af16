// Reads offset ranges with plain Fetch requests to each partition's leader: no consumer group
// (no 3 s group join, no offsets committed, nothing left on the broker), and responses parsed
// by fetch-response.ts and record-batch.ts instead of kafkajs' per-record decoding. See
// kafkajs-internals.ts for how the requests are sent and why.
//
// Per leader, one request covers all its unfinished partitions. As soon as a response is in
// and its batches are located, the next request goes out, before the records of this one are
// decoded: the broker, the network and the previous response's processing overlap. Within a
// response, batch i+1 is decompressed (zlib runs on libuv's thread pool) while batch i is
// decoded and formatted.
//
// Failures: retriable ones (leader moved, connection lost, request timeout) refresh the
// metadata and continue from the last delivered offset, up to MAX_RETRIES in a row with
// growing pauses; OFFSET_OUT_OF_RANGE (retention deleted the data meanwhile) continues from
// the partition's new first offset, with a note. What the fast parsers leave alone (pre-0.11
// message sets, partitions with aborted transactions) goes through kafkajs' own decoder.

import { fromKafkaMessage, type DumpMessage } from './dump-message';
import { parseFetchResponse, type FetchedPartition } from './fetch-response';
import type { PartitionRange } from './offset-plan';
import { isControlBatch, parseRecords, recordBytes, type RecordBatchInfo } from './record-batch';
import { READ_COMMITTED, type InternalBroker, type InternalCluster, type InternalFetchApi, type KafkajsFetchResponse, type RawFetch } from './kafkajs-internals';
import { inRange, quietly, ReadAborted, sleep, type BatchHandler, type RangeReader, type ReaderSettings } from './reader';

const MAX_RETRIES = 6;
/** Empty responses in a row (partition not at its end) before the partition's byte limit doubles. */
const EMPTY_LIMIT = 3;
const MAX_PARTITION_BYTES = 256 << 20;

interface Position {
  pos: number;
  end: number;
  maxBytes: number;
  empty: number;
}

/** What one response holds for one partition, ready to be decoded and handed on. */
interface Delivery {
  partition: number;
  /** The range that was asked for: [from, end). */
  from: number;
  end: number;
  /** Position after this response (progress once everything is handed on). */
  next: number;
  fast?: { data: Buffer; batches: RecordBatchInfo[] };
  slow?: DumpMessage[];
}

interface Round {
  stopped: boolean;
  progressed: boolean;
}

interface KafkaErrorLike {
  name?: string;
  retriable?: boolean;
  partition?: number;
}

function asKafkaError(e: unknown): KafkaErrorLike {
  return typeof e === 'object' && e !== null ? (e as KafkaErrorLike) : {};
}

export class FetchReader implements RangeReader {
  readonly kind = 'fetch';

  constructor(
    private readonly api: InternalFetchApi,
    private readonly settings: ReaderSettings,
  ) {}

  async read(topic: string, ranges: readonly PartitionRange[], onBatch: BatchHandler, signal?: AbortSignal): Promise<void> {
    const active = new Map<number, Position>();
    for (const r of ranges) if (r.start < r.end) active.set(r.partition, { pos: r.start, end: r.end, maxBytes: this.settings.maxBytesPerPartition, empty: 0 });
    if (active.size === 0) return;
    const cluster = this.api.createCluster();
    try {
      await cluster.connect();
      await cluster.addTargetTopic(topic);
      let failures = 0;
      while (active.size > 0) {
        if (signal?.aborted) throw new ReadAborted();
        const round: Round = { stopped: false, progressed: false };
        const leaders = Object.entries(cluster.findLeaderForPartitions(topic, [...active.keys()]));
        const results = await Promise.allSettled(
          leaders.map(([nodeId, partitions]) => this.leaderLoop(cluster, nodeId, topic, partitions, active, onBatch, round, signal)),
        );
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (!failed) continue;
        if (failed.reason instanceof ReadAborted) throw failed.reason;
        const e = asKafkaError(failed.reason);
        if (round.progressed) failures = 0;
        if (e.name === 'KafkaJSOffsetOutOfRange' && e.partition !== undefined && active.has(e.partition)) {
          await this.outOfRange(e.partition, active);
          continue;
        }
        if (e.retriable !== true && e.name !== 'KafkaJSBrokerNotFound' && e.name !== 'KafkaJSMetadataNotLoaded') throw failed.reason;
        if (++failures > MAX_RETRIES) throw failed.reason;
        await sleep(Math.min(100 * 2 ** failures, 3000));
        // May fail too while the brokers are away; the next round's fetch then fails and counts.
        await cluster.refreshMetadata().catch(() => undefined);
      }
    } finally {
      await quietly(cluster.disconnect(), 1_000);
    }
  }

  private async outOfRange(partition: number, active: Map<number, Position>): Promise<void> {
    const p = active.get(partition) as Position;
    const { low, high } = await this.settings.watermarks(partition);
    if (p.pos < low) {
      this.settings.note(`partition ${partition}: offsets ${p.pos}-${low - 1} were deleted (retention) while dumping; continuing at ${low}`);
      p.pos = low;
    }
    if (p.pos >= Math.min(high, p.end)) active.delete(partition);
  }

  /**
   * Fetches the partitions one leader leads until they are done, or until any loop of this
   * round fails (then all stop, so partitions are regrouped by their current leaders).
   */
  private async leaderLoop(
    cluster: InternalCluster,
    nodeId: string,
    topic: string,
    partitions: readonly number[],
    active: Map<number, Position>,
    onBatch: BatchHandler,
    round: Round,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      const broker = await cluster.findBroker({ nodeId });
      let pending = this.request(broker, topic, partitions, active, round, signal);
      while (pending) {
        const { raw, asked } = await pending;
        const deliveries = await this.locate(raw, topic, asked, active);
        round.progressed ||= deliveries.length > 0;
        pending = this.request(broker, topic, partitions, active, round, signal);
        // A failure below leaves the next request unobserved: keep its rejection quiet.
        pending?.catch(() => undefined);
        for (const d of deliveries) await this.deliver(d, onBatch);
      }
    } catch (e) {
      round.stopped = true;
      throw e;
    }
  }

  private request(
    broker: InternalBroker,
    topic: string,
    partitions: readonly number[],
    active: Map<number, Position>,
    round: Round,
    signal: AbortSignal | undefined,
  ): Promise<{ raw: RawFetch; asked: Map<number, number> }> | undefined {
    if (round.stopped) return undefined;
    if (signal?.aborted) return Promise.reject(new ReadAborted());
    const asked = new Map<number, number>();
    const list: Array<{ partition: number; fetchOffset: string; maxBytes: number }> = [];
    for (const p of partitions) {
      const s = active.get(p);
      if (!s) continue;
      asked.set(p, s.pos);
      list.push({ partition: p, fetchOffset: String(s.pos), maxBytes: s.maxBytes });
    }
    if (list.length === 0) return undefined;
    const maxBytes = Math.max(this.settings.maxBytes, ...list.map((l) => l.maxBytes));
    return this.api
      .fetchRaw(broker, { maxWaitTime: this.settings.maxWaitMs, minBytes: 1, maxBytes, isolationLevel: READ_COMMITTED, topics: [{ topic, partitions: list }] })
      .then((raw) => ({ raw, asked }));
  }

  /**
   * Reads a response's structure (not yet its records), moves each partition's position past
   * what it holds, and returns what is to be handed on. Throws a partition's error.
   */
  private async locate(raw: RawFetch, topic: string, asked: Map<number, number>, active: Map<number, Position>): Promise<Delivery[]> {
    const parsed = parseFetchResponse(raw.payload, raw.version);
    if (parsed.errorCode !== 0) throw this.api.protocolError(parsed.errorCode, topic, -1);
    // Ours: partitions still active at the position they were asked at (else stale).
    const mine = parsed.topics
      .filter((t) => t.topic === topic)
      .flatMap((t) => t.partitions)
      .filter((fp) => {
        const p = active.get(fp.partition);
        return p !== undefined && p.pos === asked.get(fp.partition);
      });
    // Everything that can fail comes before any position moves: a retried fetch must start
    // where the last DELIVERED records end, or records would be skipped.
    for (const fp of mine) if (fp.errorCode !== 0) throw this.api.protocolError(fp.errorCode, topic, fp.partition);
    const slow = mine.some((fp) => fp.legacy || fp.abortedTransactions > 0) ? await raw.kafkajsDecode() : undefined;
    const out: Delivery[] = [];
    for (const fp of mine) {
      const p = active.get(fp.partition) as Position;
      const from = p.pos;
      const d = slow && (fp.legacy || fp.abortedTransactions > 0) ? this.slowPath(slow, topic, fp, p, from) : this.fastPath(fp, p, from);
      if (p.pos >= p.end) active.delete(fp.partition);
      if (d) out.push(d);
    }
    return out;
  }

  private fastPath(fp: FetchedPartition, p: Position, from: number): Delivery | undefined {
    if (fp.batches.length === 0) return this.nothingAt(fp.partition, fp.highWatermark, fp.lastStableOffset, p);
    p.empty = 0;
    // The next offset follows the last complete batch, whatever of it is filtered out below.
    p.pos = Math.max(p.pos, fp.batches[fp.batches.length - 1].lastOffset + 1);
    const batches = fp.batches.filter((b) => !isControlBatch(b) && b.lastOffset >= from && b.baseOffset < p.end);
    return { partition: fp.partition, from, end: p.end, next: Math.min(p.pos, p.end), fast: { data: fp.data, batches } };
  }

  private slowPath(decoded: KafkajsFetchResponse, topic: string, fp: FetchedPartition, p: Position, from: number): Delivery | undefined {
    const part = decoded.responses.find((r) => r.topicName === topic)?.partitions.find((x) => x.partition === fp.partition);
    let msgs = part?.messages ?? [];
    if (msgs.length === 0) return this.nothingAt(fp.partition, fp.highWatermark, fp.lastStableOffset, p);
    p.empty = 0;
    p.pos = Math.max(p.pos, Number(msgs[msgs.length - 1].offset) + 1);
    if (part?.abortedTransactions?.length) msgs = this.api.filterAborted({ messages: msgs, abortedTransactions: part.abortedTransactions });
    const slow = msgs.filter((m) => m.isControlRecord !== true).map(fromKafkaMessage);
    return { partition: fp.partition, from, end: p.end, next: Math.min(p.pos, p.end), slow };
  }

  /** A response with nothing for a partition that is not at its planned end. */
  private nothingAt(partition: number, highWatermark: number, lastStableOffset: number, p: Position): Delivery | undefined {
    const avail = lastStableOffset >= 0 ? Math.min(highWatermark, lastStableOffset) : highWatermark;
    if (p.pos >= avail) {
      // The partition really ends here now: truncated, or an open transaction holds the
      // last stable offset back. Never wait for it.
      const why = lastStableOffset >= 0 && lastStableOffset < highWatermark ? 'an open transaction holds the rest back' : 'the partition ends there now';
      this.settings.note(`partition ${partition}: stopped at offset ${p.pos} before the planned end ${p.end}: ${why}`);
      const planned = p.end;
      p.end = p.pos; // finished: locate() drops it
      return { partition, from: p.pos, end: p.pos, next: planned };
    }
    // The first batch did not fit into the partition's byte limit (brokers before KIP-74).
    if (++p.empty >= EMPTY_LIMIT) {
      if (p.maxBytes >= MAX_PARTITION_BYTES) throw new Error(`partition ${partition}: no data returned at offset ${p.pos} (high watermark ${highWatermark}) even with ${p.maxBytes} bytes per fetch`);
      p.maxBytes *= 2;
      p.empty = 0;
    }
    return undefined;
  }

  /** Decodes a delivery's records and hands them on, batch by batch. */
  private async deliver(d: Delivery, onBatch: BatchHandler): Promise<void> {
    if (d.slow) {
      await onBatch({ partition: d.partition, messages: inRange(d.slow, d.from, d.end), next: d.next });
      return;
    }
    const batches = d.fast?.batches ?? [];
    if (batches.length === 0 || !d.fast) {
      await onBatch({ partition: d.partition, messages: [], next: d.next });
      return;
    }
    const data = d.fast.data;
    let ahead = recordBytes(data, batches[0]);
    for (let i = 0; i < batches.length; i++) {
      const bytes = await ahead;
      if (i + 1 < batches.length) {
        ahead = recordBytes(data, batches[i + 1]);
        ahead.catch(() => undefined); // surfaces when awaited
      }
      const msgs: DumpMessage[] = [];
      parseRecords(bytes.data, bytes.start, bytes.end, batches[i], msgs);
      const last = i === batches.length - 1;
      await onBatch({ partition: d.partition, messages: inRange(msgs, d.from, d.end), next: last ? d.next : Math.min(batches[i].lastOffset + 1, d.end) });
    }
  }
}
