// Issue 6, acceptance 5: UniRec layout against byte strings written down by hand from the facts
// in DESIGN.md §5 (field order, ipaddr, time, variable-length slots, TRAP headers). The expected
// bytes are literals here, not computed by the code under test.

import { expect } from 'chai';
import { newFlowRecord } from '../../src/canonical/flow-record';
import { ContainerBuilder } from '../../src/outputs/nemea/container-builder';
import { containerHeader, hello, MAX_PAYLOAD_BYTES } from '../../src/outputs/nemea/trap-framing';
import { timeFraction, UnirecEncoder } from '../../src/outputs/nemea/unirec-encoder';
import { DEFAULT_UNIREC_FIELDS, linkBitField } from '../../src/outputs/nemea/unirec-fields';
import { parseUnirecSpec, type UnirecTemplate } from '../../src/outputs/nemea/unirec-template';
import { prng } from '../support/prng';
import { decodeRecord, layoutOf } from '../support/trap-client';

const hex = (s: string): string => s.replace(/\s+/g, '');
const tpl = (spec: string): UnirecTemplate => {
  const p = parseUnirecSpec(spec);
  if (!p.ok) throw new Error(p.errors.join('; '));
  return p.template;
};

describe('nemea: UniRec layout (hand-computed bytes)', () => {
  it('orders fixed fields by size descending then name, variable fields last by name', () => {
    const t = tpl('uint8 TTL,string SAMPLER_ADDRESS,ipaddr SRC_IP,uint16 SRC_PORT,time TIME_FIRST,string EXPORTER,uint64 BYTES,uint8 PROTOCOL,macaddr SRC_MAC');
    expect(t.spec).to.equal('ipaddr SRC_IP,uint64 BYTES,time TIME_FIRST,macaddr SRC_MAC,uint16 SRC_PORT,uint8 PROTOCOL,uint8 TTL,string EXPORTER,string SAMPLER_ADDRESS');
    expect(t.fixed.map((f) => [f.name, f.offset])).to.deep.equal([
      ['SRC_IP', 0], ['BYTES', 16], ['TIME_FIRST', 24], ['SRC_MAC', 32], ['SRC_PORT', 38], ['PROTOCOL', 40], ['TTL', 41],
    ]);
    expect(t.variable.map((f) => [f.name, f.offset])).to.deep.equal([['EXPORTER', 42], ['SAMPLER_ADDRESS', 46]]);
    expect(t.fixedSize).to.equal(50);
  });

  it('the default template is announced exactly as NEMEA flow modules declare it', () => {
    expect(tpl(DEFAULT_UNIREC_FIELDS).spec).to.equal(
      'ipaddr DST_IP,ipaddr SRC_IP,uint64 BYTES,uint64 LINK_BIT_FIELD,time TIME_FIRST,time TIME_LAST,uint32 PACKETS,uint16 DST_PORT,uint16 SRC_PORT,uint8 DIR_BIT_FIELD,uint8 PROTOCOL,uint8 TCP_FLAGS,uint8 TOS,uint8 TTL');
    // Any input order gives the same layout.
    expect(tpl('uint8 TTL,uint8 TOS,ipaddr SRC_IP,uint8 TCP_FLAGS,uint8 PROTOCOL,uint8 DIR_BIT_FIELD,uint16 SRC_PORT,uint16 DST_PORT,uint32 PACKETS,time TIME_LAST,time TIME_FIRST,uint64 LINK_BIT_FIELD,uint64 BYTES,ipaddr DST_IP').spec)
      .to.equal(tpl(DEFAULT_UNIREC_FIELDS).spec);
  });

  it('ipaddr: IPv4 as 8 zero bytes + address + ff ff ff ff; IPv6 as is', () => {
    const e = new UnirecEncoder(tpl('ipaddr SRC_IP,ipaddr DST_IP'));
    const r = newFlowRecord();
    r.src_addr = Uint8Array.from([10, 1, 2, 3]);
    r.dst_addr = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01]);
    // DST_IP before SRC_IP: same size, name order.
    expect(e.encode(r).toString('hex')).to.equal(hex(`
      20010db8 00000000 00000000 00000001
      00000000 00000000 0a010203 ffffffff`));
  });

  it('time: u64 LE of seconds << 32 | (ns × 0x44B82FA0A) >> 32', () => {
    const e = new UnirecEncoder(tpl('time TIME_FIRST,time TIME_LAST'));
    const r = newFlowRecord();
    r.time_flow_start_us = 1_717_200_001_060_000; // 1717200001 s (0x665A6481) + 60,000,000 ns → fraction 0x0F5C28F5
    r.time_flow_end_us = 1_717_200_004_999_999; // 1717200004 s (0x665A6484) + 999,999,000 ns → fraction 0xFFFFEF39
    expect(e.encode(r).toString('hex')).to.equal(hex(`
      f5285c0f 81645a66
      39efffff 84645a66`));
  });

  it('time fraction is exact for any ns (checked against BigInt)', () => {
    const rnd = prng(6);
    for (let i = 0; i < 20_000; i++) {
      const ns = i < 3 ? [0, 1, 999_999_999][i] : Math.floor(rnd() * 1e9);
      const want = Number((BigInt(ns) * 0x44b82fa0an) >> 32n);
      expect(timeFraction(ns), `ns=${ns}`).to.equal(want);
    }
  });

  it('numbers little-endian; uint64 above 2^32; uint32 saturates; MAC in network order', () => {
    const e = new UnirecEncoder(tpl('uint64 BYTES,uint32 PACKETS,uint16 SRC_PORT,uint8 PROTOCOL,macaddr SRC_MAC'));
    const r = newFlowRecord();
    r.bytes = 0x1_2345_6789; r.packets = 2 ** 40; r.src_port = 0x1234; r.proto = 6; r.src_mac = 0x0011_2233_4455;
    expect(e.encode(r).toString('hex')).to.equal(hex(`
      89674523 01000000
      001122334455
      ffffffff
      3412
      06`));
  });

  it('variable-length fields: 4-byte slots (u16 LE offset from the end of the fixed part, u16 LE length), data at the end', () => {
    const e = new UnirecEncoder(tpl('uint16 SRC_PORT,string SAMPLER_ADDRESS,string EXPORTER'));
    const r = newFlowRecord();
    r.src_port = 80;
    r.exporter_address = Uint8Array.from([192, 0, 2, 1]); // "192.0.2.1", 9 bytes
    r.sampler_address = Uint8Array.from([10, 0, 0, 1]); // "10.0.0.1", 8 bytes
    expect(e.encode(r).toString('hex')).to.equal(hex(`
      5000
      0000 0900
      0900 0800
      3139322e302e322e31
      31302e302e302e31`));
    // Empty variable field: offset at the end, length 0.
    r.exporter_address = new Uint8Array(0);
    expect(e.encode(r).toString('hex')).to.equal(hex('5000 0000 0000 0000 0800 31302e302e302e31'));
  });

  it('LINK_BIT_FIELD = 1 << (ODID mod 64); DIR_BIT_FIELD = ingress interface & 1', () => {
    const e = new UnirecEncoder(tpl('uint64 LINK_BIT_FIELD,uint8 DIR_BIT_FIELD'));
    const r = newFlowRecord();
    r.observation_domain_id = 3; r.in_if = 5;
    expect(e.encode(r).toString('hex')).to.equal('080000000000000001');
    r.observation_domain_id = 63 + 64; r.in_if = 4;
    expect(e.encode(r).toString('hex')).to.equal('000000000000008000');
    expect(linkBitField(0)).to.equal(1);
  });

  it('hello and container headers: BE length, LE sequence, LE count', () => {
    expect(hello('uint8 TTL').toString('hex')).to.equal(hex('02000000 00000009') + Buffer.from('uint8 TTL').toString('hex'));
    expect(containerHeader(0x0102, 0x0a0b0c0d0e, 3, 'container').toString('hex')).to.equal(hex('00000102 0e0d0c0b0a000000 0300'));
    expect(containerHeader(0x0102, 7, 3, 'legacy').toString('hex')).to.equal('00000102');
    const b = new ContainerBuilder();
    b.add(Buffer.from([0xaa, 0xbb]));
    b.add(Buffer.from([0xcc]));
    const p = b.take();
    expect(p.count).to.equal(2);
    expect(p.bytes.toString('hex')).to.equal(hex('0002 aabb 0001 cc'));
    expect(MAX_PAYLOAD_BYTES).to.equal(99_986);
  });

  it('the independent test decoder reads what the encoder writes (all known fields)', () => {
    const spec = 'ipaddr DST_IP,ipaddr SRC_IP,uint64 BYTES,time TIME_FIRST,uint32 PACKETS,uint16 SRC_PORT,uint8 TTL,macaddr DST_MAC,string EXPORTER';
    const t = tpl(spec);
    const r = newFlowRecord();
    r.dst_addr = Uint8Array.from([198, 51, 100, 7]);
    r.src_addr = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xef]);
    r.bytes = 2 ** 40 + 5; r.time_flow_start_us = 1_700_000_000_123_456; r.packets = 9; r.src_port = 443; r.ip_ttl = 64;
    r.dst_mac = 0xa0b1c2d3e4f5; r.exporter_address = Uint8Array.from([192, 0, 2, 9]);
    const d = decodeRecord(layoutOf(t.spec), new UnirecEncoder(t).encode(r));
    expect(d).to.deep.equal({
      DST_IP: '198.51.100.7', SRC_IP: '2001:0db8:0000:0000:0000:0000:0000:beef', BYTES: BigInt(2 ** 40 + 5), TIME_FIRST: 1_700_000_000_123_456,
      DST_MAC: 'a0:b1:c2:d3:e4:f5', PACKETS: 9, SRC_PORT: 443, TTL: 64, EXPORTER: '192.0.2.9',
    });
  });

  it('unknown names and wrong types are errors naming the allowed fields', () => {
    const p = parseUnirecSpec('ipaddr SRC_IP,uint32 BYTES,uint16 NOPE,bogus');
    expect(p.ok).to.equal(false);
    const errs = p.ok ? [] : p.errors;
    expect(errs[0]).to.match(/BYTES has type uint64/);
    expect(errs[1]).to.match(/unknown UniRec field "NOPE"; known fields: .*ipaddr DST_IP.*string EXPORTER/);
    expect(errs[2]).to.match(/is not "type NAME"/);
  });
});
