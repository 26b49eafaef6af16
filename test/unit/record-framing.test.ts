// Framing and keys of bus messages (DESIGN.md §4): raw and varint-delimited values, the
// exporter key and the symmetric five-tuple key, computed from encoded records.

import { expect } from 'chai';
import fc from 'fast-check';
import { FlowEncoder } from '../../src/canonical/flow-encoder';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import { WireBatch } from '../../src/canonical/wire-batch';
import { RecordFramer, HEADER_FRAMING, HEADER_SCHEMA } from '../../src/bus/record-framer';
import { splitDelimited } from '../support/delimited';
import { fiveTupleKey, readFiveTuple } from '../../src/bus/record-key';
import { MessageQueue } from '../../src/bus/message-queue';
import { makeExporter } from '../../src/util/ip';

const EXPORTER = makeExporter(Uint8Array.from([192, 0, 2, 7]), 2055);

function rec(src: number[], dst: number[], sp: number, dp: number, proto: number, bytes = 100): FlowRecord {
  const r = newFlowRecord();
  r.src_addr = Uint8Array.from(src);
  r.dst_addr = Uint8Array.from(dst);
  r.src_port = sp;
  r.dst_port = dp;
  r.proto = proto;
  r.bytes = bytes;
  r.packets = 1;
  return r;
}

function batchOf(records: FlowRecord[]): WireBatch {
  const b = new WireBatch(64);
  new FlowEncoder().writeBatch(b, records);
  return b;
}

const records = [
  rec([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 6),
  rec([10, 0, 0, 2], [10, 0, 0, 1], 80, 1234, 6),
  rec([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 53, 40000, 17),
];

describe('record framing', () => {
  it('raw: one record per message, headers say raw and the schema', () => {
    const msgs = new RecordFramer('raw', 'none').frame(batchOf(records), EXPORTER);
    expect(msgs).to.have.length(3);
    for (const [i, m] of msgs.entries()) {
      expect(m.key).to.equal(null);
      expect(m.records).to.equal(1);
      expect(m.headers?.[HEADER_FRAMING].toString()).to.equal('raw');
      expect(m.headers?.[HEADER_SCHEMA].toString()).to.equal('flowpb.FlowMessage');
      expect(decodeFlowMessage(m.value).src_port).to.equal(records[i].src_port);
    }
  });

  it('delimited: records of a datagram packed into one message, split back identically', () => {
    const b = batchOf(records);
    const msgs = new RecordFramer('delimited', 'exporter').frame(b, EXPORTER);
    expect(msgs).to.have.length(1);
    expect(msgs[0].records).to.equal(3);
    expect(msgs[0].key?.toString()).to.equal('192.0.2.7');
    expect(msgs[0].headers?.[HEADER_FRAMING].toString()).to.equal('delimited');
    const parts = splitDelimited(msgs[0].value);
    expect(parts.map((p) => Buffer.from(p).toString('hex'))).to.deep.equal(b.messages().map((m) => m.toString('hex')));
  });

  it('delimited: a message never exceeds the size limit (but holds at least one record)', () => {
    const many = Array.from({ length: 200 }, (_, i) => rec([10, 0, 0, i & 255], [10, 1, 0, 1], i, 443, 6, i * 1000));
    const b = batchOf(many);
    const msgs = new RecordFramer('delimited', 'none', 500).frame(b, EXPORTER);
    expect(msgs.length).to.be.greaterThan(1);
    for (const m of msgs) expect(m.value.length).to.be.at.most(500);
    expect(msgs.reduce((n, m) => n + m.records, 0)).to.equal(200);
    const all = msgs.flatMap((m) => splitDelimited(m.value).map((p) => Buffer.from(p).toString('hex')));
    expect(all).to.deep.equal(b.messages().map((m) => m.toString('hex')));
    const tiny = new RecordFramer('delimited', 'none', 1).frame(b, EXPORTER);
    expect(tiny).to.have.length(200);
  });

  it('delimited + five-tuple: one record per message, each with its own key', () => {
    const msgs = new RecordFramer('delimited', 'five-tuple').frame(batchOf(records), EXPORTER);
    expect(msgs).to.have.length(3);
    for (const m of msgs) expect(splitDelimited(m.value)).to.have.length(1);
    expect(msgs[0].key?.equals(msgs[1].key as Buffer)).to.equal(true);
    expect(msgs[0].key?.equals(msgs[2].key as Buffer)).to.equal(false);
  });

  it('five-tuple key: symmetric for any conversation, different when the tuple differs', () => {
    const addr = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }));
    fc.assert(
      fc.property(addr, addr, fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 255 }), (a, b, pa, pb, proto) => {
        const fwd = new FlowEncoder().encode(rec([...a], [...b], pa, pb, proto));
        const rev = new FlowEncoder().encode(rec([...b], [...a], pb, pa, proto));
        const k1 = fiveTupleKey(readFiveTuple(fwd, 0, fwd.length));
        const k2 = fiveTupleKey(readFiveTuple(rev, 0, rev.length));
        expect(k1.equals(k2)).to.equal(true);
        const t = readFiveTuple(fwd, 0, fwd.length);
        expect([t.proto, t.srcPort, t.dstPort]).to.deep.equal([proto, pa, pb]);
        expect(Buffer.from(t.srcAddr).equals(Buffer.from(a))).to.equal(true);
        const other = new FlowEncoder().encode(rec([...a], [...b], pa, pb, (proto + 1) & 255));
        expect(fiveTupleKey(readFiveTuple(other, 0, other.length)).equals(k1)).to.equal(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('message queue', () => {
  it('takes batches by records and bytes in order, and a failed batch goes back in front', () => {
    const q = new MessageQueue();
    const m = (i: number) => ({ key: null, value: Buffer.alloc(10, i), records: 1 });
    q.push([m(1), m(2), m(3)], 3, 30, 0);
    q.push([m(4), m(5)], 2, 20, 0);
    const a = q.take(2, 1000);
    expect(a.messages.map((x) => x.value[0])).to.deep.equal([1, 2]);
    const b = q.take(100, 25);
    expect(b.messages.map((x) => x.value[0])).to.deep.equal([3, 4]);
    q.unshift(b.messages, b.records, b.bytes, 0);
    expect(q.records).to.equal(3);
    expect(q.take(100, 1000).messages.map((x) => x.value[0])).to.deep.equal([3, 4, 5]);
    expect([q.records, q.bytes, q.messages]).to.deep.equal([0, 0, 0]);
  });
});
