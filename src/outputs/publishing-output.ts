// What the outputs that publish to Kafka topics (split, reduce) share: records are encoded in
// the bus's framing (record-messages.ts), each write() becomes one publisher batch, and the
// FlowOutput's durability, backpressure and close are the publisher's (kafka-publisher.ts).
// Subclasses only decide which topics a record goes to and what it looks like there.

import type { FlowRecord } from '../canonical/flow-record';
import type { OutputContext } from '../converters/converter';
import type { FlowOutput, OutputCounts } from '../converters/output';
import { KafkaPublisher } from './kafka-publisher';
import { RecordMessages, type EncodedRecord } from './record-messages';

export abstract class PublishingOutput implements FlowOutput {
  protected readonly messages: RecordMessages;
  protected readonly publisher: KafkaPublisher;
  private written = 0;
  /** Records that could not be prepared or encoded (skipped, logged rate-limited). */
  badRecords = 0;

  constructor(readonly id: string, protected readonly ctx: OutputContext) {
    const k = ctx.config.kafka;
    if (!ctx.kafka || !k) throw new Error(`${id}: needs a kafka section (it publishes to Kafka topics)`);
    this.messages = new RecordMessages(k.framing, k.key, k.delimited_max_bytes);
    this.publisher = new KafkaPublisher(ctx.kafka, k, ctx.log, id);
  }

  abstract write(records: readonly FlowRecord[]): void;

  /** The record as published; the identity unless the output rewrites records. */
  protected prepare(r: FlowRecord): FlowRecord {
    return r;
  }

  /** Encodes one record, or counts it as bad and returns undefined. */
  protected encode(r: FlowRecord): EncodedRecord | undefined {
    try {
      return this.messages.encode(this.prepare(r));
    } catch (err) {
      this.badRecords++;
      this.ctx.badInput.badInput('unencodable_record', () => (err instanceof Error ? err.message : String(err)), () => ({ output: this.id }));
      return undefined;
    }
  }

  /** Hands what was added since the last batch to the publisher; `records` were taken by write(). */
  protected publishBatch(records: number, copies: Map<string, number>): void {
    this.written += records;
    this.publisher.publish(this.messages.take(), this.written, copies);
  }

  async start(): Promise<void> {}

  counts(): OutputCounts {
    return { written: this.written, durable: this.publisher.durableCount };
  }

  onDurable(listener: (durable: number) => void): void {
    this.publisher.onDurable(listener);
  }

  ready(): Promise<void> {
    return this.publisher.ready();
  }

  close(): Promise<void> {
    return this.publisher.close();
  }
}
