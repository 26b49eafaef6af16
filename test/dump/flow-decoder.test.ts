// The fast FlowMessage decoder (src/canonical/flow-decoder.ts) against the reference,
// decodeFlowMessage (protobufjs reflection): the same record for every well-formed message —
// our encoder's output for random records, and protobufjs-written messages with what other
// producers may send (unpacked repeated fields, unknown fields, a field twice, any order) —
// and only FlowDecodeError, never another exception, for arbitrary bytes.

import { expect } from 'chai';
import * as fc from 'fast-check';
import Long from 'long';
import * as protobuf from 'protobufjs';
import { decodeFlowRecord, FlowDecodeError } from '../../src/canonical/flow-decoder';
import { FlowEncoder } from '../../src/canonical/flow-encoder';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { flowMessageType } from '../../src/canonical/schema';
import { recordArb, u32 } from '../support/record-arbitrary';

/** Comparable form: byte arrays as hex, whatever their class (Buffer view, copy, Uint8Array). */
function plain(r: FlowRecord): Record<string, unknown> {
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r) as Array<[string, unknown]>) {
    if (v instanceof Uint8Array) o[k] = hex(v);
    else if (Array.isArray(v)) o[k] = v.map((x: unknown) => (x instanceof Uint8Array ? hex(x) : x));
    else o[k] = v;
  }
  o.extra_fields = r.extra_fields.map((x) => ({ enterprise: x.enterprise, id: x.id, value: hex(x.value) }));
  return o;
}

/** protobufjs writer for hand-made messages. */
function writer(): protobuf.Writer {
  return protobuf.Writer.create();
}

describe('fast FlowMessage decoder (src/canonical/flow-decoder.ts)', () => {
  it('decodes our encoder output exactly as decodeFlowMessage does (random records)', () => {
    const enc = new FlowEncoder();
    fc.assert(
      fc.property(recordArb, (r) => {
        const bytes = enc.encode(r);
        const fast = plain(decodeFlowRecord(bytes));
        expect(fast).to.deep.equal(plain(decodeFlowMessage(bytes)));
        expect(fast).to.deep.equal(plain(r));
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes a record inside a larger buffer (delimited framing) by its range only', () => {
    const enc = new FlowEncoder();
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 8 }), (rs, junk) => {
        const parts = rs.map((r) => enc.encode(r));
        const buf = Buffer.concat([Buffer.from(junk), ...parts, Buffer.from(junk)]);
        let p = junk.length;
        for (let i = 0; i < rs.length; i++) {
          expect(plain(decodeFlowRecord(buf, p, p + parts[i].length))).to.deep.equal(plain(decodeFlowMessage(parts[i])));
          p += parts[i].length;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with protobufjs on what other producers may write: protobufjs encoding, unpacked lists, unknown fields, repeats', () => {
    const type = flowMessageType();
    const enc = new FlowEncoder();
    const unknownField = fc.record({
      id: fc.integer({ min: 300, max: 999 }),
      wire: fc.constantFrom(0, 1, 2, 5),
      n: fc.nat({ max: 0xffffffff }),
      bytes: fc.uint8Array({ maxLength: 10 }),
    });
    fc.assert(
      fc.property(recordArb, fc.array(unknownField, { maxLength: 3 }), fc.array(u32, { maxLength: 3 }), recordArb, (r, unknown, unpacked, second) => {
        // protobufjs' own encoding of the record (field order, packing as it chooses).
        const obj = decodeFlowMessage(enc.encode(r)) as unknown as Record<string, unknown>;
        const viaPbjs = type.encode(type.fromObject(protoObject(obj))).finish();
        expect(plain(decodeFlowRecord(viaPbjs))).to.deep.equal(plain(decodeFlowMessage(viaPbjs)));
        // Then: unknown fields of every wire type, as_path values written unpacked (wire
        // type 0, one per tag), and a second record's scalar fields after the first's (proto3:
        // the last value wins, lists concatenate).
        const w = writer();
        for (const u of unknown) {
          const tag = (u.id << 3) | u.wire;
          if (u.wire === 0) w.uint32(tag).uint32(u.n);
          else if (u.wire === 1) w.uint32(tag).fixed64(u.n);
          else if (u.wire === 2) w.uint32(tag).bytes(u.bytes);
          else w.uint32(tag).fixed32(u.n);
        }
        for (const v of unpacked) w.uint32((102 << 3) | 0).uint32(v);
        const tail = w.finish();
        const msg = Buffer.concat([enc.encode(r), tail, enc.encode(second)]);
        expect(plain(decodeFlowRecord(msg))).to.deep.equal(plain(decodeFlowMessage(msg)));
      }),
      { numRuns: 1000 },
    );
  });

  it('skips proto2 groups of unknown fields, as protobufjs does', () => {
    const r = newFlowRecord();
    r.bytes = 1234;
    r.src_port = 80;
    const w = writer();
    w.uint32((500 << 3) | 3); // start group 500
    w.uint32((1 << 3) | 0).uint32(7);
    w.uint32((2 << 3) | 2).bytes(Uint8Array.from([1, 2, 3]));
    w.uint32((500 << 3) | 4); // end group
    const msg = Buffer.concat([w.finish(), new FlowEncoder().encode(r)]);
    expect(plain(decodeFlowRecord(msg))).to.deep.equal(plain(decodeFlowMessage(msg)));
    expect(decodeFlowRecord(msg).bytes).to.equal(1234);
  });

  it('keeps 64-bit values as decodeFlowMessage does: counters above 2^53 and nanosecond times', () => {
    const w = writer();
    w.uint32((9 << 3) | 0).uint64(Long.fromString('18446744073709551615', true)); // bytes = 2^64-1
    w.uint32((110 << 3) | 0).uint64(Long.fromString('1700000000123456789', true)); // time_received_ns
    w.uint32((1 << 3) | 0).int32(-1); // type as a negative int32 (10-byte varint)
    const msg = w.finish();
    const fast = decodeFlowRecord(msg);
    expect(plain(fast)).to.deep.equal(plain(decodeFlowMessage(msg)));
    expect(fast.time_received_us).to.equal(1_700_000_000_123_456);
  });

  it('throws FlowDecodeError, and nothing else, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeFlowRecord(b);
        } catch (e) {
          expect(e).to.be.instanceOf(FlowDecodeError);
        }
      }),
      { numRuns: 20000 },
    );
  });

  it('rejects a truncated message, a wrong wire type and field number 0', () => {
    const full = new FlowEncoder().encode(Object.assign(newFlowRecord(), { type: 3, bytes: 99, src_addr: Uint8Array.from([10, 0, 0, 1]) }));
    for (let n = 1; n < full.length; n++) {
      let threw = false;
      try {
        decodeFlowRecord(full.subarray(0, n));
      } catch (e) {
        threw = e instanceof FlowDecodeError;
      }
      // Every proper prefix either fails or is itself a complete shorter message; never garbage.
      if (!threw) expect(plain(decodeFlowRecord(full.subarray(0, n)))).to.deep.equal(plain(decodeFlowMessage(full.subarray(0, n))));
    }
    expect(() => decodeFlowRecord(Uint8Array.from([(6 << 3) | 0, 1]))).to.throw(FlowDecodeError, /src_addr: wire type 0/);
    expect(() => decodeFlowRecord(Uint8Array.from([0x02, 0x00]))).to.throw(FlowDecodeError, /field number 0/);
    expect(() => decodeFlowRecord(Uint8Array.from([(6 << 3) | 2, 9, 1, 2]))).to.throw(FlowDecodeError, /runs past/);
  });

  it('is much faster than decodeFlowMessage (the reason it exists)', function () {
    this.timeout(60_000);
    const enc = new FlowEncoder();
    const samples = fc.sample(recordArb, { numRuns: 2000, seed: 7 }).map((r) => enc.encode(Object.assign(r, { extra_fields: [], mpls_ip: [], as_path: [] })));
    const time = (f: (b: Uint8Array) => FlowRecord): number => {
      // Warm up first: the generated decoder is one large function that V8 optimises only
      // after some 10,000-20,000 calls (measured); interpreted it is slower than protobufjs.
      for (let k = 0; k < 20; k++) for (const b of samples) f(b);
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < 10; k++) for (const b of samples) f(b);
      return Number(process.hrtime.bigint() - t0) / (10 * samples.length);
    };
    const slow = time(decodeFlowMessage);
    const fast = time(decodeFlowRecord);
    console.log(`      decodeFlowMessage ${Math.round(1e9 / slow).toLocaleString('en-US')} records/s, decodeFlowRecord ${Math.round(1e9 / fast).toLocaleString('en-US')} records/s`);
    expect(fast * 3).to.be.below(slow);
  });
});

/** A decoded record → the object protobufjs' fromObject takes (µs times back to ns text). */
function protoObject(rec: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k.endsWith('_us')) o[`${k.slice(0, -3)}_ns`] = (BigInt(v as number) * 1000n).toString();
    else o[k] = v;
  }
  return o;
}
