// Feeds one output from the embedded bus (no Kafka): the same decoded records, no offsets.
// Durability still matters at shutdown: the output is closed after the bus has drained.

import type { EmbeddedBus } from '../bus/embedded-bus';
import type { FlowRecord } from '../canonical/flow-record';
import type { FlowOutput } from './output';
import { recordsOf } from './message-records';
import type { SourceCounts } from './kafka-source';

export class EmbeddedRecordSource {
  readonly counts: SourceCounts = { messages: 0, records: 0, malformed: 0, committed: 0 };

  constructor(bus: EmbeddedBus, private readonly output: FlowOutput, topic: string) {
    bus.subscribe((t, msgs) => {
      if (t !== topic) return;
      const records: FlowRecord[] = [];
      for (const m of msgs) {
        this.counts.messages++;
        if (!recordsOf(m.value, m.headers, records)) this.counts.malformed++;
      }
      this.counts.records += records.length;
      if (records.length) this.output.write(records);
    });
  }
}
