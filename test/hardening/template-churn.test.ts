// Acceptance 2: an exporter redefines the same template id with a different layout
// mid-stream. Records before the change decode with the old layout, records after with the
// new one, none after with the old: checked field by field on what the running gateway
// publishes, for NetFlow v9 and IPFIX, with the change between datagrams and inside one.

import { expect } from 'chai';
import { dataSet, ipfix, netflow9, type FieldValue, type TemplateDef } from '../support/datagram-builders';
import { Sender, settle, startRig, type Rig } from '../support/hardening-rig';

const ID = 260;
// Old: 20-byte records. New: the same id, fields reordered, other lengths, one more field (29 bytes).
const OLD: TemplateDef = { id: ID, fields: [
  { id: 8, length: 4 }, { id: 12, length: 4 }, { id: 1, length: 4 }, { id: 2, length: 4 }, { id: 7, length: 2 }, { id: 11, length: 2 },
] };
const NEW: TemplateDef = { id: ID, fields: [
  { id: 11, length: 2 }, { id: 1, length: 8 }, { id: 12, length: 4 }, { id: 2, length: 8 }, { id: 8, length: 4 }, { id: 7, length: 2 }, { id: 4, length: 1 },
] };

interface Want { bytes: number; packets: number; src_port: number; dst_port: number; proto: number }

const oldRecord = (n: number): { values: FieldValue[]; want: Want } => ({
  values: [[10, 0, 0, 1], [10, 0, 0, 2], 1000 + n, 10 + n, 1111, 2222],
  want: { bytes: 1000 + n, packets: 10 + n, src_port: 1111, dst_port: 2222, proto: 0 },
});
const newRecord = (n: number): { values: FieldValue[]; want: Want } => ({
  values: [4444, 5000 + n, [10, 0, 0, 2], 50 + n, [10, 0, 0, 1], 3333, 17],
  want: { bytes: 5000 + n, packets: 50 + n, src_port: 3333, dst_port: 4444, proto: 17 },
});

type Part = { kind: 'template'; t: TemplateDef } | { kind: 'data'; t: TemplateDef; records: Array<{ values: FieldValue[] }> };

function build(proto: 'netflow9' | 'ipfix', parts: readonly Part[], sequence: number): Buffer {
  const sets = parts.map((p) => (p.kind === 'template' ? { kind: 'template' as const, templates: [p.t] } : dataSet(p.t, p.records.map((r) => r.values))));
  return proto === 'netflow9' ? netflow9({ sourceId: 42, sequence, flowsets: sets }).bytes : ipfix({ domain: 42, sequence, sets }).bytes;
}

describe('hardening: template churn (acceptance 2)', function () {
  this.timeout(60_000);
  let rig: Rig | undefined;
  let sender: Sender | undefined;
  afterEach(async () => {
    await sender?.close();
    await rig?.stop();
    rig = sender = undefined;
  });

  for (const proto of ['netflow9', 'ipfix'] as const) {
    it(`${proto}: same exporter, same template id, new layout mid-stream and inside a datagram`, async () => {
      rig = await startRig('listeners: [{ listen: "127.0.0.1:0" }]\nsummary_interval_seconds: 0');
      sender = await Sender.bind('127.0.0.1');
      const want: Want[] = [];
      let n = 0;
      const olds = (k: number): Array<{ values: FieldValue[] }> => Array.from({ length: k }, () => { const r = oldRecord(n++); want.push(r.want); return r; });
      const news = (k: number): Array<{ values: FieldValue[] }> => Array.from({ length: k }, () => { const r = newRecord(n++); want.push(r.want); return r; });
      const datagrams: Buffer[] = [];
      let seq = 0;
      // The sequence counts what each protocol counts (v9 packets, IPFIX records), so no gap is reported.
      const push = (parts: Part[]): void => {
        const records = parts.reduce((k, p) => k + (p.kind === 'data' ? p.records.length : 0), 0);
        datagrams.push(build(proto, parts, seq));
        seq += proto === 'netflow9' ? 1 : records;
      };
      push([{ kind: 'template', t: OLD }, { kind: 'data', t: OLD, records: olds(5) }]);
      push([{ kind: 'data', t: OLD, records: olds(7) }]);
      // Change between datagrams.
      push([{ kind: 'template', t: NEW }, { kind: 'data', t: NEW, records: news(4) }]);
      push([{ kind: 'data', t: NEW, records: news(6) }]);
      // Back to the old layout and forward again inside one datagram: data, template, data.
      push([{ kind: 'template', t: OLD }, { kind: 'data', t: OLD, records: olds(3) }, { kind: 'template', t: NEW }, { kind: 'data', t: NEW, records: news(5) }]);
      push([{ kind: 'data', t: NEW, records: news(2) }]);
      for (const d of datagrams) await sender.send(d, rig.port(), '127.0.0.1');
      await settle(rig, datagrams.length);
      await new Promise((r) => setImmediate(r));

      const got: Want[] = rig.records.map((r) => ({ bytes: Number(r.bytes), packets: Number(r.packets), src_port: r.src_port, dst_port: r.dst_port, proto: r.proto }));
      expect(got).to.deep.equal(want);
      expect(await rig.metric('flowgate_decode_errors_total')).to.equal(0);
      expect(await rig.metric('flowgate_templates_learned_total')).to.equal(4); // old, new, old, new
      expect(await rig.metric('flowgate_templates_active')).to.equal(1);
      console.log(`      ${proto}: ${datagrams.length} datagrams, ${got.length} records, layouts old→new→old→new, every record matches its layout`);
    });
  }
});
