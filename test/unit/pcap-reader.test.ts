import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readCapture, readCaptureFile, streamCaptureFile, type CapturedDatagram, type CaptureReadResult } from '../../src/pcap/reader';
import { requireTool } from '../support/tools';
import { writePcap } from '../../src/pcap/writer';

// ---------------------------------------------------------------------------------------------
// Packet and file builders. Hand-built so every test states exactly which bytes the reader sees.

const SRC4 = [192, 0, 2, 1];
const DST4 = [198, 51, 100, 7];
const SRC6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
const DST6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99];
const PROTO_TCP = 6;
const PROTO_UDP = 17;

function u16be(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}

function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i * 7) & 0xff;
  return b;
}

function udp(srcPort: number, dstPort: number, payload: Buffer, lengthField = 8 + payload.length): Buffer {
  return Buffer.concat([u16be(srcPort), u16be(dstPort), u16be(lengthField), u16be(0), payload]);
}

interface Ipv4Options {
  src?: number[];
  dst?: number[];
  id?: number;
  fragOffset?: number; // bytes, multiple of 8
  more?: boolean;
  totalLength?: number;
  options?: Buffer; // IP options, multiple of 4 bytes
}

function ipv4(proto: number, body: Buffer, o: Ipv4Options = {}): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const h = Buffer.alloc(20);
  h[0] = 0x40 | ((20 + opts.length) / 4);
  h.writeUInt16BE(o.totalLength ?? 20 + opts.length + body.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.fragOffset ?? 0) / 8) | (o.more ? 0x2000 : 0), 6);
  h[8] = 64;
  h[9] = proto;
  h.set(o.src ?? SRC4, 12);
  h.set(o.dst ?? DST4, 16);
  return Buffer.concat([h, opts, body]);
}

function ipv6(next: number, body: Buffer, payloadLength = body.length): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payloadLength, 4);
  h[6] = next;
  h[7] = 64;
  h.set(SRC6, 8);
  h.set(DST6, 24);
  return Buffer.concat([h, body]);
}

/** Hop-by-hop / routing / destination-options header: 8 bytes with PadN filling. */
function ext6(next: number): Buffer {
  return Buffer.from([next, 0, 1, 4, 0, 0, 0, 0]);
}

function frag6(next: number, offset: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h.writeUInt16BE(offset | (more ? 1 : 0), 2);
  h.writeUInt32BE(id, 4);
  return h;
}

function ethernet(etherType: number, payload: Buffer, tags: Array<[number, number]> = []): Buffer {
  const macs = Buffer.from('0000000000aa0000000000bb', 'hex');
  const tagBytes = tags.map(([tpid, vid]) => Buffer.concat([u16be(tpid), u16be(vid)]));
  return Buffer.concat([macs, ...tagBytes, u16be(etherType), payload]);
}

function sll(protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // sent to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

function sll2(protocol: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(3, 4); // interface index
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[11] = 6;
  return Buffer.concat([h, payload]);
}

interface PcapRecord {
  sec: number;
  frac: number;
  data: Buffer;
  caplen?: number; // defaults to data.length; smaller simulates a snaplen cut
}

function classicPcap(linktype: number, records: PcapRecord[], o: { le?: boolean; nanos?: boolean } = {}): Buffer {
  const le = o.le ?? true;
  const header = Buffer.concat([
    u32(o.nanos ? 0xa1b23c4d : 0xa1b2c3d4, le), u16(2, le), u16(4, le), u32(0, le), u32(0, le), u32(65535, le), u32(linktype, le),
  ]);
  const parts = records.map((r) => {
    const caplen = r.caplen ?? r.data.length;
    return Buffer.concat([u32(r.sec, le), u32(r.frac, le), u32(caplen, le), u32(r.data.length, le), r.data.subarray(0, caplen)]);
  });
  return Buffer.concat([header, ...parts]);
}

function pad4(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

function block(le: boolean, type: number, body: Buffer): Buffer {
  const padded = pad4(body);
  const total = padded.length + 12;
  return Buffer.concat([u32(type, le), u32(total, le), padded, u32(total, le)]);
}

function option(le: boolean, code: number, value: Buffer): Buffer {
  return Buffer.concat([u16(code, le), u16(value.length, le), pad4(value)]);
}

function shb(le: boolean): Buffer {
  const sectionLength = Buffer.alloc(8, 0xff); // -1: unknown
  return block(le, 0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d, le), u16(1, le), u16(0, le), sectionLength]));
}

function idb(le: boolean, linktype: number, options: Buffer[] = [], snaplen = 0): Buffer {
  const end = options.length > 0 ? [u32(0, le)] : [];
  return block(le, 1, Buffer.concat([u16(linktype, le), u16(0, le), u32(snaplen, le), ...options, ...end]));
}

function epb(le: boolean, ifId: number, units: bigint, data: Buffer): Buffer {
  const high = Number(units >> 32n);
  const low = Number(units & 0xffffffffn);
  return block(le, 6, Buffer.concat([u32(ifId, le), u32(high, le), u32(low, le), u32(data.length, le), u32(data.length, le), data]));
}

function spb(le: boolean, data: Buffer): Buffer {
  return block(le, 3, Buffer.concat([u32(data.length, le), data]));
}

function captureFile(name: string): string {
  return path.resolve(__dirname, '../../../..', 'shared/captures', name);
}

function addr(a: Uint8Array): string {
  return Array.from(a).join('.');
}

/** Flattens a datagram to comparable primitives: chai's deep equality does not mix Buffer and Uint8Array. */
function flat(d: CapturedDatagram): { ts: number; src: string; sport: number; dst: string; dport: number; payload: string } {
  const payload = d.payload.toString('hex');
  return { ts: d.timestampUs, src: addr(d.srcAddr), sport: d.srcPort, dst: addr(d.dstAddr), dport: d.dstPort, payload };
}

function expected(ts: number, src: number[], sport: number, dst: number[], dport: number, payload: Buffer): ReturnType<typeof flat> {
  return { ts, src: src.join('.'), sport, dst: dst.join('.'), dport, payload: payload.toString('hex') };
}

function datagram(ts: number, src: number[], srcPort: number, dst: number[], dstPort: number, payload: Buffer): CapturedDatagram {
  return { timestampUs: ts, srcAddr: Uint8Array.from(src), srcPort, dstAddr: Uint8Array.from(dst), dstPort, payload };
}

function internetSum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

// ---------------------------------------------------------------------------------------------

describe('pcap writer -> reader round trip', () => {
  it('round-trips IPv4 datagrams with valid IP header checksums and zero UDP checksums', () => {
    const input: CapturedDatagram[] = [
      datagram(1_700_000_000_123_456, SRC4, 50000, DST4, 2055, bytes(37, 1)),
      datagram(1_700_000_001_000_000, DST4, 4739, SRC4, 4739, Buffer.alloc(0)),
      datagram(0, [10, 0, 0, 1], 0, [10, 0, 0, 2], 65535, bytes(1400, 9)),
    ];
    const file = writePcap(input);
    expect(file.readUInt32LE(0)).to.equal(0xa1b2c3d4);
    expect(file.readUInt32LE(20)).to.equal(101);

    const result = readCapture(file);
    expect(result.packets).to.equal(3);
    expect(result.skipped).to.deep.equal({});
    expect(result.datagrams.map(flat)).to.deep.equal(input.map(flat));

    let off = 24;
    for (const d of input) {
      const ip = file.subarray(off + 16, off + 16 + file.readUInt32LE(off + 8));
      expect(internetSum(ip.subarray(0, 20)), 'IPv4 header checksum').to.equal(0xffff);
      expect(ip.readUInt16BE(26), 'UDP checksum').to.equal(0);
      expect(ip.length).to.equal(28 + d.payload.length);
      off += 16 + ip.length;
    }
  });

  it('round-trips IPv6 datagrams with valid UDP checksums', () => {
    const input: CapturedDatagram[] = [
      datagram(1_600_000_000_000_001, SRC6, 36123, DST6, 6343, bytes(101, 3)),
      datagram(1_600_000_000_500_000, DST6, 1, SRC6, 2, bytes(64, 200)),
    ];
    const file = writePcap(input);
    const result = readCapture(file);
    expect(result.skipped).to.deep.equal({});
    expect(result.datagrams.map(flat)).to.deep.equal(input.map(flat));

    let off = 24;
    for (let i = 0; i < input.length; i++) {
      const ip = file.subarray(off + 16, off + 16 + file.readUInt32LE(off + 8));
      const udpPart = ip.subarray(40);
      expect(ip[6]).to.equal(PROTO_UDP);
      expect(udpPart.readUInt16BE(6), 'UDP checksum present').to.not.equal(0);
      const pseudo = internetSum(ip.subarray(8, 40), udpPart.length + PROTO_UDP);
      expect(internetSum(udpPart, pseudo), 'UDP checksum verifies').to.equal(0xffff);
      off += 16 + ip.length;
    }
  });

  it('rejects datagrams it cannot encode', () => {
    const bad = datagram(0, SRC4, 1, DST6, 2, Buffer.alloc(0));
    expect(() => writePcap([bad])).to.throw(RangeError, /addresses/);
    expect(() => writePcap([{ ...bad, dstAddr: Uint8Array.from(DST4), payload: Buffer.alloc(65508) }])).to.throw(RangeError, /exceeds/);
    expect(writePcap([]).length).to.equal(24);
  });
});

describe('pcap reader: classic pcap', () => {
  const payload = bytes(20, 42);
  const ip = ipv4(PROTO_UDP, udp(1234, 2055, payload));

  it('reads Ethernet with a single VLAN tag and stacked QinQ tags, ignoring padding and FCS', () => {
    const tiny = Buffer.from([0xab, 0xcd]);
    const padded = Buffer.concat([ethernet(0x0800, ipv4(PROTO_UDP, udp(9, 9991, tiny))), Buffer.alloc(12), Buffer.from('deadbeef', 'hex')]);
    const file = classicPcap(1, [
      { sec: 100, frac: 1, data: ethernet(0x8100, Buffer.from([0, 5])) },
      { sec: 100, frac: 2, data: ethernet(0x0800, ip, [[0x8100, 10]]) },
      { sec: 100, frac: 3, data: ethernet(0x86dd, ipv6(PROTO_UDP, udp(5, 6, payload)), [[0x88a8, 100], [0x8100, 200]]) },
      { sec: 100, frac: 4, data: padded },
      { sec: 100, frac: 5, data: ethernet(0x0806, Buffer.alloc(28)) }, // ARP
    ]);
    const r = readCapture(file);
    expect(r.packets).to.equal(5);
    expect(r.datagrams.map(flat)).to.deep.equal([
      expected(100_000_002, SRC4, 1234, DST4, 2055, payload),
      expected(100_000_003, SRC6, 5, DST6, 6, payload),
      expected(100_000_004, SRC4, 9, DST4, 9991, tiny),
    ]);
    // The first record is a VLAN tag with no room for its inner EtherType.
    expect(r.skipped).to.deep.equal({ not_ip: 1, truncated: 1 });
  });

  it('reads big-endian files', () => {
    const file = classicPcap(101, [{ sec: 1_700_000_000, frac: 999_999, data: ip }], { le: false });
    expect(file.readUInt32BE(0)).to.equal(0xa1b2c3d4);
    const r = readCapture(file);
    expect(r.datagrams.map(flat)).to.deep.equal([expected(1_700_000_000_999_999, SRC4, 1234, DST4, 2055, payload)]);
  });

  it('floors nanosecond timestamps to microseconds, in both byte orders', () => {
    for (const le of [true, false]) {
      const file = classicPcap(101, [
        { sec: 1_700_000_000, frac: 123_456_789, data: ip },
        { sec: 1_700_000_001, frac: 999_999_999, data: ip },
      ], { le, nanos: true });
      const r = readCapture(file);
      expect(r.datagrams.map((d) => d.timestampUs)).to.deep.equal([1_700_000_000_123_456, 1_700_000_001_999_999]);
    }
  });

  it('reads Linux SLL and SLL2', () => {
    const v6 = ipv6(PROTO_UDP, udp(7, 8, payload));
    const a = readCapture(classicPcap(113, [
      { sec: 1, frac: 0, data: sll(0x0800, ip) },
      { sec: 2, frac: 0, data: sll(0x0004, Buffer.alloc(30)) }, // 802.2 LLC
    ]));
    expect(a.datagrams.map(flat)).to.deep.equal([expected(1_000_000, SRC4, 1234, DST4, 2055, payload)]);
    expect(a.skipped).to.deep.equal({ not_ip: 1 });
    const b = readCapture(classicPcap(276, [{ sec: 1, frac: 0, data: sll2(0x86dd, v6) }, { sec: 2, frac: 0, data: sll2(0x0800, ip) }]));
    expect(b.datagrams.map(flat)).to.deep.equal([
      expected(1_000_000, SRC6, 7, DST6, 8, payload),
      expected(2_000_000, SRC4, 1234, DST4, 2055, payload),
    ]);
  });

  it('reads BSD NULL and LOOP with the family in either byte order and every AF_INET6 value', () => {
    const v6 = ipv6(PROTO_UDP, udp(7, 8, payload));
    const records = (le: boolean): PcapRecord[] => [
      { sec: 1, frac: 0, data: Buffer.concat([u32(2, le), ip]) },
      { sec: 2, frac: 0, data: Buffer.concat([u32(10, le), v6]) },
      { sec: 3, frac: 0, data: Buffer.concat([u32(24, le), v6]) },
      { sec: 4, frac: 0, data: Buffer.concat([u32(28, le), v6]) },
      { sec: 5, frac: 0, data: Buffer.concat([u32(30, le), v6]) },
      { sec: 6, frac: 0, data: Buffer.concat([u32(7, le), ip]) }, // AF_IMPLINK: not IP
    ];
    for (const linktype of [0, 108]) {
      for (const le of [true, false]) {
        const r = readCapture(classicPcap(linktype, records(le)));
        expect(r.datagrams.map((d) => d.srcAddr.length)).to.deep.equal([4, 16, 16, 16, 16]);
        expect(r.skipped).to.deep.equal({ not_ip: 1 });
      }
    }
  });

  it('reads raw IP link types 12, 101, 228 and 229, and counts unknown link types', () => {
    const v6 = ipv6(PROTO_UDP, udp(7, 8, payload));
    for (const linktype of [12, 101]) {
      const r = readCapture(classicPcap(linktype, [
        { sec: 1, frac: 0, data: ip },
        { sec: 1, frac: 0, data: v6 },
        { sec: 1, frac: 0, data: Buffer.from([0x50, 0]) }, // version 5
      ]));
      expect(r.datagrams.map((d) => d.srcAddr.length)).to.deep.equal([4, 16]);
      expect(r.skipped).to.deep.equal({ not_ip: 1 });
    }
    expect(readCapture(classicPcap(228, [{ sec: 1, frac: 0, data: ip }])).datagrams).to.have.length(1);
    expect(readCapture(classicPcap(229, [{ sec: 1, frac: 0, data: v6 }])).datagrams).to.have.length(1);
    const unknown = readCapture(classicPcap(147, [{ sec: 1, frac: 0, data: ip }]));
    expect(unknown.datagrams).to.have.length(0);
    expect(unknown.skipped).to.deep.equal({ unsupported_linktype: 1 });
  });

  it('honours the IPv4 header length and counts non-UDP packets', () => {
    const withOptions = ipv4(PROTO_UDP, udp(1, 2, payload), { options: Buffer.from([0x94, 0x04, 0, 0]) }); // router alert
    const r = readCapture(classicPcap(101, [
      { sec: 1, frac: 0, data: withOptions },
      { sec: 1, frac: 0, data: ipv4(PROTO_TCP, Buffer.alloc(20)) },
      { sec: 1, frac: 0, data: ipv6(58, Buffer.alloc(8)) }, // ICMPv6
    ]));
    expect(r.datagrams.map(flat)).to.deep.equal([expected(1_000_000, SRC4, 1, DST4, 2, payload)]);
    expect(r.skipped).to.deep.equal({ not_udp: 2 });
  });

  it('counts truncated packets and files, and bad UDP lengths', () => {
    const full = ethernet(0x0800, ip);
    const file = classicPcap(1, [
      { sec: 1, frac: 0, data: full, caplen: full.length - 5 }, // snaplen cut inside the UDP payload
      { sec: 2, frac: 0, data: full, caplen: 14 + 10 }, // cut inside the IPv4 header
      { sec: 3, frac: 0, data: ethernet(0x0800, ipv4(PROTO_UDP, udp(1, 2, payload, 200))) }, // UDP length past the IP payload
      { sec: 4, frac: 0, data: ethernet(0x0800, ipv4(PROTO_UDP, udp(1, 2, payload, 4))) }, // UDP length below the header size
      { sec: 5, frac: 0, data: full },
      { sec: 6, frac: 0, data: full },
    ]);
    const r = readCapture(file.subarray(0, file.length - 10)); // and the file ends mid-record
    expect(r.packets).to.equal(6);
    expect(r.datagrams.map((d) => d.timestampUs)).to.deep.equal([5_000_000]);
    expect(r.skipped).to.deep.equal({ truncated: 3, bad_udp_length: 2 });
  });

  it('uses the UDP length when the IP payload is longer', () => {
    const data = ipv4(PROTO_UDP, Buffer.concat([udp(1, 2, payload), Buffer.alloc(6)]));
    const r = readCapture(classicPcap(101, [{ sec: 1, frac: 0, data }]));
    expect(r.datagrams.map(flat)).to.deep.equal([expected(1_000_000, SRC4, 1, DST4, 2, payload)]);
  });

  it('throws only on an unrecognised magic number', () => {
    const garbage = Buffer.from('hello world, this is not a capture');
    expect(() => readCapture(garbage)).to.throw(Error, 'not a pcap or pcapng file (magic 0x68656c6c)');
    expect(() => readCapture(Buffer.alloc(0))).to.throw(Error, /^not a pcap or pcapng file \(magic 0x/);
    const headerOnly = readCapture(classicPcap(1, []).subarray(0, 10));
    expect(headerOnly).to.deep.equal({ datagrams: [], packets: 0, skipped: { truncated: 1 } });
  });
});

describe('pcap reader: IP fragment reassembly', () => {
  it('reassembles out-of-order IPv4 fragments and reports incomplete ones', () => {
    const payload = bytes(100, 5);
    const segment = udp(4000, 9995, payload); // 108 bytes: fragments of 48, 48 and 12
    const frag = (id: number, offset: number, end: number, more: boolean, proto = PROTO_UDP): Buffer =>
      ipv4(proto, segment.subarray(offset, end), { id, fragOffset: offset, more });
    const r = readCapture(classicPcap(101, [
      { sec: 1, frac: 0, data: frag(7, 96, 108, false) },
      { sec: 2, frac: 0, data: frag(8, 0, 48, true) }, // another datagram that never completes
      { sec: 3, frac: 0, data: frag(7, 0, 48, true) },
      { sec: 4, frac: 0, data: ipv4(PROTO_UDP, udp(1, 2, Buffer.from('unfragmented'))) },
      { sec: 5, frac: 0, data: frag(7, 48, 96, true) },
      { sec: 6, frac: 0, data: frag(9, 0, 48, true, PROTO_TCP) },
    ]));
    expect(r.packets).to.equal(6);
    expect(r.datagrams.map(flat)).to.deep.equal([
      expected(4_000_000, SRC4, 1, DST4, 2, Buffer.from('unfragmented')),
      expected(5_000_000, SRC4, 4000, DST4, 9995, payload), // delivered when its last piece arrived
    ]);
    expect(r.skipped).to.deep.equal({ fragment_incomplete: 1, not_udp: 1 });
  });

  it('keeps fragments from different sources apart', () => {
    const a = udp(1, 2, bytes(16, 1));
    const b = udp(3, 4, bytes(16, 2));
    const r = readCapture(classicPcap(101, [
      { sec: 1, frac: 0, data: ipv4(PROTO_UDP, a.subarray(0, 8), { id: 1, more: true }) },
      { sec: 1, frac: 0, data: ipv4(PROTO_UDP, b.subarray(0, 8), { id: 1, more: true, src: [10, 9, 9, 9] }) },
      { sec: 1, frac: 0, data: ipv4(PROTO_UDP, b.subarray(8), { id: 1, fragOffset: 8, src: [10, 9, 9, 9] }) },
      { sec: 1, frac: 0, data: ipv4(PROTO_UDP, a.subarray(8), { id: 1, fragOffset: 8 }) },
    ]));
    expect(r.datagrams.map((d) => [addr(d.srcAddr), d.srcPort, d.payload.toString('hex')])).to.deep.equal([
      ['10.9.9.9', 3, bytes(16, 2).toString('hex')],
      [SRC4.join('.'), 1, bytes(16, 1).toString('hex')],
    ]);
    expect(r.skipped).to.deep.equal({});
  });

  it('bounds the number and size of partial datagrams', () => {
    const records: PcapRecord[] = [];
    for (let id = 0; id < 1100; id++) records.push({ sec: 1, frac: 0, data: ipv4(PROTO_UDP, Buffer.alloc(8), { id, more: true }) });
    records.push({ sec: 1, frac: 0, data: ipv4(PROTO_UDP, Buffer.alloc(16), { id: 5000, fragOffset: 65528 }) });
    const r = readCapture(classicPcap(101, records));
    // 1100 never-completed datagrams: 76 evicted early, 1024 still pending at the end.
    expect(r.skipped).to.deep.equal({ fragment_incomplete: 1100, fragment_too_big: 1 });
  });

  it('reassembles IPv6 fragments behind a hop-by-hop header, with a destination-options header inside', () => {
    const payload = bytes(60, 77);
    const fragmentable = Buffer.concat([ext6(PROTO_UDP), udp(36123, 6343, payload)]); // 8 + 68 = 76 bytes
    const piece = (offset: number, end: number, more: boolean): Buffer =>
      ipv6(0, Buffer.concat([ext6(44), frag6(60, offset, more, 0xabcdef), fragmentable.subarray(offset, end)]));
    const r = readCapture(classicPcap(229, [
      { sec: 1, frac: 10, data: piece(40, 76, false) },
      { sec: 1, frac: 20, data: piece(0, 40, true) },
    ]));
    expect(r.datagrams.map(flat)).to.deep.equal([expected(1_000_020, SRC6, 36123, DST6, 6343, payload)]);
    expect(r.skipped).to.deep.equal({});
  });

  it('walks IPv6 routing and AH headers and atomic fragments, and stops at ESP', () => {
    const payload = bytes(12, 1);
    const ah = Buffer.concat([Buffer.from([PROTO_UDP, 4, 0, 0]), Buffer.alloc(20)]); // (4 + 2) * 4 = 24 bytes
    const r = readCapture(classicPcap(229, [
      { sec: 1, frac: 0, data: ipv6(43, Buffer.concat([ext6(51), ah, udp(1, 2, payload)])) },
      { sec: 2, frac: 0, data: ipv6(44, Buffer.concat([frag6(PROTO_UDP, 0, false, 1), udp(3, 4, payload)])) },
      { sec: 3, frac: 0, data: ipv6(50, Buffer.alloc(32)) },
      { sec: 4, frac: 0, data: ipv6(60, Buffer.from([PROTO_UDP, 200, 0, 0])) }, // header longer than the packet
    ]));
    expect(r.datagrams.map((d) => [d.timestampUs, d.srcPort, d.payload.toString('hex')])).to.deep.equal([
      [1_000_000, 1, payload.toString('hex')],
      [2_000_000, 3, payload.toString('hex')],
    ]);
    expect(r.skipped).to.deep.equal({ not_udp: 1, bad_ip_header: 1 });
  });
});

describe('pcap reader: pcapng', () => {
  const payload = bytes(24, 11);
  const v4 = ipv4(PROTO_UDP, udp(1000, 2055, payload));
  const v6 = ipv6(PROTO_UDP, udp(2000, 4739, payload));

  it('reads interfaces with different link types and timestamp resolutions across sections of both byte orders', () => {
    const le = true;
    const be = false;
    const file = Buffer.concat([
      shb(le),
      idb(le, 1), // Ethernet, default µs
      idb(le, 101, [option(le, 2, Buffer.from('eth1')), option(le, 9, Buffer.from([9]))]), // raw IP, ns
      block(le, 0x00000bad, Buffer.from('an unknown block type')),
      block(le, 4, Buffer.alloc(8)), // name resolution block
      epb(le, 0, 1_700_000_000_123_456n, ethernet(0x0800, v4)),
      epb(le, 1, 1_700_000_000_987_654_321n, v6),
      spb(le, ethernet(0x0800, v4)),
      epb(le, 7, 0n, v4), // no such interface
      block(le, 5, Buffer.alloc(12)), // interface statistics
      shb(be), // new section: interface numbering restarts
      idb(be, 229, [option(be, 9, Buffer.from([0x8a]))]), // raw IPv6, 2^-10 s
      idb(be, 228, [option(be, 14, Buffer.from('0000000000000064', 'hex'))]), // raw IPv4, +100 s offset
      epb(be, 0, 1_700_000_000n * 1024n + 512n, v6),
      epb(be, 1, 1_000_000n, v4),
    ]);
    const r = readCapture(file);
    expect(r.packets).to.equal(6);
    expect(r.datagrams.map(flat)).to.deep.equal([
      expected(1_700_000_000_123_456, SRC4, 1000, DST4, 2055, payload),
      expected(1_700_000_000_987_654, SRC6, 2000, DST6, 4739, payload),
      expected(0, SRC4, 1000, DST4, 2055, payload), // SPB: interface 0, no timestamp
      expected(1_700_000_000_500_000, SRC6, 2000, DST6, 4739, payload),
      expected(101_000_000, SRC4, 1000, DST4, 2055, payload),
    ]);
    expect(r.skipped).to.deep.equal({ unknown_interface: 1 });
  });

  it('reads big-endian files and reports a truncated last block', () => {
    const file = Buffer.concat([shb(false), idb(false, 101), epb(false, 0, 5n, v4), epb(false, 0, 6n, v4)]);
    const r = readCapture(file.subarray(0, file.length - 3));
    expect(r.datagrams.map((d) => d.timestampUs)).to.deep.equal([5]);
    expect(r.skipped).to.deep.equal({ truncated: 1 });
  });

  it('cuts simple packet blocks to the interface snaplen', () => {
    const short = ipv4(PROTO_UDP, udp(1, 2, Buffer.from('abc'))); // 31 bytes, padded to 32 in the block
    const r = readCapture(Buffer.concat([shb(true), idb(true, 101, [], 40), spb(true, short), spb(true, v4)]));
    expect(r.datagrams.map(flat)).to.deep.equal([expected(0, SRC4, 1, DST4, 2, Buffer.from('abc'))]);
    expect(r.skipped).to.deep.equal({ truncated: 1 }); // v4 is 52 bytes, only 40 were kept
  });

  it('gives up on a section with an unknown byte-order magic without throwing', () => {
    const bad = Buffer.concat([shb(true), idb(true, 101), epb(true, 0, 5n, v4)]);
    bad.writeUInt32LE(0x12345678, 8);
    expect(readCapture(bad)).to.deep.equal({ datagrams: [], packets: 0, skipped: { bad_block: 1 } });
  });
});

describe('pcap reader: robustness', () => {
  const classic = classicPcap(1, [
    { sec: 1, frac: 0, data: ethernet(0x0800, ipv4(PROTO_UDP, udp(1, 2, bytes(30, 1))), [[0x8100, 5]]) },
    { sec: 2, frac: 0, data: ethernet(0x0800, ipv4(PROTO_UDP, udp(1, 2, bytes(16, 2)).subarray(0, 16), { id: 3, more: true })) },
    { sec: 3, frac: 0, data: ethernet(0x0800, ipv4(PROTO_UDP, udp(1, 2, bytes(16, 2)).subarray(16), { id: 3, fragOffset: 16 })) },
    { sec: 4, frac: 0, data: ethernet(0x86dd, ipv6(0, Buffer.concat([ext6(44), frag6(PROTO_UDP, 0, true, 9), udp(1, 2, bytes(8, 3))]))) },
  ]);
  const ng = Buffer.concat([
    shb(true),
    idb(true, 113, [option(true, 9, Buffer.from([9]))]),
    epb(true, 0, 123n, sll(0x86dd, ipv6(PROTO_UDP, udp(1, 2, bytes(9, 4))))),
    spb(true, sll(0x0800, ipv4(PROTO_UDP, udp(1, 2, bytes(9, 5))))),
  ]);

  it('never throws on any prefix of a valid file', () => {
    for (const file of [classic, ng]) {
      for (let len = 4; len <= file.length; len++) {
        const r = readCapture(file.subarray(0, len));
        expect(r.datagrams.length).to.be.at.most(r.packets);
      }
    }
  });

  it('never throws on randomly corrupted files', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (const file of [classic, ng]) {
      for (let round = 0; round < 2000; round++) {
        const copy = Buffer.from(file);
        const flips = 1 + random(4);
        for (let i = 0; i < flips; i++) copy[4 + random(copy.length - 4)] = random(256);
        const r: CaptureReadResult = readCapture(copy);
        for (const d of r.datagrams) {
          expect([4, 16]).to.include(d.srcAddr.length);
          expect(d.dstAddr.length).to.equal(d.srcAddr.length);
        }
      }
    }
  });

  it('reads 100k packets', () => {
    const payload = bytes(100, 1);
    const datagrams: CapturedDatagram[] = [];
    for (let i = 0; i < 100_000; i++) datagrams.push(datagram(1_700_000_000_000_000 + i, SRC4, 1, DST4, 2055, payload));
    const r = readCapture(writePcap(datagrams));
    expect(r.datagrams).to.have.length(100_000);
    expect(r.datagrams[99_999].timestampUs).to.equal(1_700_000_000_099_999);
  });
});

describe('pcap reader: reference captures', () => {
  function payloadVersion(d: CapturedDatagram, bytesLen: 2 | 4): number {
    return bytesLen === 2 ? d.payload.readUInt16BE(0) : d.payload.readUInt32BE(0);
  }

  it('tcpdump_sflow_expanded.pcap: one sFlow v5 datagram over IPv4', () => {
    const r = readCaptureFile(captureFile('tcpdump_sflow_expanded.pcap'));
    expect(r.packets).to.equal(1);
    expect(r.skipped).to.deep.equal({});
    expect(r.datagrams).to.have.length(1);
    const d = r.datagrams[0];
    expect(addr(d.srcAddr)).to.equal('192.0.2.100');
    expect(addr(d.dstAddr)).to.equal('192.0.2.101');
    expect([d.srcPort, d.dstPort]).to.deep.equal([47873, 6343]);
    expect(d.timestampUs).to.equal(1_672_326_228_557_763);
    expect(d.payload.length).to.equal(328);
    expect(payloadVersion(d, 4)).to.equal(5);
  });

  it('tcpdump_sflow-print-v6.pcap: 25 sFlow v5 datagrams over IPv6', () => {
    const r = readCaptureFile(captureFile('tcpdump_sflow-print-v6.pcap'));
    expect(r.packets).to.equal(25);
    expect(r.skipped).to.deep.equal({});
    expect(r.datagrams).to.have.length(25);
    const agent = [0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1]; // 30::1:1:1
    for (const d of r.datagrams) {
      expect(Array.from(d.srcAddr)).to.deep.equal(agent);
      expect(d.dstPort).to.equal(6343);
      expect(payloadVersion(d, 4)).to.equal(5);
    }
    expect(r.datagrams[0].timestampUs).to.equal(1_599_194_542_951_505);
    expect(r.datagrams[0].payload.length).to.equal(216);
    const times = r.datagrams.map((d) => d.timestampUs);
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
  });

  it('pmacct_100-IPFIXv10-CISCO.pcap: IPFIX to udp/9991 whose message lengths match the datagrams', () => {
    const r = readCaptureFile(captureFile('pmacct_100-IPFIXv10-CISCO.pcap'));
    expect(r.packets).to.equal(6);
    expect(r.skipped).to.deep.equal({});
    expect(r.datagrams).to.have.length(6);
    for (const d of r.datagrams) {
      expect(addr(d.srcAddr)).to.equal('138.187.0.13');
      expect(d.dstPort).to.equal(9991);
      expect(payloadVersion(d, 2)).to.equal(10);
      expect(d.payload.readUInt16BE(2), 'IPFIX message length').to.equal(d.payload.length);
    }
    expect(r.datagrams.map((d) => d.timestampUs)).to.deep.equal([0, 1, 2, 3, 4, 5].map((i) => 1_672_534_805_000_000 + i * 1000));
  });

  it('pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap: NetFlow v9 to udp/9991', () => {
    const file = captureFile('pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap');
    const r = readCaptureFile(file);
    expect(r.packets).to.equal(25);
    expect(r.skipped).to.deep.equal({});
    expect(r.datagrams).to.have.length(25);
    for (const d of r.datagrams) {
      expect(addr(d.srcAddr)).to.equal('10.10.0.33');
      expect(d.dstPort).to.equal(9991);
      expect(payloadVersion(d, 2)).to.equal(9);
    }
    expect(new Set(r.datagrams.map((d) => d.srcPort))).to.deep.equal(new Set([24920, 6512]));
    expect(readCapture(readFileSync(file)).datagrams.map(flat)).to.deep.equal(r.datagrams.map(flat));
  });
});

describe('streamCaptureFile (chunked reading for large captures)', () => {
  const ROOT = path.resolve(__dirname, '../../..');
  const shape = (d: CapturedDatagram): string =>
    `${d.timestampUs}|${Buffer.from(d.srcAddr).toString('hex')}:${d.srcPort}>${Buffer.from(d.dstAddr).toString('hex')}:${d.dstPort}|${d.payload.toString('hex')}`;

  const files = [
    path.join(ROOT, 'fixtures', 'softflowd-v9.pcap'),
    path.join(ROOT, 'fixtures', 'pmacct-sflow.pcap'),
    path.resolve(ROOT, '../shared/captures/tcpdump_sflow-print-v6.pcap'),
    path.resolve(ROOT, '../shared/captures/pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap'),
  ];

  it('gives exactly what readCaptureFile gives, for any chunk size, pcap and pcapng', () => {
    const editcap = requireTool('editcap', 'tshark');
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-stream-'));
    const all = [...files];
    for (const f of files.slice(0, 2)) {
      const ng = path.join(dir, `${path.basename(f)}.pcapng`);
      execFileSync(editcap, ['-F', 'pcapng', f, ng]);
      all.push(ng);
    }
    for (const f of all) {
      const whole = readCaptureFile(f);
      for (const chunk of [64, 1000, 4096, 8 << 20]) {
        const got: string[] = [];
        const r = streamCaptureFile(f, (d) => got.push(shape(d)), chunk);
        expect(got, `${path.basename(f)} chunk ${chunk}`).to.deep.equal(whole.datagrams.map(shape));
        expect(r.packets).to.equal(whole.packets);
        expect(r.skipped).to.deep.equal(whole.skipped);
      }
    }
  });

  it('counts a file cut mid-record as truncated, like the one-shot reader', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-stream-'));
    const src = readFileSync(files[0]);
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, src.subarray(0, src.length - 100));
    const whole = readCaptureFile(cut);
    const r = streamCaptureFile(cut, () => undefined, 512);
    expect(r.skipped).to.deep.equal(whole.skipped);
    expect(r.skipped.truncated).to.equal(1);
  });
});
