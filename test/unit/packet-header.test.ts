import { expect } from 'chai';
import { LayerStack, newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { parsePacketHeader } from '../../src/decode/packet-header';
import { ipToText, textToIp } from '../../src/util/ip';

// ---- test-only packet builders (network byte order, minimal headers) ----

function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function ethernet(dst: string, src: string, etype: number): Buffer {
  return Buffer.concat([mac(dst), mac(src), be16(etype)]);
}

function vlanTag(pcp: number, vid: number, etype: number): Buffer {
  return Buffer.concat([be16((pcp << 13) | vid), be16(etype)]);
}

function mplsEntry(label: number, tc: number, bottom: boolean, ttl: number): Buffer {
  return be32(((label << 12) | (tc << 9) | (bottom ? 0x100 : 0) | ttl) >>> 0);
}

interface Ipv4Opts {
  tos?: number; id?: number; flags?: number; fragOffset?: number; ttl?: number; proto: number;
  src: string; dst: string; optionWords?: number;
}

function ipv4(o: Ipv4Opts): Buffer {
  const words = 5 + (o.optionWords ?? 0);
  const h = Buffer.alloc(words * 4);
  h[0] = 0x40 | words;
  h[1] = o.tos ?? 0;
  h.writeUInt16BE(100, 2);
  h.writeUInt16BE(o.id ?? 0, 4);
  h.writeUInt16BE(((o.flags ?? 0) << 13) | (o.fragOffset ?? 0), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  Buffer.from(textToIp(o.src)).copy(h, 12);
  Buffer.from(textToIp(o.dst)).copy(h, 16);
  if (words > 5) h.fill(1, 20); // NOP options
  return h;
}

interface Ipv6Opts { tc?: number; flowLabel?: number; next: number; hop?: number; src: string; dst: string }

function ipv6(o: Ipv6Opts): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(((6 << 28) | ((o.tc ?? 0) << 20) | (o.flowLabel ?? 0)) >>> 0, 0);
  h.writeUInt16BE(200, 4);
  h[6] = o.next;
  h[7] = o.hop ?? 64;
  Buffer.from(textToIp(o.src)).copy(h, 8);
  Buffer.from(textToIp(o.dst)).copy(h, 24);
  return h;
}

/** Hop-by-hop or destination options: `units` of 8 bytes beyond the first 8. */
function ipv6Options(next: number, units: number): Buffer {
  const h = Buffer.alloc((units + 1) * 8, 0);
  h[0] = next;
  h[1] = units;
  h[2] = 1; // PadN
  h[3] = (units + 1) * 8 - 4;
  return h;
}

function ipv6Fragment(next: number, offset: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h.writeUInt16BE((offset << 3) | (more ? 1 : 0), 2);
  h.writeUInt32BE(id, 4);
  return h;
}

function segmentRouting(next: number, segLeft: number, segments: string[]): Buffer {
  const h = Buffer.alloc(8 + 16 * segments.length);
  h[0] = next;
  h[1] = segments.length * 2; // in 8-byte units beyond the first 8
  h[2] = 4; // routing type: SRH
  h[3] = segLeft;
  h[4] = segments.length - 1; // last entry
  segments.forEach((s, i) => Buffer.from(textToIp(s)).copy(h, 8 + 16 * i));
  return h;
}

function authHeader(next: number): Buffer {
  const h = Buffer.alloc(16); // payload len 2 → (2 + 2) * 4 = 16 bytes
  h[0] = next;
  h[1] = 2;
  return h;
}

interface TcpOpts { sport: number; dport: number; flags: number; ns?: boolean; dataOffsetWords?: number }

function tcp(o: TcpOpts): Buffer {
  const words = o.dataOffsetWords ?? 5;
  const h = Buffer.alloc(words * 4);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(12345, 4);
  h[12] = (words << 4) | (o.ns ? 1 : 0);
  h[13] = o.flags;
  return h;
}

function udp(sport: number, dport: number): Buffer {
  return Buffer.concat([be16(sport), be16(dport), be16(8), be16(0)]);
}

function icmp(type: number, code: number): Buffer {
  return Buffer.from([type, code, 0, 0, 0, 1, 0, 1]);
}

const payload = (n: number): Buffer => Buffer.alloc(n, 0xab);

function parse(protocol: number, header: Buffer): { ok: boolean; rec: FlowRecord } {
  const rec = newFlowRecord();
  const ok = parsePacketHeader(protocol, header, rec);
  return { ok, rec };
}

const ETH = 1;
const IPV4 = 11;
const IPV6 = 12;
const MPLS = 13;

describe('parsePacketHeader', () => {
  describe('Ethernet / IPv4 / TCP', () => {
    const pkt = Buffer.concat([
      ethernet('00:11:22:33:44:55', '66:77:88:99:aa:bb', 0x0800),
      ipv4({ tos: 0xb8, id: 0x1234, flags: 2, ttl: 63, proto: 6, src: '10.1.2.3', dst: '192.0.2.9' }),
      tcp({ sport: 443, dport: 50000, flags: 0xc2, ns: true, dataOffsetWords: 8 }), // SYN+ECE+CWR, NS
      payload(20),
    ]);

    it('fills MACs, IP fields, ports and all TCP flag bits', () => {
      const { ok, rec } = parse(ETH, pkt);
      expect(ok).to.equal(true);
      expect(rec.dst_mac).to.equal(0x001122334455);
      expect(rec.src_mac).to.equal(0x66778899aabb);
      expect(rec.etype).to.equal(0x0800);
      expect(rec.ip_tos).to.equal(0xb8);
      expect(rec.fragment_id).to.equal(0x1234);
      expect(rec.ip_flags).to.equal(2);
      expect(rec.fragment_offset).to.equal(0);
      expect(rec.ip_ttl).to.equal(63);
      expect(rec.proto).to.equal(6);
      expect(ipToText(rec.src_addr)).to.equal('10.1.2.3');
      expect(ipToText(rec.dst_addr)).to.equal('192.0.2.9');
      expect(rec.src_port).to.equal(443);
      expect(rec.dst_port).to.equal(50000);
      expect(rec.tcp_flags).to.equal(0x1c2);
      expect(rec.layer_stack).to.deep.equal([LayerStack.Ethernet, LayerStack.IPv4, LayerStack.TCP]);
      expect(rec.layer_size).to.deep.equal([14, 20, 32]);
      expect(rec.vlan_id).to.equal(0);
      expect(rec.mpls_label).to.deep.equal([]);
    });

    it('copies addresses out of the sample (they stay valid if the datagram is reused)', () => {
      const copy = Buffer.from(pkt);
      const { rec } = parse(ETH, copy);
      copy.fill(0);
      expect(ipToText(rec.src_addr)).to.equal('10.1.2.3');
    });
  });

  it('decodes VLAN + MPLS + IPv6 + TCP', () => {
    const pkt = Buffer.concat([
      ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x8100),
      vlanTag(5, 100, 0x8847),
      mplsEntry(1000, 0, false, 64),
      mplsEntry(2000, 3, true, 63),
      ipv6({ tc: 0x2e, flowLabel: 0xabcde, next: 6, hop: 55, src: '2001:db8::1', dst: '2001:db8::2' }),
      tcp({ sport: 179, dport: 40000, flags: 0x18 }),
    ]);
    const { ok, rec } = parse(ETH, pkt);
    expect(ok).to.equal(true);
    expect(rec.vlan_id).to.equal(100);
    expect(rec.mpls_label).to.deep.equal([1000, 2000]);
    expect(rec.mpls_ttl).to.deep.equal([64, 63]);
    // etype names the network layer of the addresses (guessed below the label stack).
    expect(rec.etype).to.equal(0x86dd);
    expect(rec.ip_tos).to.equal(0x2e);
    expect(rec.ipv6_flow_label).to.equal(0xabcde);
    expect(rec.ip_ttl).to.equal(55);
    expect(rec.proto).to.equal(6);
    expect(ipToText(rec.src_addr)).to.equal('2001:db8::1');
    expect(ipToText(rec.dst_addr)).to.equal('2001:db8::2');
    expect(rec.src_port).to.equal(179);
    expect(rec.dst_port).to.equal(40000);
    expect(rec.tcp_flags).to.equal(0x18);
    expect(rec.layer_stack).to.deep.equal([
      LayerStack.Ethernet, LayerStack.Dot1Q, LayerStack.MPLS, LayerStack.IPv6, LayerStack.TCP,
    ]);
    expect(rec.layer_size).to.deep.equal([14, 4, 8, 40, 20]);
  });

  it('takes vlan_id from the outer tag of QinQ and lists both tags', () => {
    const pkt = Buffer.concat([
      ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x88a8),
      vlanTag(0, 10, 0x8100),
      vlanTag(0, 20, 0x0800),
      ipv4({ proto: 17, src: '10.0.0.1', dst: '10.0.0.2' }),
      udp(53, 5353),
    ]);
    const { rec } = parse(ETH, pkt);
    expect(rec.vlan_id).to.equal(10);
    expect(rec.etype).to.equal(0x0800);
    expect(rec.layer_stack).to.deep.equal([
      LayerStack.Ethernet, LayerStack.Dot1Q, LayerStack.Dot1Q, LayerStack.IPv4, LayerStack.UDP,
    ]);
    expect(rec.layer_size).to.deep.equal([14, 4, 4, 20, 8]);
    expect([rec.src_port, rec.dst_port]).to.deep.equal([53, 5353]);
  });

  it('keeps etype 0x8847 when the MPLS payload is not IP', () => {
    const pkt = Buffer.concat([
      ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x8847),
      mplsEntry(16, 0, true, 1),
      payload(30).fill(0x00),
    ]);
    const { rec } = parse(ETH, pkt);
    expect(rec.etype).to.equal(0x8847);
    expect(rec.mpls_label).to.deep.equal([16]);
    expect(rec.src_addr.length).to.equal(0);
    expect(rec.layer_stack).to.deep.equal([LayerStack.Ethernet, LayerStack.MPLS]);
  });

  it('parses a header that starts with the MPLS label stack (header_protocol 13)', () => {
    const pkt = Buffer.concat([mplsEntry(77, 0, true, 9), ipv4({ proto: 17, src: '10.0.0.1', dst: '10.0.0.2' }), udp(1, 2)]);
    const { ok, rec } = parse(MPLS, pkt);
    expect(ok).to.equal(true);
    expect(rec.mpls_label).to.deep.equal([77]);
    expect(rec.etype).to.equal(0x0800);
    expect(rec.layer_stack).to.deep.equal([LayerStack.MPLS, LayerStack.IPv4, LayerStack.UDP]);
  });

  it('does not read L4 from a non-first IPv4 fragment', () => {
    const pkt = Buffer.concat([
      ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x0800),
      ipv4({ id: 0xbeef, flags: 1, fragOffset: 185, proto: 17, src: '10.0.0.1', dst: '10.0.0.2' }),
      udp(1111, 2222), // payload bytes that merely look like a UDP header
    ]);
    const { rec } = parse(ETH, pkt);
    expect(rec.fragment_id).to.equal(0xbeef);
    expect(rec.fragment_offset).to.equal(185); // 8-byte units: byte offset 1480
    expect(rec.ip_flags).to.equal(1); // MF
    expect(rec.proto).to.equal(17);
    expect(rec.src_port).to.equal(0);
    expect(rec.dst_port).to.equal(0);
    expect(rec.layer_stack).to.deep.equal([LayerStack.Ethernet, LayerStack.IPv4]);
  });

  it('reads L4 from the first IPv4 fragment', () => {
    const pkt = Buffer.concat([ipv4({ flags: 1, fragOffset: 0, proto: 17, src: '10.0.0.1', dst: '10.0.0.2' }), udp(1111, 2222)]);
    const { rec } = parse(IPV4, pkt);
    expect(rec.ip_flags).to.equal(1);
    expect([rec.src_port, rec.dst_port]).to.deep.equal([1111, 2222]);
  });

  it('skips IPv4 options to find the transport header', () => {
    const pkt = Buffer.concat([ipv4({ proto: 17, src: '10.0.0.1', dst: '10.0.0.2', optionWords: 2 }), udp(7, 9)]);
    const { ok, rec } = parse(IPV4, pkt);
    expect(ok).to.equal(true);
    expect(rec.etype).to.equal(0x0800);
    expect([rec.src_port, rec.dst_port]).to.deep.equal([7, 9]);
    expect(rec.layer_stack).to.deep.equal([LayerStack.IPv4, LayerStack.UDP]);
    expect(rec.layer_size).to.deep.equal([28, 8]);
  });

  it('decodes ICMP type and code', () => {
    const pkt = Buffer.concat([
      ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x0800),
      ipv4({ proto: 1, src: '10.0.0.1', dst: '10.0.0.2' }),
      icmp(3, 4),
    ]);
    const { rec } = parse(ETH, pkt);
    expect(rec.proto).to.equal(1);
    expect(rec.icmp_type).to.equal(3);
    expect(rec.icmp_code).to.equal(4);
    expect(rec.src_port).to.equal(0);
    expect(rec.layer_stack).to.deep.equal([LayerStack.Ethernet, LayerStack.IPv4, LayerStack.ICMP]);
    expect(rec.layer_size).to.deep.equal([14, 20, 8]);
  });

  it('decodes ICMPv6 (and only over IPv6)', () => {
    const v6 = parse(IPV6, Buffer.concat([ipv6({ next: 58, src: 'fe80::1', dst: 'ff02::1' }), icmp(135, 0)])).rec;
    expect(v6.etype).to.equal(0x86dd);
    expect(v6.icmp_type).to.equal(135);
    expect(v6.layer_stack).to.deep.equal([LayerStack.IPv6, LayerStack.ICMPv6]);
    const v4 = parse(IPV4, Buffer.concat([ipv4({ proto: 58, src: '10.0.0.1', dst: '10.0.0.2' }), icmp(135, 0)])).rec;
    expect(v4.icmp_type).to.equal(0);
    expect(v4.layer_stack).to.deep.equal([LayerStack.IPv4]);
  });

  it('walks IPv6 hop-by-hop, SRH and fragment headers', () => {
    const segments = ['2001:db8:a::1', '2001:db8:b::1', '2001:db8:c::1'];
    const pkt = Buffer.concat([
      ipv6({ next: 0, src: '2001:db8::1', dst: '2001:db8:c::1' }),
      ipv6Options(43, 1), // 16 bytes
      segmentRouting(44, 2, segments), // 56 bytes
      ipv6Fragment(17, 0, true, 0xdeadbeef),
      udp(4789, 4789),
    ]);
    const { ok, rec } = parse(IPV6, pkt);
    expect(ok).to.equal(true);
    expect(rec.proto).to.equal(17); // the upper layer, not the first Next Header (0)
    expect(rec.ipv6_routing_header_seg_left).to.equal(2);
    expect(rec.ipv6_routing_header_addresses.map(ipToText)).to.deep.equal(segments);
    expect(rec.fragment_id).to.equal(0xdeadbeef);
    expect(rec.fragment_offset).to.equal(0);
    expect(rec.ip_flags).to.equal(1); // M flag
    expect([rec.src_port, rec.dst_port]).to.deep.equal([4789, 4789]);
    expect(rec.layer_stack).to.deep.equal([
      LayerStack.IPv6, LayerStack.IPv6HeaderRouting, LayerStack.IPv6HeaderFragment, LayerStack.UDP,
    ]);
    // Hop-by-hop has no LayerStack value: its 16 bytes count in the IPv6 entry.
    expect(rec.layer_size).to.deep.equal([56, 56, 8, 8]);
  });

  it('walks destination options and AH', () => {
    const pkt = Buffer.concat([ipv6({ next: 60, src: '::1', dst: '::2' }), ipv6Options(51, 0), authHeader(6), tcp({ sport: 1, dport: 2, flags: 2 })]);
    const { rec } = parse(IPV6, pkt);
    expect(rec.proto).to.equal(6);
    expect(rec.tcp_flags).to.equal(2);
    expect(rec.layer_size).to.deep.equal([40 + 8 + 16, 20]);
  });

  it('does not read L4 after a non-first IPv6 fragment', () => {
    const pkt = Buffer.concat([ipv6({ next: 44, src: '::1', dst: '::2' }), ipv6Fragment(6, 100, false, 7), tcp({ sport: 1, dport: 2, flags: 2 })]);
    const { rec } = parse(IPV6, pkt);
    expect(rec.fragment_offset).to.equal(100);
    expect(rec.ip_flags).to.equal(0);
    expect(rec.proto).to.equal(6);
    expect(rec.src_port).to.equal(0);
    expect(rec.layer_stack).to.deep.equal([LayerStack.IPv6, LayerStack.IPv6HeaderFragment]);
  });

  it('reads segments left from a non-SRH routing header but no addresses', () => {
    const rh = Buffer.alloc(24);
    rh[0] = 59; // no next header
    rh[1] = 2;
    rh[2] = 0; // type 0 (deprecated)
    rh[3] = 1;
    const { rec } = parse(IPV6, Buffer.concat([ipv6({ next: 43, src: '::1', dst: '::2' }), rh]));
    expect(rec.ipv6_routing_header_seg_left).to.equal(1);
    expect(rec.ipv6_routing_header_addresses).to.deep.equal([]);
    expect(rec.proto).to.equal(59);
  });

  it('bounds the SRH segment list by the header length, not by Last Entry', () => {
    const srh = segmentRouting(59, 0, ['2001:db8::1']);
    srh[4] = 255; // claims 256 segments
    const { rec } = parse(IPV6, Buffer.concat([ipv6({ next: 43, src: '::1', dst: '::2' }), srh]));
    expect(rec.ipv6_routing_header_addresses.length).to.equal(1);
  });

  it('handles non-IP Ethernet frames', () => {
    const { ok, rec } = parse(ETH, Buffer.concat([ethernet('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:02', 0x0806), payload(28)]));
    expect(ok).to.equal(true);
    expect(rec.etype).to.equal(0x0806);
    expect(rec.layer_stack).to.deep.equal([LayerStack.Ethernet]);
  });

  it('returns false and leaves the record untouched when the first layer cannot be parsed', () => {
    const pristine = JSON.stringify(newFlowRecord());
    for (const [protocol, header] of [
      [2, payload(64)], // token bus: not decoded
      [ETH, payload(13)],
      [IPV4, payload(19)],
      [IPV4, Buffer.concat([ipv6({ next: 6, src: '::1', dst: '::2' })])], // version 6 under protocol 11
      [IPV4, Buffer.from([0x44, ...payload(30)])], // IHL 4 (< 20 bytes)
      [IPV6, payload(39)],
      [MPLS, payload(3)],
    ] as const) {
      const { ok, rec } = parse(protocol, header);
      expect(ok, `protocol ${protocol}, ${header.length} bytes`).to.equal(false);
      expect(JSON.stringify(rec)).to.equal(pristine);
    }
  });

  describe('truncated samples', () => {
    const full = {
      vlanMplsV6Tcp: Buffer.concat([
        ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x8100),
        vlanTag(0, 7, 0x8847),
        mplsEntry(1, 0, false, 1),
        mplsEntry(2, 0, true, 2),
        ipv6({ next: 0, src: '2001:db8::1', dst: '2001:db8::2' }),
        ipv6Options(43, 0),
        segmentRouting(44, 1, ['2001:db8::9', '2001:db8::8']),
        ipv6Fragment(6, 0, false, 1),
        tcp({ sport: 80, dport: 8080, flags: 0x10, dataOffsetWords: 10 }),
      ]),
      v4Tcp: Buffer.concat([
        ethernet('02:00:00:00:00:01', '02:00:00:00:00:02', 0x0800),
        ipv4({ proto: 6, src: '10.0.0.1', dst: '10.0.0.2', optionWords: 3 }),
        tcp({ sport: 80, dport: 8080, flags: 0x10 }),
      ]),
    };

    for (const [name, pkt] of Object.entries(full)) {
      it(`never throws and only fills what is present (${name}, every length)`, () => {
        const complete = parse(ETH, pkt).rec;
        for (let n = 0; n <= pkt.length; n++) {
          const { ok, rec } = parse(ETH, pkt.subarray(0, n));
          expect(ok).to.equal(n >= 14);
          const total = rec.layer_size.reduce((a, b) => a + b, 0);
          expect(total, `layer sizes at ${n}`).to.be.at.most(n);
          expect(rec.layer_stack.length).to.equal(rec.layer_size.length);
          for (const a of [rec.src_addr, ...rec.ipv6_routing_header_addresses]) expect([0, 4, 16]).to.include(a.length);
          // Whatever was decoded agrees with the full packet.
          if (rec.src_addr.length) expect(ipToText(rec.src_addr)).to.equal(ipToText(complete.src_addr));
          if (rec.src_port) expect(rec.src_port).to.equal(complete.src_port);
          expect(complete.layer_stack.slice(0, rec.layer_stack.length)).to.deep.equal(rec.layer_stack);
        }
      });
    }

    it('keeps ports from a TCP header cut after 4 bytes', () => {
      const pkt = Buffer.concat([ipv4({ proto: 6, src: '10.0.0.1', dst: '10.0.0.2' }), tcp({ sport: 22, dport: 2222, flags: 0x12 })]);
      const { rec } = parse(IPV4, pkt.subarray(0, 24));
      expect([rec.src_port, rec.dst_port, rec.tcp_flags]).to.deep.equal([22, 2222, 0]);
      expect(rec.layer_stack).to.deep.equal([LayerStack.IPv4, LayerStack.TCP]);
      expect(rec.layer_size).to.deep.equal([20, 4]);
    });

    it('survives random bytes under every header protocol', () => {
      let state = 0x12345678;
      const rand = (): number => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state >>> 16;
      };
      for (let i = 0; i < 3000; i++) {
        const n = rand() % 160;
        const bytes = Buffer.alloc(n);
        for (let j = 0; j < n; j++) bytes[j] = rand() & 0xff;
        // Bias towards plausible first bytes so deeper layers get exercised.
        if (n > 0 && i % 3 === 0) bytes[0] = i % 2 ? 0x45 : 0x60;
        if (n > 13 && i % 5 === 0) bytes.writeUInt16BE([0x0800, 0x86dd, 0x8100, 0x8847][i % 4], 12);
        for (const protocol of [ETH, IPV4, IPV6, MPLS]) {
          const { rec } = parse(protocol, bytes);
          expect(rec.layer_size.reduce((a, b) => a + b, 0)).to.be.at.most(n);
          expect(rec.mpls_label.length).to.be.at.most(n / 4);
        }
      }
    });
  });
});
