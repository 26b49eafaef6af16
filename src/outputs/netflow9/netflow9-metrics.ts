// The netflow9 output's Prometheus series (docs/METRICS.md), labelled by output name. Series
// are created once per registry and shared by every netflow9 output in the process.

import { Counter, Gauge, type Registry } from 'prom-client';

export interface Netflow9Metrics {
  records: Counter<'output'>;
  skipped: Counter<'output' | 'reason'>;
  packets: Counter<'output' | 'target'>;
  bytes: Counter<'output' | 'target'>;
  sendErrors: Counter<'output' | 'target'>;
  templates: Counter<'output'>;
  clamped: Counter<'output'>;
  rebases: Counter<'output'>;
  sources: Gauge<'output'>;
  queued: Gauge<'output'>;
  sourceInfo: Gauge<'output' | 'source_id' | 'exporter' | 'domain'>;
}

function counter<L extends string>(r: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (r.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [r] });
}

function gauge<L extends string>(r: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return (r.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [r] });
}

export function netflow9Metrics(r: Registry): Netflow9Metrics {
  return {
    records: counter(r, 'flowgate_netflow9_records_total', 'Flow records encoded into NetFlow v9 export packets.', ['output']),
    skipped: counter(r, 'flowgate_netflow9_records_skipped_total', 'Records that cannot be said in NetFlow v9, by reason (skipped, logged rate-limited).', ['output', 'reason']),
    packets: counter(r, 'flowgate_netflow9_packets_total', 'Export packets sent, per target.', ['output', 'target']),
    bytes: counter(r, 'flowgate_netflow9_bytes_total', 'Export packet bytes (UDP payload) sent, per target.', ['output', 'target']),
    sendErrors: counter(r, 'flowgate_netflow9_send_errors_total', 'Export packets whose send failed, per target (lost for that target).', ['output', 'target']),
    templates: counter(r, 'flowgate_netflow9_template_refreshes_total', 'Export packets that carried the templates (start, packet count, time).', ['output']),
    clamped: counter(r, 'flowgate_netflow9_values_clamped_total', 'Field values larger than their template field, written as the field maximum.', ['output']),
    rebases: counter(r, 'flowgate_netflow9_uptime_rebases_total', 'Times a source ID\'s sysUptime base moved (older records, or uptime past 2^31 ms).', ['output']),
    sources: gauge(r, 'flowgate_netflow9_sources', 'Source IDs in use.', ['output']),
    queued: gauge(r, 'flowgate_netflow9_queued_packets', 'Export packets waiting for pacing or for their send callbacks.', ['output']),
    sourceInfo: gauge(r, 'flowgate_netflow9_source_info', 'Which original exporter and observation domain each source ID stands for (value 1).', ['output', 'source_id', 'exporter', 'domain']),
  };
}
