// Prometheus text exposition (format 0.0.4) of the flow counters, written directly: at 10,000
// label sets × 6 families a prom-client Registry would rebuild label objects on every scrape;
// here each row's label text is built once and a scrape is string concatenation.

import type { SeriesRow, SeriesTable } from './series-table';
import { escapeLabelValue } from './series-table';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

interface Family {
  name: string;
  help: string;
  get: (r: SeriesRow) => number;
}

export const FLOW_FAMILIES: readonly Family[] = [
  { name: 'flow_receive_bytes_total', help: 'Bytes received (towards the local network), times the sampling rate.', get: (r) => r.rxBytes },
  { name: 'flow_transmit_bytes_total', help: 'Bytes transmitted (from the local network), times the sampling rate.', get: (r) => r.txBytes },
  { name: 'flow_receive_packets_total', help: 'Packets received (towards the local network), times the sampling rate.', get: (r) => r.rxPackets },
  { name: 'flow_transmit_packets_total', help: 'Packets transmitted (from the local network), times the sampling rate.', get: (r) => r.txPackets },
  { name: 'flow_unclassified_bytes_total', help: 'Bytes of flows neither towards nor from the local network (see direction_by), times the sampling rate.', get: (r) => r.unBytes },
  { name: 'flow_unclassified_packets_total', help: 'Packets of flows neither towards nor from the local network, times the sampling rate.', get: (r) => r.unPackets },
];

export function renderExposition(table: SeriesTable, output: string): string {
  const parts: string[] = [];
  for (const f of FLOW_FAMILIES) {
    parts.push(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} counter\n`);
    // Only label sets that saw traffic in this family, as a CounterVec would show them.
    for (const r of table.rowsInOrder()) {
      const v = f.get(r);
      if (v > 0) parts.push(`${f.name}${r.text} ${v}\n`);
    }
  }
  const o = `{output="${escapeLabelValue(output)}"}`;
  parts.push(
    `# HELP flowgate_prometheus_series Label sets currently exposed (at most max_series, "other" included).\n# TYPE flowgate_prometheus_series gauge\nflowgate_prometheus_series${o} ${table.size}\n`,
    `# HELP flowgate_prometheus_folded_series_total Label sets folded into "other" by the max_series cap.\n# TYPE flowgate_prometheus_folded_series_total counter\nflowgate_prometheus_folded_series_total${o} ${table.folded.series}\n`,
    `# HELP flowgate_prometheus_folded_bytes_total Bytes (scaled) the folded label sets had counted when folded into "other".\n# TYPE flowgate_prometheus_folded_bytes_total counter\nflowgate_prometheus_folded_bytes_total${o} ${table.folded.bytes}\n`,
    `# HELP flowgate_prometheus_folded_records_total Records the folded label sets had counted when folded into "other".\n# TYPE flowgate_prometheus_folded_records_total counter\nflowgate_prometheus_folded_records_total${o} ${table.folded.records}\n`,
  );
  return parts.join('');
}
