// The nemea output's own series (docs/METRICS.md). Several nemea outputs share one registry, so a
// series is created once per registry and labelled by output.

import { Counter, Gauge, type Registry } from 'prom-client';

export interface NemeaMetrics {
  droppedContainers: Counter<'output'>;
  droppedRecords: Counter<'output'>;
  refusedClients: Counter<'output'>;
  slowDisconnects: Counter<'output'>;
  badRecords: Counter<'output'>;
  containers: Counter<'output'>;
  records: Counter<'output'>;
  clients: Gauge<'output'>;
}

function counter(registry: Registry, name: string, help: string): Counter<'output'> {
  const m = registry.getSingleMetric(name);
  if (m) return m as Counter<'output'>;
  return new Counter({ name, help, labelNames: ['output'], registers: [registry] });
}

export function nemeaMetrics(registry: Registry): NemeaMetrics {
  const g = registry.getSingleMetric('flowgate_nemea_clients');
  return {
    droppedContainers: counter(registry, 'flowgate_nemea_dropped_containers_total', 'Containers skipped for a slow client (slow_client: drop), summed over clients.'),
    droppedRecords: counter(registry, 'flowgate_nemea_dropped_records_total', 'Records in containers skipped for a slow client, summed over clients.'),
    refusedClients: counter(registry, 'flowgate_nemea_refused_clients_total', 'Connections refused because max_clients were connected.'),
    slowDisconnects: counter(registry, 'flowgate_nemea_slow_disconnects_total', 'Clients disconnected because their queue passed the hard limit (8 x queue_bytes, at least 64 MiB) while the writer ignored backpressure.'),
    badRecords: counter(registry, 'flowgate_nemea_bad_records_total', 'Records that could not be encoded as UniRec (skipped).'),
    containers: counter(registry, 'flowgate_nemea_containers_total', 'Containers (file blocks) produced by the interface.'),
    records: counter(registry, 'flowgate_nemea_records_total', 'Records produced by the interface (sequence number).'),
    clients: g ? (g as Gauge<'output'>) : new Gauge({ name: 'flowgate_nemea_clients', help: 'Modules connected to the interface.', labelNames: ['output'], registers: [registry] }),
  };
}
