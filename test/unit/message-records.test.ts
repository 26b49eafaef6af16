// Converters read messages by their framing header, and without one tell raw from delimited
// the same way `flowgate dump` does; other schemas and empty values hold no flows.

import { expect } from 'chai';
import { FlowEncoder } from '../../src/canonical/flow-encoder';
import { FlowType, newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { WireBatch } from '../../src/canonical/wire-batch';
import { RecordFramer } from '../../src/bus/record-framer';
import { recordsOf } from '../../src/converters/message-records';
import { makeExporter } from '../../src/util/ip';

function rec(port: number): FlowRecord {
  const r = newFlowRecord();
  r.type = FlowType.NETFLOW_V9;
  r.src_port = port;
  r.bytes = port * 3;
  return r;
}

describe('converter message reading', () => {
  const records = [rec(1), rec(2), rec(3)];
  const batch = new WireBatch(64);
  new FlowEncoder().writeBatch(batch, records);
  const ex = makeExporter(Uint8Array.from([192, 0, 2, 1]), 2055);
  const raw = new RecordFramer('raw', 'none').frame(batch, ex);
  const delimited = new RecordFramer('delimited', 'none').frame(batch, ex);

  it('reads raw and delimited messages by their header, and the same bytes without one', () => {
    for (const withHeaders of [true, false]) {
      const out: FlowRecord[] = [];
      for (const m of [...raw, ...delimited]) expect(recordsOf(m.value, withHeaders ? m.headers : undefined, out)).to.equal(true);
      expect(out.map((r) => r.src_port)).to.deep.equal([1, 2, 3, 1, 2, 3]);
    }
  });

  it('holds no flows in an empty value, a value of another schema or an unknown framing', () => {
    const out: FlowRecord[] = [];
    expect(recordsOf(Buffer.alloc(0), undefined, out)).to.equal(false);
    expect(recordsOf(null, undefined, out)).to.equal(false);
    expect(recordsOf(raw[0].value, { 'flowgate-schema': 'flowgate.InterfaceCounters' }, out)).to.equal(false);
    expect(recordsOf(raw[0].value, { 'flowgate-framing': 'json' }, out)).to.equal(false);
    expect(recordsOf(Buffer.from([0xff, 0xff, 0xff]), { 'flowgate-framing': 'raw' }, out)).to.equal(false);
    expect(out).to.deep.equal([]);
  });
});
