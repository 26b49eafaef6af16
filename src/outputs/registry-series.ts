// An output's own series in the process registry (`flowgate_<type>_...{output=...}`), read from
// the output's counters at scrape time. Several outputs of one type share a metric name, so the
// metric is created once per registry and its collect() asks every output that registered.

import { Counter, Gauge, type Registry } from 'prom-client';

export type Samples = ReadonlyArray<readonly [Record<string, string>, number]>;

interface Entry {
  sources: Map<string, () => Samples>;
}

const perRegistry = new WeakMap<Registry, Map<string, Entry>>();

/**
 * Registers `read` as output `output`'s samples of metric `name` (labels: output + `labels`).
 * Counters mirror monotonic totals kept by the output.
 */
export function outputSeries(registry: Registry, kind: 'counter' | 'gauge', name: string, help: string, labels: readonly string[], output: string, read: () => Samples): void {
  let metrics = perRegistry.get(registry);
  if (!metrics) {
    metrics = new Map();
    perRegistry.set(registry, metrics);
  }
  let entry = metrics.get(name);
  if (!entry) {
    const e: Entry = { sources: new Map() };
    entry = e;
    metrics.set(name, e);
    const labelNames = ['output', ...labels];
    if (kind === 'gauge') {
      new Gauge({
        name, help, labelNames, registers: [registry],
        collect(this: Gauge<string>) {
          for (const [out, f] of e.sources) for (const [l, v] of f()) this.set({ ...l, output: out }, v);
        },
      });
    } else {
      const last = new Map<string, number>();
      new Counter({
        name, help, labelNames, registers: [registry],
        collect(this: Counter<string>) {
          for (const [out, f] of e.sources) {
            for (const [l, v] of f()) {
              const key = JSON.stringify([out, l]);
              const d = v - (last.get(key) ?? 0);
              this.inc({ ...l, output: out }, d > 0 ? d : 0);
              last.set(key, Math.max(v, last.get(key) ?? 0));
            }
          }
        },
      });
    }
  }
  entry.sources.set(output, read);
}

/** One unlabelled sample. */
export const one = (v: number): Samples => [[{}, v]];
