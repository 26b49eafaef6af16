// The netflow9 output's Prometheus series (docs/METRICS.md), labelled by output name. The
// output counts in plain numbers on its hot path (a labelled prom-client inc() costs about a
// microsecond, per packet that was a quarter of the send budget); the series read those
// counts at scrape time. Created once per registry, shared by every netflow9 output in it.

import { Counter, Gauge, type Registry } from 'prom-client';

/** What one output exposes; read at scrape time. */
export interface Netflow9Counts {
  readonly name: string;
  records: number;
  readonly skipped: Map<string, number>;
  /** Per target (config text): packets, bytes, send errors. */
  readonly targets: ReadonlyArray<{ text: string; packets: number; bytes: number; errors: number }>;
  templatePackets: number;
  clamped: number;
  rebases(): number;
  sources(): number;
  queued(): number;
  readonly sourceInfo: Array<{ id: number; exporter: string; domain: number }>;
}

interface Series {
  outputs: Set<Netflow9Counts>;
}

const byRegistry = new WeakMap<Registry, Series>();

function mirror(registry: Registry, series: Series, name: string, help: string, labelNames: string[], read: (o: Netflow9Counts) => Array<[Record<string, string>, number]>): void {
  const last = new Map<string, number>();
  new Counter({
    name, help, labelNames, registers: [registry],
    collect(this: Counter<string>) {
      for (const o of series.outputs) {
        for (const [labels, v] of read(o)) {
          const k = JSON.stringify(labels);
          const d = v - (last.get(k) ?? 0);
          this.inc(labels, d > 0 ? d : 0);
          last.set(k, v);
        }
      }
    },
  });
}

function gauge(registry: Registry, series: Series, name: string, help: string, labelNames: string[], read: (o: Netflow9Counts) => Array<[Record<string, string>, number]>): void {
  new Gauge({
    name, help, labelNames, registers: [registry],
    collect(this: Gauge<string>) {
      for (const o of series.outputs) for (const [labels, v] of read(o)) this.set(labels, v);
    },
  });
}

function create(r: Registry): Series {
  const s: Series = { outputs: new Set() };
  const out = (o: Netflow9Counts): Record<string, string> => ({ output: o.name });
  const perTarget = (pick: (t: Netflow9Counts['targets'][number]) => number) => (o: Netflow9Counts): Array<[Record<string, string>, number]> =>
    o.targets.map((t) => [{ output: o.name, target: t.text }, pick(t)]);
  mirror(r, s, 'flowgate_netflow9_records_total', 'Flow records encoded into NetFlow v9 export packets.', ['output'], (o) => [[out(o), o.records]]);
  mirror(r, s, 'flowgate_netflow9_records_skipped_total', 'Records that cannot be said in NetFlow v9, by reason (skipped, logged rate-limited).', ['output', 'reason'],
    (o) => [...o.skipped].map(([reason, n]) => [{ output: o.name, reason }, n]));
  mirror(r, s, 'flowgate_netflow9_packets_total', 'Export packets sent, per target.', ['output', 'target'], perTarget((t) => t.packets));
  mirror(r, s, 'flowgate_netflow9_bytes_total', 'Export packet bytes (UDP payload) sent, per target.', ['output', 'target'], perTarget((t) => t.bytes));
  mirror(r, s, 'flowgate_netflow9_send_errors_total', 'Export packets whose send failed, per target (lost for that target).', ['output', 'target'], perTarget((t) => t.errors));
  mirror(r, s, 'flowgate_netflow9_template_refreshes_total', 'Export packets that carried the templates (start, packet count, time).', ['output'], (o) => [[out(o), o.templatePackets]]);
  mirror(r, s, 'flowgate_netflow9_values_clamped_total', 'Field values larger than their template field, written as the field maximum.', ['output'], (o) => [[out(o), o.clamped]]);
  mirror(r, s, 'flowgate_netflow9_uptime_rebases_total', 'Times a source ID\'s sysUptime base moved (older records, or uptime past 2^31 ms).', ['output'], (o) => [[out(o), o.rebases()]]);
  gauge(r, s, 'flowgate_netflow9_sources', 'Source IDs in use.', ['output'], (o) => [[out(o), o.sources()]]);
  gauge(r, s, 'flowgate_netflow9_queued_packets', 'Export packets waiting for pacing or for their send callbacks.', ['output'], (o) => [[out(o), o.queued()]]);
  gauge(r, s, 'flowgate_netflow9_source_info', 'Which original exporter (address:port) and observation domain each source ID stands for (value 1).', ['output', 'source_id', 'exporter', 'domain'],
    (o) => o.sourceInfo.map((i) => [{ output: o.name, source_id: String(i.id), exporter: i.exporter, domain: String(i.domain) }, 1]));
  return s;
}

/** Exposes an output's counts in `registry` until unregister() is called. */
export function registerNetflow9(registry: Registry, counts: Netflow9Counts): { unregister(): void } {
  let s = byRegistry.get(registry);
  if (!s) byRegistry.set(registry, (s = create(registry)));
  const series = s;
  series.outputs.add(counts);
  return { unregister: () => series.outputs.delete(counts) };
}
