// One configured output with its source: Kafka (its own consumer group) when the config has a
// kafka section, else the embedded bus of the same process. Start order: output, then source;
// stop order: source stops fetching, output closes (making everything durable, which commits
// the last offsets), then the consumer leaves its group.

import type { Kafka } from 'kafkajs';
import type { BusLog } from '../bus/bus';
import type { EmbeddedBus } from '../bus/embedded-bus';
import type { OutputConfig } from '../config/types';
import { CsvOutput } from '../outputs/csv/csv-output';
import { EmbeddedRecordSource } from './embedded-source';
import { KafkaRecordSource, type SourceCounts } from './kafka-source';
import type { FlowOutput } from './output';

export function createOutput(c: OutputConfig, log: BusLog): FlowOutput {
  switch (c.type) {
    case 'csv': return new CsvOutput(c, log);
  }
}

export type ConverterSource = { kind: 'kafka'; kafka: Kafka; sessionTimeoutMs: number } | { kind: 'embedded'; bus: EmbeddedBus };

export class Converter {
  readonly output: FlowOutput;
  private kafkaSource: KafkaRecordSource | undefined;
  private embeddedSource: EmbeddedRecordSource | undefined;

  constructor(readonly config: OutputConfig, private readonly source: ConverterSource, private readonly log: BusLog) {
    this.output = createOutput(config, log);
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
