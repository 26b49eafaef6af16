// Records → the SeriesTable: picks the configured label values of a record, classifies its
// direction and adds its bytes/packets times the sampling rate (0 means unsampled: × 1).
// Label names are flow-exporter's, so existing Grafana dashboards work unchanged.

import { FlowDirection, type FlowRecord } from '../../canonical/flow-record';
import type { DirectionBy, PrometheusLabel } from '../../config/types';
import { ipToText } from '../../util/ip';
import { classifier, RECEIVE, TRANSMIT, type Classifier } from './direction';
import { SeriesTable } from './series-table';

type Pick = (r: FlowRecord) => string;

interface Dimension {
  names: string[];
  picks: Pick[];
}

function exporterText(r: FlowRecord): string {
  return ipToText(r.exporter_address.length ? r.exporter_address : r.sampler_address);
}

function asDimension(side: 'source' | 'destination', get: (r: FlowRecord) => number, asNames: ReadonlyMap<number, string> | undefined): Dimension {
  const names = [`${side}_as`];
  const picks: Pick[] = [(r) => String(get(r))];
  if (asNames) {
    names.push(`${side}_as_name`);
    picks.push((r) => asNames.get(get(r)) ?? '');
  }
  return { names, picks };
}

function dimension(label: PrometheusLabel, asNames: ReadonlyMap<number, string> | undefined): Dimension {
  switch (label) {
    case 'exporter': return { names: ['hostname'], picks: [exporterText] };
    case 'src_as': return asDimension('source', (r) => r.src_as, asNames);
    case 'dst_as': return asDimension('destination', (r) => r.dst_as, asNames);
    case 'proto': return { names: ['proto'], picks: [(r) => String(r.proto)] };
    case 'in_if': return { names: ['in_if'], picks: [(r) => String(r.in_if)] };
    case 'out_if': return { names: ['out_if'], picks: [(r) => String(r.out_if)] };
    case 'etype': return { names: ['etype'], picks: [(r) => String(r.etype)] };
    case 'flow_direction': return { names: ['flow_direction'], picks: [(r) => FlowDirection[r.flow_direction] ?? String(r.flow_direction)] };
  }
}

export class FlowCounters {
  readonly table: SeriesTable;
  private readonly picks: Pick[];
  private readonly classify: Classifier;

  constructor(labels: readonly PrometheusLabel[], maxSeries: number, direction: DirectionBy | undefined, asNames?: ReadonlyMap<number, string>) {
    const dims = labels.map((l) => dimension(l, asNames));
    this.picks = dims.flatMap((d) => d.picks);
    this.table = new SeriesTable(dims.flatMap((d) => d.names), maxSeries);
    this.classify = classifier(direction);
  }

  add(r: FlowRecord): void {
    const values = this.picks.map((p) => p(r));
    const row = this.table.row(values.join('\u0000'), () => values);
    const scale = r.sampling_rate > 0 ? r.sampling_rate : 1;
    const bytes = r.bytes * scale;
    const packets = r.packets * scale;
    const dir = this.classify(r);
    row.records++;
    if (dir === 0) {
      row.unBytes += bytes;
      row.unPackets += packets;
      return;
    }
    if (dir & RECEIVE) {
      row.rxBytes += bytes;
      row.rxPackets += packets;
    }
    if (dir & TRANSMIT) {
      row.txBytes += bytes;
      row.txPackets += packets;
    }
  }
}
