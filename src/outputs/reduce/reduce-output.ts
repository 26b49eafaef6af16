// The reduce output: republishes records with only the kept fields (every other field at its
// proto3 default, so absent on the wire) and selected address fields anonymised with keyed
// prefix-preserving Crypto-PAn. Written to the output's `to_topic` (`topic` in the file) in
// the bus's framing; durable once Kafka acknowledged (kafka-publisher.ts).

import { newFlowRecord, type FlowRecord } from '../../canonical/flow-record';
import type { ReduceOutputConfig } from '../../config/types';
import type { OutputContext } from '../../converters/converter';
import type { FlowOutput, OutputCounts } from '../../converters/output';
import { KafkaPublisher } from '../kafka-publisher';
import { RecordMessages } from '../record-messages';
import { one, outputSeries } from '../registry-series';
import { readAnonKey } from './anon-key';
import { CryptoPan } from './crypto-pan';
import { KEEPABLE_FIELDS } from './fields';

type AddressField = { [K in keyof FlowRecord]: FlowRecord[K] extends Uint8Array ? K : never }[keyof FlowRecord];

function copyField<K extends keyof FlowRecord>(dst: FlowRecord, src: FlowRecord, k: K): void {
  dst[k] = src[k];
}

/** Builds reduced copies of records: kept fields only, chosen addresses anonymised. */
export class Reducer {
  private readonly keep: Array<keyof FlowRecord>;
  private readonly anon: AddressField[];

  constructor(keep: readonly string[], anonymize: readonly string[], private readonly pan: CryptoPan | undefined) {
    this.keep = keep.map((f) => {
      const k = KEEPABLE_FIELDS.get(f);
      if (!k) throw new Error(`reduce: unknown field ${f}`);
      return k;
    });
    const sample = newFlowRecord();
    this.anon = anonymize.map((f) => {
      const k = KEEPABLE_FIELDS.get(f);
      if (!k || !(sample[k] instanceof Uint8Array)) throw new Error(`reduce: ${f} is not an address field`);
      return k as AddressField;
    });
  }

  reduce(r: FlowRecord): FlowRecord {
    const out = newFlowRecord();
    for (const k of this.keep) copyField(out, r, k);
    const pan = this.pan;
    if (pan) for (const k of this.anon) out[k] = pan.anonymize(out[k]);
    return out;
  }
}

export class ReduceOutput implements FlowOutput {
  readonly id: string;
  private readonly reducer: Reducer;
  private readonly messages: RecordMessages;
  private readonly publisher: KafkaPublisher;
  private written = 0;
  badRecords = 0;

  constructor(private readonly config: ReduceOutputConfig, private readonly ctx: OutputContext) {
    this.id = `reduce:${config.name}`;
    const k = ctx.config.kafka;
    if (!ctx.kafka || !k) throw new Error(`${this.id}: needs a kafka section (it publishes to a Kafka topic)`);
    let pan: CryptoPan | undefined;
    if (config.anonymize) {
      const key = readAnonKey(config.anonymize.key_file);
      if (typeof key === 'string') throw new Error(`${this.id}: anonymize.key_file ${JSON.stringify(config.anonymize.key_file)} ${key}`);
      pan = new CryptoPan(key);
    }
    this.reducer = new Reducer(config.keep, config.anonymize?.fields ?? [], pan);
    this.messages = new RecordMessages(k.framing, k.key, k.delimited_max_bytes);
    this.publisher = new KafkaPublisher(ctx.kafka, k, ctx.log, this.id);
    const name = config.name;
    outputSeries(ctx.registry, 'counter', 'flowgate_reduce_records_total', 'Reduced records published and acknowledged by Kafka.', [], name,
      () => one(this.publisher.stats.recordsByTopic.get(config.to_topic) ?? 0));
    outputSeries(ctx.registry, 'counter', 'flowgate_reduce_bad_records_total', 'Records that could not be reduced or encoded (skipped).', [], name, () => one(this.badRecords));
    outputSeries(ctx.registry, 'counter', 'flowgate_reduce_send_failures_total', 'Produce requests that failed and were retried.', [], name, () => one(this.publisher.stats.sendFailures));
  }

  async start(): Promise<void> {}

  write(records: readonly FlowRecord[]): void {
    let n = 0;
    for (const r of records) {
      try {
        this.messages.add(this.config.to_topic, this.messages.encode(this.reducer.reduce(r)));
        n++;
      } catch (err) {
        this.badRecords++;
        this.ctx.badInput.badInput('unencodable_record', () => (err instanceof Error ? err.message : String(err)), () => ({ output: this.id }));
      }
    }
    this.written += records.length;
    this.publisher.publish(this.messages.take(), this.written, new Map([[this.config.to_topic, n]]));
  }

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
