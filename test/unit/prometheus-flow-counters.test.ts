// Issue 8 acceptance 4: the max_series cap holds under 100,000 distinct AS pairs, the folded
// count is exposed, folding keeps the totals (sums over a family stay equal to all traffic
// counted) and heavy series survive. Plus direction, sampling and the AS-name file.

import { expect } from 'chai';
import { FlowDirection, newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { FlowCounters } from '../../src/outputs/prometheus/flow-counters';
import { renderExposition } from '../../src/outputs/prometheus/exposition';
import { parseAsNames } from '../../src/outputs/prometheus/as-names';
import { metricSum } from '../support/gateway-harness';
import { prng } from '../support/prng';

function rec(src_as: number, dst_as: number, bytes: number, o: Partial<FlowRecord> = {}): FlowRecord {
  return Object.assign(newFlowRecord(), { src_as, dst_as, bytes, packets: 1, exporter_address: Uint8Array.from([192, 0, 2, 1]) }, o);
}

/** Sample lines of one family in an exposition. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

describe('prometheus output: flow counters', () => {
  it('holds max_series under 100,000 distinct AS pairs, exposes the folded count and keeps every byte', () => {
    const MAX = 10_000;
    const c = new FlowCounters(['exporter', 'src_as', 'dst_as'], MAX, { local_as: [64512] });
    const rand = prng(8);
    let rx = 0;
    let tx = 0;
    // Heavy pairs first: they must outlive the flood of small ones.
    for (let i = 0; i < 5; i++) {
      c.add(rec(100 + i, 64512, 1e9));
      rx += 1e9;
    }
    let maxSeen = 0;
    for (let i = 0; i < 100_000; i++) {
      const bytes = 1 + Math.floor(rand() * 1500);
      // Alternate directions: receive (towards 64512) and transmit (from 64512).
      if (i % 2) {
        c.add(rec(200_000 + i, 64512, bytes));
        rx += bytes;
      } else {
        c.add(rec(64512, 200_000 + i, bytes));
        tx += bytes;
      }
      if (c.table.size > maxSeen) maxSeen = c.table.size;
    }
    expect(maxSeen, 'label sets never exceed max_series').to.be.at.most(MAX);
    const created = 5 + 100_000;
    // Every label set created is either still exposed or folded; "other" is one extra row.
    expect(c.table.folded.series + c.table.size - 1).to.equal(created);
    expect(c.table.folded.series).to.be.greaterThan(90_000);

    const text = renderExposition(c.table, 'flows-prom');
    expect(metricSum(text, 'flowgate_prometheus_folded_series_total', { output: 'flows-prom' })).to.equal(c.table.folded.series);
    expect(metricSum(text, 'flowgate_prometheus_series', { output: 'flows-prom' })).to.equal(c.table.size);
    expect(samples(text, 'flow_receive_bytes_total').length).to.be.at.most(MAX);
    expect(samples(text, 'flow_transmit_bytes_total').length).to.be.at.most(MAX);
    // Folding moves counts into "other": the sums still equal everything counted.
    expect(metricSum(text, 'flow_receive_bytes_total')).to.equal(rx);
    expect(metricSum(text, 'flow_transmit_bytes_total')).to.equal(tx);
    expect(metricSum(text, 'flow_receive_bytes_total', { source_as: 'other', destination_as: 'other', hostname: 'other' })).to.be.greaterThan(0);
    for (let i = 0; i < 5; i++) expect(metricSum(text, 'flow_receive_bytes_total', { source_as: String(100 + i) }), `heavy AS${100 + i}`).to.equal(1e9);
  });

  it('keeps "other" within the cap at the smallest max_series', () => {
    const c = new FlowCounters(['src_as'], 2, undefined);
    for (let i = 0; i < 50; i++) {
      c.add(rec(i, 0, 10 + i));
      expect(c.table.size).to.be.at.most(2);
    }
  });

  it('classifies direction by local AS, local prefixes or the record, and scales by the sampling rate', () => {
    const byAs = new FlowCounters(['src_as', 'dst_as'], 100, { local_as: [64512] });
    byAs.add(rec(1, 64512, 100, { sampling_rate: 10 })); // receive ×10
    byAs.add(rec(64512, 1, 7, { sampling_rate: 0 })); // transmit ×1
    byAs.add(rec(64512, 64512, 3)); // internal: both
    byAs.add(rec(1, 2, 5)); // neither: unclassified
    const t = renderExposition(byAs.table, 'o');
    expect(metricSum(t, 'flow_receive_bytes_total')).to.equal(1000 + 3);
    expect(metricSum(t, 'flow_receive_packets_total')).to.equal(10 + 1);
    expect(metricSum(t, 'flow_transmit_bytes_total')).to.equal(7 + 3);
    expect(metricSum(t, 'flow_unclassified_bytes_total')).to.equal(5);

    const byPrefix = new FlowCounters(['exporter'], 100, { local_prefixes: ['10.0.0.0/8', '2001:db8::/32'] });
    byPrefix.add(rec(0, 0, 11, { src_addr: Uint8Array.from([198, 51, 100, 1]), dst_addr: Uint8Array.from([10, 1, 2, 3]) }));
    byPrefix.add(rec(0, 0, 13, { src_addr: Uint8Array.from([10, 1, 2, 3]), dst_addr: Uint8Array.from([198, 51, 100, 1]) }));
    const t2 = renderExposition(byPrefix.table, 'o');
    expect(metricSum(t2, 'flow_receive_bytes_total', { hostname: '192.0.2.1' })).to.equal(11);
    expect(metricSum(t2, 'flow_transmit_bytes_total', { hostname: '192.0.2.1' })).to.equal(13);

    const byRecord = new FlowCounters(['src_as'], 100, undefined);
    byRecord.add(rec(1, 0, 17, { flow_direction: FlowDirection.INGRESS }));
    byRecord.add(rec(1, 0, 19, { flow_direction: FlowDirection.EGRESS }));
    const t3 = renderExposition(byRecord.table, 'o');
    expect(metricSum(t3, 'flow_receive_bytes_total')).to.equal(17);
    expect(metricSum(t3, 'flow_transmit_bytes_total')).to.equal(19);
  });

  it('labels AS names from the CSV file, escaped for the exposition format', () => {
    const names = parseAsNames('asn,name\n# comment\n64512,Example "Net"\nAS64513,"Other, Inc."\n');
    expect(names.problems).to.deep.equal([]);
    const c = new FlowCounters(['src_as', 'dst_as'], 100, { local_as: [64512] }, names.names);
    c.add(rec(64513, 64512, 5));
    const t = renderExposition(c.table, 'o');
    expect(t).to.include('flow_receive_bytes_total{source_as="64513",source_as_name="Other, Inc.",destination_as="64512",destination_as_name="Example \\"Net\\""} 5');
  });

  it('reports bad AS-name lines with their line numbers', () => {
    const r = parseAsNames('64512,A\nnot-a-number,B\n64513\n64512,C\n');
    expect(r.problems.map((p) => p.line)).to.deep.equal([2, 3, 4]);
  });
});
