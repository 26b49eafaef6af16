// The prometheus output: flow counters in flow-exporter's style (flow_receive_bytes_total,
// ...) on its own HTTP endpoint, so the flow series (up to max_series label sets) are scraped
// separately from the gateway's own health metrics and can be given their own scrape interval.
//
// Durability: the counters live in memory and a write() counts its records at once, so
// everything written is durable immediately (offsets are committed right behind). After a
// restart the counters start from zero, which Prometheus reads as a counter reset.

import { isLoopbackHost } from '../../config/warnings';
import type { FlowRecord } from '../../canonical/flow-record';
import type { PrometheusOutputConfig } from '../../config/types';
import type { OutputContext } from '../../converters/converter';
import type { FlowOutput, OutputCounts } from '../../converters/output';
import { startMetricsServer, type MetricsServer } from '../../metrics/metrics-server';
import { one, outputSeries } from '../registry-series';
import { loadAsNames } from './as-names';
import { CONTENT_TYPE, renderExposition } from './exposition';
import { FlowCounters } from './flow-counters';

export class PrometheusOutput implements FlowOutput {
  readonly id: string;
  private counters: FlowCounters | undefined;
  private server: MetricsServer | undefined;
  private written = 0;
  private readonly listeners: Array<(d: number) => void> = [];

  constructor(private readonly config: PrometheusOutputConfig, private readonly ctx: OutputContext) {
    this.id = `prometheus:${config.name}`;
    const name = config.name;
    const table = () => this.counters?.table;
    outputSeries(ctx.registry, 'gauge', 'flowgate_prometheus_series', 'Flow label sets the prometheus output exposes (at most max_series).', [], name, () => one(table()?.size ?? 0));
    outputSeries(ctx.registry, 'counter', 'flowgate_prometheus_folded_series_total', 'Label sets folded into "other" by the max_series cap.', [], name, () => one(table()?.folded.series ?? 0));
    outputSeries(ctx.registry, 'counter', 'flowgate_prometheus_folded_records_total', 'Records the folded label sets had counted.', [], name, () => one(table()?.folded.records ?? 0));
  }

  /** Where /metrics is served (port 0 in the config → the port the OS chose). */
  get address(): { host: string; port: number } | undefined {
    return this.server?.address;
  }

  async start(): Promise<void> {
    const names = this.config.as_names !== undefined ? loadAsNames(this.config.as_names) : undefined;
    this.counters = new FlowCounters(this.config.labels, this.config.max_series, this.config.direction_by, names);
    const counters = this.counters;
    this.server = await startMetricsServer({ contentType: CONTENT_TYPE, metrics: async () => renderExposition(counters.table, this.config.name) }, this.config.listen);
    this.ctx.log.info({ output: this.id, listen: `${this.server.address.host}:${this.server.address.port}` }, 'prometheus output: serving /metrics');
    if (!isLoopbackHost(this.config.listen.host)) this.ctx.log.warn({ output: this.id, listen: `${this.server.address.host}:${this.server.address.port}` }, 'prometheus output: /metrics is reachable from other machines (listen is not a loopback address)');
  }

  write(records: readonly FlowRecord[]): void {
    const c = this.counters;
    if (!c) return;
    for (const r of records) c.add(r);
    this.written += records.length;
    for (const l of this.listeners) l(this.written);
  }

  counts(): OutputCounts {
    return { written: this.written, durable: this.written };
  }

  onDurable(listener: (durable: number) => void): void {
    this.listeners.push(listener);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }
}
