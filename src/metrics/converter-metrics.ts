// Converter metrics: per output, what it read, wrote, made durable and committed. Pulled from
// the converters' own counters at scrape time (they change per batch, not per datagram).

import { Counter, Gauge, type Registry } from 'prom-client';

export interface ConverterCountsSource {
  readonly name: string;
  readonly type: string;
  counts(): { messages: number; records: number; malformed: number; committed: number; written: number; durable: number };
}

export function registerConverterMetrics(registry: Registry, converters: readonly ConverterCountsSource[]): void {
  const labels = ['output', 'type'] as const;
  // Totals are kept by the converters; these counters mirror them at collect time.
  const mirror = (name: string, help: string, pick: (c: ReturnType<ConverterCountsSource['counts']>) => number): void => {
    const last = new Map<string, number>();
    new Counter({
      name, help, labelNames: labels, registers: [registry],
      collect(this: Counter<'output' | 'type'>) {
        for (const c of converters) {
          const v = pick(c.counts());
          const d = v - (last.get(c.name) ?? 0);
          if (d > 0) this.inc({ output: c.name, type: c.type }, d);
          else this.inc({ output: c.name, type: c.type }, 0);
          last.set(c.name, v);
        }
      },
    });
  };
  mirror('flowgate_converter_messages_total', 'Bus/Kafka messages read by the converter.', (c) => c.messages);
  mirror('flowgate_converter_records_total', 'Canonical records read by the converter and handed to its output.', (c) => c.records);
  mirror('flowgate_converter_malformed_messages_total', 'Messages that did not decode as canonical records (skipped).', (c) => c.malformed);
  mirror('flowgate_converter_commits_total', 'Partition offsets committed after the output made their records durable.', (c) => c.committed);
  new Gauge({
    name: 'flowgate_converter_pending_records', help: 'Records written by the output but not yet durable (open files, unsent datagrams).',
    labelNames: labels, registers: [registry],
    collect(this: Gauge<'output' | 'type'>) {
      for (const c of converters) {
        const k = c.counts();
        this.set({ output: c.name, type: c.type }, k.written - k.durable);
      }
    },
  });
}
