// The production bus: records go to Kafka through kafkajs, batched and compressed.
//
// publish() never blocks the UDP path and never throws. Messages wait in a bounded queue per
// topic (kafka.buffer_max_records / buffer_max_bytes, counting what is in flight too); a
// sender pump takes batches (batch_max_records / batch_max_bytes, or whatever waited
// linger_ms) and keeps up to max_in_flight produce requests going.
//
// Outage: a failed send puts its batch back at the front and the pump backs off (100 ms
// doubling to 5 s) with one probe request at a time; while Kafka is away the queue fills up
// to its limits, then new records are dropped and counted (reason buffer_full). Delivery
// resumes by itself when a probe succeeds. close() delivers what it holds within
// timeout_ms and counts the rest as dropped (reason shutdown).

import type { Kafka, Producer, CompressionTypes, Message } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import type { KafkaConfig } from '../config/types';
import type { Bus, BusLog, BusMessage, BusStats } from './bus';
import { compressionType, createKafka } from './kafka-client';
import { MessageQueue, messageBytes } from './message-queue';

/** What the bus reports as it works; the gateway maps these to Prometheus metrics. */
export interface KafkaBusObserver {
  batchSent(topic: string, records: number, messages: number, seconds: number): void;
  sendFailed(topic: string, error: string): void;
  dropped(reason: 'buffer_full' | 'shutdown', records: number): void;
  connected(up: boolean): void;
}

const NO_OBSERVER: KafkaBusObserver = { batchSent() {}, sendFailed() {}, dropped() {}, connected() {} };
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

export class KafkaBus implements Bus {
  readonly kafka: Kafka;
  private readonly producer: Producer;
  private readonly compression: CompressionTypes;
  private readonly queues = new Map<string, MessageQueue>();
  private readonly counts: BusStats = { accepted: 0, published: 0, dropped: {}, buffered: 0 };
  private bufferedBytes = 0;
  private inFlight = 0;
  private healthy = false;
  /** False until the first connect attempt ends: a failure then must be logged too, although
   * `healthy` was already false (a wrong SASL password or CA would otherwise be silent). */
  private healthKnown = false;
  private connecting: Promise<void> | undefined;
  private producerConnected = false;
  private backoffMs = BACKOFF_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private outageSince = 0;

  constructor(
    private readonly config: KafkaConfig,
    private readonly log: BusLog,
    private readonly observer: KafkaBusObserver = NO_OBSERVER,
    kafka?: Kafka,
  ) {
    this.compression = compressionType(config.compression);
    this.kafka = kafka ?? createKafka(config, log);
    this.producer = this.kafka.producer({
      // Java-compatible murmur2 on the key, round-robin without one; set explicitly so
      // kafkajs does not warn about its v2 partitioner change.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      idempotent: false,
      maxInFlightRequests: config.max_in_flight,
    });
  }

  /** Connects (without failing: an unreachable Kafka at start is an outage like any other). */
  async start(): Promise<void> {
    await this.connect();
  }

  publish(topic: string, messages: readonly BusMessage[]): void {
    if (!messages.length) return;
    let records = 0;
    let bytes = 0;
    for (const m of messages) {
      records += m.records;
      bytes += messageBytes(m);
    }
    if (this.closed || this.closing) {
      this.drop('shutdown', records);
      return;
    }
    let accepted = messages;
    if (this.counts.buffered + records > this.config.buffer_max_records || this.bufferedBytes + bytes > this.config.buffer_max_bytes) {
      // Fill the buffer to its limit, message by message; what does not fit is dropped and
      // counted, so "records lost" is exactly the overflow.
      const fit: BusMessage[] = [];
      let r = this.counts.buffered;
      let b = this.bufferedBytes;
      for (const m of messages) {
        const mb = messageBytes(m);
        if (r + m.records > this.config.buffer_max_records || b + mb > this.config.buffer_max_bytes) break;
        fit.push(m);
        r += m.records;
        b += mb;
      }
      const keptRecords = r - this.counts.buffered;
      this.drop('buffer_full', records - keptRecords);
      if (!fit.length) return;
      accepted = fit;
      records = keptRecords;
      bytes = b - this.bufferedBytes;
    }
    let q = this.queues.get(topic);
    if (!q) {
      q = new MessageQueue();
      this.queues.set(topic, q);
    }
    q.push(accepted, records, bytes, Date.now());
    this.counts.accepted += records;
    this.counts.buffered += records;
    this.bufferedBytes += bytes;
    if (q.records >= this.config.batch_max_records || q.bytes >= this.config.batch_max_bytes) this.pump();
    else this.armLinger();
  }

  stats(): BusStats {
    return { ...this.counts, dropped: { ...this.counts.dropped } };
  }

  get bufferedByteCount(): number {
    return this.bufferedBytes;
  }

  get isHealthy(): boolean {
    return this.healthy;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const deadline = Date.now() + this.config.timeout_ms;
    this.pump();
    while ((this.counts.buffered > 0 || this.inFlight > 0) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
      if (!this.retryTimer) this.pump();
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    let left = 0;
    for (const q of this.queues.values()) left += q.clear();
    if (left > 0) {
      this.log.error({ records: left, timeout_ms: this.config.timeout_ms }, 'kafka: records still undelivered at shutdown; dropped');
      this.counts.buffered -= left;
      this.drop('shutdown', left);
    }
    await this.producer.disconnect().catch(() => undefined);
  }

  private drop(reason: 'buffer_full' | 'shutdown', records: number): void {
    this.counts.dropped[reason] = (this.counts.dropped[reason] ?? 0) + records;
    this.observer.dropped(reason, records);
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.producer.connect().then(
        () => {
          this.connecting = undefined;
          this.producerConnected = true;
          this.setHealthy(true);
          this.pump();
        },
        (e: unknown) => {
          this.connecting = undefined;
          this.setHealthy(false, e);
          this.scheduleRetry();
        },
      );
    }
    return this.connecting;
  }

  private setHealthy(up: boolean, error?: unknown): void {
    if (this.healthKnown && up === this.healthy) return;
    this.healthKnown = true;
    this.healthy = up;
    this.observer.connected(up);
    if (up) {
      this.backoffMs = BACKOFF_MIN_MS;
      if (this.outageSince) {
        this.log.info({ brokers: this.config.brokers, outage_ms: Date.now() - this.outageSince, buffered_records: this.counts.buffered }, 'kafka: reachable again, delivering buffered records');
      } else {
        this.log.info({ brokers: this.config.brokers }, 'kafka: connected');
      }
      this.outageSince = 0;
    } else {
      this.outageSince = Date.now();
      this.log.warn({ brokers: this.config.brokers, error: errorText(error), buffer_max_records: this.config.buffer_max_records },
        'kafka: unreachable; buffering records until it returns');
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump(true);
    }, wait);
  }

  private armLinger(): void {
    if (this.lingerTimer || this.closed) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.pump();
    }, this.config.linger_ms);
  }

  /** Starts sends while there is room in flight. `probe`: after a backoff, try one send. */
  private pump(probe = false): void {
    if (this.closed) return;
    if (this.retryTimer && !probe) return; // backing off
    if (!this.producerConnected) {
      // Never connected yet (Kafka was down at start): connecting is the probe.
      void this.connect();
      return;
    }
    // While Kafka is away, one request at a time finds out whether it is back.
    const limit = this.healthy ? this.config.max_in_flight : 1;
    const now = Date.now();
    let lingering = false;
    for (const [topic, q] of this.queues) {
      while (q.messages > 0 && this.inFlight < limit) {
        const full = q.records >= this.config.batch_max_records || q.bytes >= this.config.batch_max_bytes;
        if (!full && !this.closing && now - q.oldestMs < this.config.linger_ms) {
          lingering = true;
          break;
        }
        const b = q.take(this.config.batch_max_records, this.config.batch_max_bytes);
        if (q.messages > 0) q.oldestMs = Math.min(q.oldestMs, now);
        this.send(topic, b.messages, b.records, b.bytes);
      }
    }
    if (lingering) this.armLinger();
    this.notifyIdle();
  }

  private send(topic: string, messages: BusMessage[], records: number, bytes: number): void {
    this.inFlight++;
    const started = process.hrtime.bigint();
    this.producer
      .send({
        topic,
        messages: messages as unknown as Message[],
        acks: this.config.acks,
        timeout: this.config.timeout_ms,
        compression: this.compression,
      })
      .then(
        () => {
          this.inFlight--;
          this.setHealthy(true);
          this.counts.published += records;
          this.counts.buffered -= records;
          this.bufferedBytes -= bytes;
          this.observer.batchSent(topic, records, messages.length, Number(process.hrtime.bigint() - started) / 1e9);
          this.pump();
        },
        (e: unknown) => {
          this.inFlight--;
          this.observer.sendFailed(topic, errorName(e));
          if (this.closed) {
            this.counts.buffered -= records;
            this.bufferedBytes -= bytes;
            this.drop('shutdown', records);
            this.notifyIdle();
            return;
          }
          let q = this.queues.get(topic);
          if (!q) {
            q = new MessageQueue();
            this.queues.set(topic, q);
          }
          // Back in front, still counted as buffered: nothing is lost by a failed send.
          q.unshift(messages, records, bytes, Date.now());
          this.setHealthy(false, e);
          this.scheduleRetry();
          this.notifyIdle();
        },
      );
  }

  private notifyIdle(): void {
    if (!this.idleWaiters.length) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}

function errorName(e: unknown): string {
  if (e instanceof Error) return e.name || 'Error';
  return 'unknown';
}

function errorText(e: unknown): string | undefined {
  if (e === undefined) return undefined;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
