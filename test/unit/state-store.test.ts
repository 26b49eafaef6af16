// Template/sampling state survives a restart through the state file: learned from real
// datagrams, saved atomically, restored into a fresh decoder that then decodes data-only
// datagrams at once.

import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { FileStateStore } from '../../src/state/file-state-store';
import { exporterStates, restoreStates } from '../../src/state/state-snapshot';
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
