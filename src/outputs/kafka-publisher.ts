// Publishing for outputs that write Kafka topics (split, reduce), at least once: a batch of
// records counts as durable only when Kafka has acknowledged every message of it, and
// `durable` advances over the longest prefix of acknowledged batches (sends run concurrently
// and may complete out of order). The converter commits input offsets only up to `durable`,
// so a crash re-reads (and re-publishes) what was not acknowledged: duplicates are possible,
// loss is not.
//
// Unlike the gateway's bus (kafka-bus.ts) nothing is ever dropped here: the input is already
// in Kafka, so instead of buffering during an outage the publisher applies backpressure
// (ready() waits) and retries the same batch with backoff until it is acknowledged or the
// output closes; what is left unacknowledged at close is simply read again after a restart.

import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { BusLog } from '../bus/bus';
import { compressionType } from '../bus/kafka-client';
import type { KafkaConfig } from '../config/types';
import type { TopicMessages } from './record-messages';

interface Pending {
  /** `written` after this batch: durable may advance to it once acknowledged. */
  end: number;
  topics: TopicMessages[];
  /** Record copies per topic (a message may hold several records). */
  counts: Map<string, number>;
  acked: boolean;
  sending: boolean;
}

export interface PublisherStats {
  /** Messages acknowledged per topic. */
  messagesByTopic: Map<string, number>;
  /** Record copies acknowledged per topic. */
  recordsByTopic: Map<string, number>;
  sendFailures: number;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;
/** Batches waiting beyond which ready() holds the converter back. */
const MAX_PENDING = 16;

export class KafkaPublisher {
  readonly stats: PublisherStats = { messagesByTopic: new Map(), recordsByTopic: new Map(), sendFailures: 0 };
  private readonly producer: Producer;
  private readonly pending: Pending[] = [];
  private inFlight = 0;
  private durable = 0;
  private connected: Promise<void> | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private waiters: Array<() => void> = [];
  private readonly durableListeners: Array<(d: number) => void> = [];

  constructor(kafka: Kafka, private readonly config: KafkaConfig, private readonly log: BusLog, private readonly id: string) {
    this.producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      idempotent: false,
      maxInFlightRequests: config.max_in_flight,
    });
    if (config.acks === 0) {
      log.warn({ output: id }, 'kafka.acks is 0: the broker acknowledges nothing, so this output counts a record durable once sent and a broker failure can lose it; use acks 1 or -1 for at-least-once');
    }
  }

  get durableCount(): number {
    return this.durable;
  }

  onDurable(l: (d: number) => void): void {
    this.durableListeners.push(l);
  }

  /**
   * Queues one batch. `end` is the output's written count after it; `records` maps a topic to the
   * record copies in it (for stats). An empty batch becomes durable in its turn.
   */
  publish(topics: TopicMessages[], end: number, records: Map<string, number>): void {
    const p: Pending = { end, topics, counts: records, acked: topics.every((t) => t.messages.length === 0), sending: false };
    this.pending.push(p);
    if (p.acked) this.advance();
    this.pump();
  }

  /** Resolves when fewer than MAX_PENDING batches wait (backpressure towards the consumer). */
  ready(): Promise<void> {
    if (this.pending.length < MAX_PENDING || this.closed) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** Waits (up to kafka.timeout_ms) for every queued batch to be acknowledged, then disconnects. */
  async close(): Promise<void> {
    const deadline = Date.now() + this.config.timeout_ms;
    while (this.pending.length && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100).unref();
      });
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pending.length) {
      const last = this.pending[this.pending.length - 1].end;
      this.log.warn({ output: this.id, batches: this.pending.length, records: last - this.durable },
        'output: batches unacknowledged at close; their input offsets stay uncommitted and are read again after a restart');
    }
    this.wake();
    await this.producer.disconnect().catch(() => undefined);
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((e: unknown) => {
      this.connected = undefined;
      throw e;
    });
    return this.connected;
  }

  private pump(): void {
    if (this.closed || this.retryTimer) return;
    for (const p of this.pending) {
      if (this.inFlight >= this.config.max_in_flight) break;
      if (p.acked || p.sending) continue;
      this.send(p);
    }
  }

  private send(p: Pending): void {
    p.sending = true;
    this.inFlight++;
    this.connect()
      .then(() => this.producer.sendBatch({
        topicMessages: p.topics.filter((t) => t.messages.length > 0),
        acks: this.config.acks,
        timeout: this.config.timeout_ms,
        compression: compressionType(this.config.compression),
      }))
      .then(
        () => {
          this.inFlight--;
          p.sending = false;
          // After close() the consumer is gone: these offsets stay uncommitted and are read
          // again after a restart (duplicates, never loss).
          if (this.closed) return;
          p.acked = true;
          this.backoffMs = BACKOFF_MIN_MS;
          for (const t of p.topics) {
            this.stats.messagesByTopic.set(t.topic, (this.stats.messagesByTopic.get(t.topic) ?? 0) + t.messages.length);
            this.stats.recordsByTopic.set(t.topic, (this.stats.recordsByTopic.get(t.topic) ?? 0) + (p.counts.get(t.topic) ?? 0));
          }
          this.advance();
          this.pump();
        },
        (e: unknown) => {
          this.inFlight--;
          p.sending = false;
          this.stats.sendFailures++;
          if (this.closed) return;
          this.log.warn({ output: this.id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), retry_ms: this.backoffMs }, 'output: produce failed; retrying the same batch');
          this.retryLater();
        },
      );
  }

  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, wait);
  }

  private advance(): void {
    let moved = false;
    for (let p = this.pending[0]; p?.acked; p = this.pending[0]) {
      this.pending.shift();
      this.durable = p.end;
      moved = true;
    }
    if (moved) {
      for (const l of this.durableListeners) l(this.durable);
      this.wake();
    }
  }

  private wake(): void {
    if (!this.waiters.length) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
