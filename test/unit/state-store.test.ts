// Template/sampling state survives a restart through the state file: learned from real
// datagrams, saved atomically, restored into a fresh decoder that then decodes data-only
// datagrams at once.

import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { FileStateStore } from '../../src/state/file-state-store';
import type { Kafka } from 'kafkajs';
import type { Bus, BusMessage } from '../../src/bus/bus';
import { exporterStates, parseExporterState, restoreStates, type ExporterState } from '../../src/state/state-snapshot';
import { StateKeeper } from '../../src/state/state-keeper';
import { makeExporter } from '../../src/util/ip';
import { readCaptureFile } from '../../src/pcap/reader';
import { hasTemplateSet } from '../support/gateway-harness';
import { ExporterOptions } from '../../src/decode/exporter-options';

const FIXTURES = path.resolve(__dirname, '../../../fixtures');

describe('state file', () => {
  for (const file of ['softflowd-v9.pcap', 'pmacct-ipfix-sampled.pcap', 'pmacct-v9-sampled.pcap']) {
    it(`${file}: a decoder restored from the file decodes without seeing a template`, () => {
      const cap = readCaptureFile(path.join(FIXTURES, file));
      const first = new DatagramDecoder();
      const all = cap.datagrams.map((d) => ({ d, ex: makeExporter(d.srcAddr, d.srcPort) }));
      const expected = all.map(({ d, ex }) => first.decode(d.payload, ex, d.timestampUs).flows);
      const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-state-'));
      const store = new FileStateStore(dir);
      store.save(exporterStates(first.state).values());
      expect(readdirSync(dir)).to.deep.equal(['templates.json']); // no temp file left behind

      const second = new DatagramDecoder();
      const loaded = store.load();
      expect(loaded.rejected).to.deep.equal([]);
      const n = restoreStates(second.state, loaded.docs);
      expect(n).to.equal(first.state.templates.size);
      // Data-only datagrams again: every record decodes at once, with the same sampling. A
      // decoder without the restored state holds them instead (so the check has teeth).
      const dataOnly = [...all.entries()].filter(([, { d }]) => !hasTemplateSet(d.payload));
      expect(dataOnly.length).to.be.greaterThan(0);
      const [, probe] = dataOnly[0];
      expect(new DatagramDecoder().decode(probe.d.payload, probe.ex, probe.d.timestampUs).errors.map((e) => e.reason)).to.include('template_missing');
      let records = 0;
      for (const [i, { d, ex }] of dataOnly) {
        const out = second.decode(d.payload, ex, d.timestampUs);
        records += out.flows.length;
        expect(out.errors.filter((e) => e.reason === 'template_missing')).to.deep.equal([]);
        expect(out.flows.map((f) => [f.bytes, f.packets, f.sampling_rate])).to.deep.equal(expected[i].map((f) => [f.bytes, f.packets, f.sampling_rate]));
      }
      expect(records).to.be.greaterThan(0);
    });
  }

  it('a missing file is empty state; a corrupt one is a clear error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-state-'));
    const store = new FileStateStore(dir);
    expect(store.load().docs).to.deep.equal([]);
    writeFileSync(path.join(dir, 'templates.json'), '{ not json');
    expect(() => store.load()).to.throw(/templates\.json: not JSON.*move it away/);
    writeFileSync(path.join(dir, 'templates.json'), JSON.stringify({ format: 'flowgate-state/1', exporters: [{ format: 'x' }] }));
    expect(store.load().rejected).to.have.length(1);
    expect(existsSync(path.join(dir, 'templates.json'))).to.equal(true);
  });
});

describe('options state changes', () => {
  it('count a new or different sampling rate or init time, not a repeat (the keeper saves on change)', () => {
    const o = new ExporterOptions();
    o.apply('192.0.2.1|2055', 0, new Map([[34, 100]]));
    o.apply('192.0.2.1|2055', 0, new Map([[34, 100]]));
    expect(o.changes).to.equal(1);
    o.apply('192.0.2.1|2055', 0, new Map([[34, 200]]));
    o.apply('192.0.2.1|2055', 0, new Map([[48, 3], [34, 200]]));
    o.apply('192.0.2.1|2055', 0, new Map([[160, 1_700_000_000_000]]));
    o.apply('192.0.2.1|2055', 0, new Map([[160, 1_700_000_000_000]]));
    expect(o.changes).to.equal(4);
  });
});

describe('sequence numbers across a restart (saved at shutdown, used once)', () => {
  const NO_LOG = { debug() {}, info() {}, warn() {}, error() {} };

  // Per protocol: the gap a decoder that never restarted reports when `lost` datagrams are
  // missing, and the same for a first decoder + a second restored from the shutdown state.
  for (const file of ['softflowd-v5.pcap', 'softflowd-v9.pcap', 'pmacct-ipfix-sampled.pcap', 'pmacct-sflow.pcap']) {
    it(`${file}: the gap across the restart is the gap a gateway that never stopped reports`, async () => {
      const cap = readCaptureFile(path.join(FIXTURES, file));
      const all = cap.datagrams.map((d) => ({ d, ex: makeExporter(d.srcAddr, d.srcPort) }));
      const cut = Math.floor(all.length / 2);
      const lost = new Set([cut, cut + 1, cut + 2]); // sent while no gateway listened
      const gaps = (dec: DatagramDecoder, items: typeof all): number =>
        items.reduce((sum, { d, ex }) => sum + dec.decode(d.payload, ex, d.timestampUs).sequenceGap, 0);
      const kept = all.filter((_, i) => !lost.has(i));
      const continuous = gaps(new DatagramDecoder(), kept);
      const baseline = gaps(new DatagramDecoder(), all);

      const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-state-'));
      const first = new DatagramDecoder();
      const before = gaps(first, all.slice(0, cut));
      new StateKeeper(first.state, { directory: dir }, NO_LOG).save(Date.now(), true);
      const saved = new FileStateStore(dir).load().docs;
      expect(saved.some((doc) => (doc.sequences?.streams.length ?? 0) + (doc.sequences?.netflow9.length ?? 0) + (doc.sequences?.ipfix.length ?? 0) > 0)).to.equal(true);

      const second = new DatagramDecoder();
      const keeper = new StateKeeper(second.state, { directory: dir }, NO_LOG);
      await keeper.restore();
      expect(keeper.counts.restoredSequences).to.be.greaterThan(0);
      const after = gaps(second, all.slice(cut + lost.size));
      expect(before + after).to.equal(continuous);
      expect(continuous, 'the missing datagrams do show as a gap').to.be.greaterThan(baseline);
      // Used once: the file no longer holds sequence numbers, so a crash-restart later cannot
      // compare with numbers that are out of date by then.
      expect(new FileStateStore(dir).load().docs.every((doc) => doc.sequences === undefined)).to.equal(true);
      const third = new DatagramDecoder();
      const k3 = new StateKeeper(third.state, { directory: dir }, NO_LOG);
      await k3.restore();
      expect(k3.counts.restoredSequences).to.equal(0);
    });
  }

  it('an exporter that restarted (sequence back at the start) is a new chain, not a gap', async () => {
    const cap = readCaptureFile(path.join(FIXTURES, 'softflowd-v5.pcap'));
    const ex = makeExporter(cap.datagrams[0].srcAddr, cap.datagrams[0].srcPort);
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-state-'));
    const first = new DatagramDecoder();
    for (const d of cap.datagrams) first.decode(d.payload, ex, d.timestampUs);
    new StateKeeper(first.state, { directory: dir }, NO_LOG).save(Date.now(), true);
    const second = new DatagramDecoder();
    await new StateKeeper(second.state, { directory: dir }, NO_LOG).restore();
    const again = cap.datagrams.reduce((sum, d) => sum + second.decode(d.payload, ex, d.timestampUs).sequenceGap, 0);
    expect(again).to.equal(0);
  });

  it('a periodic save writes no sequence numbers; a malformed entry is rejected', () => {
    const cap = readCaptureFile(path.join(FIXTURES, 'softflowd-v5.pcap'));
    const dec = new DatagramDecoder();
    for (const d of cap.datagrams) dec.decode(d.payload, makeExporter(d.srcAddr, d.srcPort), d.timestampUs);
    expect([...exporterStates(dec.state).values()].every((d) => d.sequences === undefined)).to.equal(true);
    const withSeq = [...exporterStates(dec.state, true).values()];
    expect(withSeq.length).to.equal(1);
    expect(withSeq[0].sequences?.streams.length).to.equal(1);
    expect(parseExporterState({ ...withSeq[0], sequences: { streams: [['x', -1]], netflow9: [], ipfix: [] } })).to.equal('malformed sequences entry');
    expect(parseExporterState(JSON.parse(JSON.stringify(withSeq[0])))).to.be.an('object');
  });
});

describe('sequence numbers in the Kafka state topic', () => {
  it('the final save publishes every exporter with its sequence numbers; a periodic one publishes none', () => {
    const cap = readCaptureFile(path.join(FIXTURES, 'softflowd-v9.pcap'));
    const dec = new DatagramDecoder();
    for (const d of cap.datagrams) dec.decode(d.payload, makeExporter(d.srcAddr, d.srcPort), d.timestampUs);
    const sent: BusMessage[] = [];
    const bus: Bus = { publish: (_t, m) => void sent.push(...m), stats: () => ({ accepted: 0, published: 0, dropped: {}, buffered: 0 }), close: async () => undefined };
    const NO_LOG = { debug() {}, info() {}, warn() {}, error() {} };
    const keeper = new StateKeeper(dec.state, { kafka: { client: {} as Kafka, bus, topic: 'st', groupPrefix: 'g', loadTimeoutMs: 1 } }, NO_LOG);
    keeper.save(Date.now());
    const docs = (): ExporterState[] => sent.splice(0).map((m) => JSON.parse(m.value.toString()) as ExporterState);
    const periodic = docs();
    expect(periodic.length).to.be.greaterThan(0);
    expect(periodic.every((d) => d.sequences === undefined)).to.equal(true);
    keeper.save(Date.now());
    expect(docs(), 'unchanged definitions are not published again').to.deep.equal([]);
    keeper.save(Date.now(), true);
    const final = docs();
    expect(final.length).to.equal(periodic.length);
    expect(final.every((d) => (d.sequences?.netflow9.length ?? 0) > 0)).to.equal(true);
  });
});

describe('restored sequence numbers of streams that do not come back', () => {
  it('are not saved again at the next shutdown', async () => {
    const NO_LOG = { debug() {}, info() {}, warn() {}, error() {} };
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-state-'));
    const first = new DatagramDecoder();
    for (const file of ['softflowd-v5.pcap', 'softflowd-v9.pcap']) {
      for (const d of readCaptureFile(path.join(FIXTURES, file)).datagrams) first.decode(d.payload, makeExporter(d.srcAddr, d.srcPort), d.timestampUs);
    }
    new StateKeeper(first.state, { directory: dir }, NO_LOG).save(Date.now(), true);
    const second = new DatagramDecoder();
    const k2 = new StateKeeper(second.state, { directory: dir }, NO_LOG);
    await k2.restore();
    expect(k2.counts.restoredSequences).to.equal(2);
    // Only the v5 exporter sends again before the next shutdown.
    const v5 = readCaptureFile(path.join(FIXTURES, 'softflowd-v5.pcap')).datagrams[0];
    second.decode(v5.payload, makeExporter(v5.srcAddr, v5.srcPort), v5.timestampUs);
    k2.save(Date.now(), true);
    const docs = new FileStateStore(dir).load().docs;
    expect(docs.map((d) => [d.sequences?.streams.length ?? 0, d.sequences?.netflow9.length ?? 0]).sort()).to.deep.equal([[0, 0], [1, 0]]);
  });
});
