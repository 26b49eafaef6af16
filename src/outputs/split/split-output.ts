// The split output: routes each record to the topics its rules select (per-customer topics, so
// Kafka ACLs can give each customer only its own flows), re-encoded in the bus's framing.
// Durable once Kafka acknowledged (kafka-publisher.ts); records no rule takes go to
// default_topic, or without one are dropped and counted (flowgate_split_unmatched_records_total).

import type { FlowRecord } from '../../canonical/flow-record';
import type { SplitOutputConfig } from '../../config/types';
import type { OutputContext } from '../../converters/converter';
import type { KafkaPublisher } from '../kafka-publisher';
import { PublishingOutput } from '../publishing-output';
import { one, outputSeries } from '../registry-series';
import { SplitRouter } from './split-rules';

export class SplitOutput extends PublishingOutput {
  private readonly router: SplitRouter;
  /** Records no rule took and no default_topic received. */
  unmatched = 0;

  constructor(config: SplitOutputConfig, ctx: OutputContext) {
    super(`split:${config.name}`, ctx);
    this.router = new SplitRouter(config.rules, config.default_topic);
    const name = config.name;
    outputSeries(ctx.registry, 'counter', 'flowgate_split_records_total', 'Record copies the split output published, acknowledged by Kafka, per topic written.', ['topic'], name,
      () => [...this.publisher.stats.recordsByTopic].map(([topic, v]) => [{ topic }, v] as const));
    outputSeries(ctx.registry, 'counter', 'flowgate_split_unmatched_records_total', 'Records no split rule matched and no default_topic took (dropped).', [], name, () => one(this.unmatched));
    outputSeries(ctx.registry, 'counter', 'flowgate_split_bad_records_total', 'Records that could not be encoded (skipped).', [], name, () => one(this.badRecords));
    outputSeries(ctx.registry, 'counter', 'flowgate_split_send_failures_total', 'Produce requests that failed and were retried.', [], name, () => one(this.publisher.stats.sendFailures));
  }

  get stats(): KafkaPublisher['stats'] {
    return this.publisher.stats;
  }

  write(records: readonly FlowRecord[]): void {
    const copies = new Map<string, number>();
    for (const r of records) {
      const topics = this.router.route(r);
      if (!topics.length) {
        this.unmatched++;
        continue;
      }
      const e = this.encode(r);
      if (!e) continue;
      for (const t of topics) {
        this.messages.add(t, e);
        copies.set(t, (copies.get(t) ?? 0) + 1);
      }
    }
    this.publishBatch(records.length, copies);
  }
}
