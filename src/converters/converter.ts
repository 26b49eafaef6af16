// One configured output with its source: Kafka (its own consumer group) when the config has a
// kafka section, else the embedded bus of the same process. Start order: output, then source;
// stop order: source stops fetching, output closes (making everything durable, which commits
// the last offsets), then the consumer leaves its group.

import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { BusLog } from '../bus/bus';
import type { EmbeddedBus } from '../bus/embedded-bus';
import type { GatewayConfig, OutputConfig } from '../config/types';
import type { RateLimitedLog } from '../log/rate-limited';
import { CsvOutput } from '../outputs/csv/csv-output';
import { NemeaOutput } from '../outputs/nemea/nemea-output';
import { Netflow9Output } from '../outputs/netflow9/netflow9-output';
import { PrometheusOutput } from '../outputs/prometheus/prometheus-output';
import { ReduceOutput } from '../outputs/reduce/reduce-output';
import { SplitOutput } from '../outputs/split/split-output';
import { EmbeddedRecordSource } from './embedded-source';
import { KafkaRecordSource, type SourceCounts } from './kafka-source';
import type { FlowOutput } from './output';

/** What an output may use besides its own config section. */
export interface OutputContext {
  log: BusLog;
  /** Rate-limited log for bad records (10 lines per reason per minute, then a summary). */
  badInput: RateLimitedLog;
  /** The process's Prometheus registry, for an output's own series (`flowgate_<type>_...`). */
  registry: Registry;
  /** The whole validated config (kafka settings, client id) for outputs that produce. */
  config: GatewayConfig;
  /** Present when the config has a kafka section: outputs that publish (split, reduce) produce with it. */
  kafka?: Kafka;
}

export function createOutput(c: OutputConfig, ctx: OutputContext): FlowOutput {
  switch (c.type) {
    case 'csv': return new CsvOutput(c, ctx.log);
    case 'nemea': return new NemeaOutput(c, ctx);
    case 'netflow9': return new Netflow9Output(c, ctx);
    case 'prometheus': return new PrometheusOutput(c, ctx);
    case 'split': return new SplitOutput(c, ctx);
    case 'reduce': return new ReduceOutput(c, ctx);
  }
}

export type ConverterSource = { kind: 'kafka'; kafka: Kafka; sessionTimeoutMs: number } | { kind: 'embedded'; bus: EmbeddedBus };

export class Converter {
  readonly output: FlowOutput;
  private kafkaSource: KafkaRecordSource | undefined;
  private embeddedSource: EmbeddedRecordSource | undefined;

  private readonly log: BusLog;

  constructor(readonly config: OutputConfig, private readonly source: ConverterSource, ctx: OutputContext) {
    this.log = ctx.log;
    this.output = createOutput(config, ctx);
  }

  get counts(): SourceCounts {
    return (this.kafkaSource ?? this.embeddedSource)?.counts ?? { messages: 0, records: 0, malformed: 0, committed: 0 };
  }

  async start(): Promise<void> {
    await this.output.start();
    if (this.source.kind === 'kafka') {
      this.kafkaSource = new KafkaRecordSource(this.source.kafka, this.output, this.config.topic, this.config.group_id, this.log, this.source.sessionTimeoutMs);
      await this.kafkaSource.start();
    } else {
      this.embeddedSource = new EmbeddedRecordSource(this.source.bus, this.output, this.config.topic);
    }
    this.log.info({ output: this.output.id, topic: this.config.topic, source: this.source.kind, group: this.source.kind === 'kafka' ? this.config.group_id : undefined }, 'converter: started');
  }

  async stop(): Promise<void> {
    if (this.kafkaSource) await this.kafkaSource.stop();
    await this.output.close();
    if (this.kafkaSource) await this.kafkaSource.disconnect();
    this.log.info({ output: this.output.id, ...this.counts, ...this.output.counts() }, 'converter: stopped');
  }
}
