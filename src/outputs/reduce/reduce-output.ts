// The reduce output: republishes records with only the kept fields (every other field at its
// proto3 default, so absent on the wire) and selected address fields anonymised with keyed
// prefix-preserving Crypto-PAn. Written to the output's `to_topic` (`topic` in the file) in
// the bus's framing; durable once Kafka acknowledged (kafka-publisher.ts).

import { newFlowRecord, type FlowRecord } from '../../canonical/flow-record';
import type { ReduceOutputConfig } from '../../config/types';
import type { OutputContext } from '../../converters/converter';
import { PublishingOutput } from '../publishing-output';
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

export class ReduceOutput extends PublishingOutput {
  private readonly reducer: Reducer;

  constructor(private readonly config: ReduceOutputConfig, ctx: OutputContext) {
    super(`reduce:${config.name}`, ctx);
    let pan: CryptoPan | undefined;
    if (config.anonymize) {
      const key = readAnonKey(config.anonymize.key_file);
      if (typeof key === 'string') throw new Error(`${this.id}: anonymize.key_file ${JSON.stringify(config.anonymize.key_file)} ${key}`);
      pan = new CryptoPan(key);
    }
    this.reducer = new Reducer(config.keep, config.anonymize?.fields ?? [], pan);
    const name = config.name;
    outputSeries(ctx.registry, 'counter', 'flowgate_reduce_records_total', 'Reduced records published and acknowledged by Kafka.', [], name,
      () => one(this.publisher.stats.recordsByTopic.get(config.to_topic) ?? 0));
    outputSeries(ctx.registry, 'counter', 'flowgate_reduce_bad_records_total', 'Records that could not be reduced or encoded (skipped).', [], name, () => one(this.badRecords));
    outputSeries(ctx.registry, 'counter', 'flowgate_reduce_send_failures_total', 'Produce requests that failed and were retried.', [], name, () => one(this.publisher.stats.sendFailures));
  }

  protected override prepare(r: FlowRecord): FlowRecord {
    return this.reducer.reduce(r);
  }

  write(records: readonly FlowRecord[]): void {
    let n = 0;
    for (const r of records) {
      const e = this.encode(r);
      if (!e) continue;
      this.messages.add(this.config.to_topic, e);
      n++;
    }
    this.publishBatch(records.length, new Map([[this.config.to_topic, n]]));
  }
}
