import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FlowType, LayerStack, SamplingRateSource } from '../../src/canonical/flow-record';
import { decodeSflow } from '../../src/decode/sflow';
import { SequenceTracker } from '../../src/decode/sequence-tracker';
import type { DecodeOutput, ErrorReason } from '../../src/decode/types';
import { exporterFromText, ipToText, textToIp } from '../../src/util/ip';

// ---- test-only sFlow v5 (XDR) builder ----

class Xdr {
  private readonly chunks: Buffer[] = [];

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.chunks.push(b);
    return this;
  }

  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.chunks.push(b);
    return this;
  }

  /** Bytes padded to a multiple of 4. */
  raw(b: Uint8Array): this {
    this.chunks.push(Buffer.from(b));
    const pad = (4 - (b.length % 4)) % 4;
    if (pad) this.chunks.push(Buffer.alloc(pad));
    return this;
  }

  /** XDR variable-length opaque: length, bytes, padding. */
  opaque(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }

  /** sFlow address: type (1 IPv4, 2 IPv6) + bytes. */
  address(text: string): this {
    const a = textToIp(text);
    return this.u32(a.length === 4 ? 1 : 2).raw(a);
  }

  u32s(values: readonly number[]): this {
    for (const v of values) this.u32(v);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** format + length + body: the shape of samples, flow records and counter records. */
function tlv(format: number, body: Buffer): Buffer {
  return new Xdr().u32(format).u32(body.length).raw(body).build();
}

interface DatagramOpts { agent?: string; subAgent?: number; seq?: number; samples: Buffer[]; count?: number }

function datagram(o: DatagramOpts): Buffer {
  return Buffer.concat([
    new Xdr().u32(5).address(o.agent ?? '192.0.2.1').u32(o.subAgent ?? 0).u32(o.seq ?? 1).u32(123456)
      .u32(o.count ?? o.samples.length).build(),
    ...o.samples,
  ]);
}

interface FlowSampleOpts {
  seq?: number; sourceId?: number; rate?: number; pool?: number; drops?: number; input?: number; output?: number;
  records: Buffer[]; recordCount?: number;
}

function flowSample(o: FlowSampleOpts): Buffer {
  const body = new Xdr().u32s([o.seq ?? 1, o.sourceId ?? 3, o.rate ?? 512, o.pool ?? 10000, o.drops ?? 0,
    o.input ?? 1, o.output ?? 2, o.recordCount ?? o.records.length]).build();
  return tlv(1, Buffer.concat([body, ...o.records]));
}

interface ExpandedFlowSampleOpts {
  seq?: number; sourceType?: number; sourceIndex?: number; rate?: number;
  inFormat?: number; inValue?: number; outFormat?: number; outValue?: number; records: Buffer[];
}

function expandedFlowSample(o: ExpandedFlowSampleOpts): Buffer {
  const body = new Xdr().u32s([o.seq ?? 1, o.sourceType ?? 0, o.sourceIndex ?? 3, o.rate ?? 512, 10000, 0,
    o.inFormat ?? 0, o.inValue ?? 1, o.outFormat ?? 0, o.outValue ?? 2, o.records.length]).build();
  return tlv(3, Buffer.concat([body, ...o.records]));
}

function rawHeader(protocol: number, frameLength: number, header: Buffer, stripped = 4): Buffer {
  return tlv(1, new Xdr().u32(protocol).u32(frameLength).u32(stripped).opaque(header).build());
}

function sampledEthernet(length: number, src: string, dst: string, etype: number): Buffer {
  const mac = (t: string): Buffer => Buffer.from(t.split(':').map((h) => parseInt(h, 16)));
  return tlv(2, new Xdr().u32(length).raw(mac(src)).raw(mac(dst)).u32(etype).build());
}

interface SampledIpOpts { length: number; proto: number; src: string; dst: string; sport: number; dport: number; flags: number; tos: number }

function sampledIp(o: SampledIpOpts): Buffer {
  const v6 = o.src.includes(':');
  return tlv(v6 ? 4 : 3, new Xdr().u32(o.length).u32(o.proto).raw(textToIp(o.src)).raw(textToIp(o.dst))
    .u32s([o.sport, o.dport, o.flags, o.tos]).build());
}

function extSwitch(srcVlan: number, dstVlan: number): Buffer {
  return tlv(1001, new Xdr().u32s([srcVlan, 3, dstVlan, 5]).build());
}

function extRouter(nextHop: string, srcMask: number, dstMask: number): Buffer {
  return tlv(1002, new Xdr().address(nextHop).u32(srcMask).u32(dstMask).build());
}

interface GatewayOpts {
  nextHop: string; as: number; srcAs: number; srcPeerAs: number;
  segments: { type: number; asns: number[] }[]; communities: number[]; localpref: number;
}

function gatewayBody(o: GatewayOpts): Xdr {
  const x = new Xdr().address(o.nextHop).u32s([o.as, o.srcAs, o.srcPeerAs, o.segments.length]);
  for (const s of o.segments) x.u32(s.type).u32(s.asns.length).u32s(s.asns);
  return x.u32(o.communities.length).u32s(o.communities).u32(o.localpref);
}

function extGateway(o: GatewayOpts): Buffer {
  return tlv(1003, gatewayBody(o).build());
}

interface IfCounters { ifIndex: number; inOctets: bigint; outOctets: bigint }

function genericIfCounters(c: IfCounters): Buffer {
  return tlv(1, new Xdr().u32(c.ifIndex).u32(6).u64(10_000_000_000n).u32(1).u32(3).u64(c.inOctets)
    .u32s([101, 102, 103, 104, 105, 106]).u64(c.outOctets).u32s([201, 202, 203, 204, 205, 1]).build());
}

function counterSample(seq: number, sourceId: number, records: Buffer[]): Buffer {
  return tlv(2, Buffer.concat([new Xdr().u32(seq).u32(sourceId).u32(records.length).build(), ...records]));
}

function expandedCounterSample(seq: number, type: number, index: number, records: Buffer[]): Buffer {
  return tlv(4, Buffer.concat([new Xdr().u32(seq).u32(type).u32(index).u32(records.length).build(), ...records]));
}

/** Ethernet / 802.1Q / IPv4 / TCP, hand-assembled. */
function ethVlanIpv4Tcp(): Buffer {
  const eth = Buffer.from('0a0b0c0d0e0f' + '010203040506' + '8100' + '2064' + '0800', 'hex'); // VLAN 100
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[1] = 0x10; // tos
  ip.writeUInt16BE(1500, 2);
  ip.writeUInt16BE(0x4242, 4); // id
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 60; // ttl
  ip[9] = 6;
  Buffer.from([198, 51, 100, 7]).copy(ip, 12);
  Buffer.from([203, 0, 113, 9]).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(33000, 0);
  tcp.writeUInt16BE(443, 2);
  tcp[12] = 0x50;
  tcp[13] = 0x11; // FIN+ACK
  return Buffer.concat([eth, ip, tcp, Buffer.alloc(30, 0xee)]);
}

const exporter = exporterFromText('192.0.2.200', 6343);
const RECEIVED_US = 1_700_000_000_123_456;

function decode(buf: Buffer, seq = new SequenceTracker()): DecodeOutput {
  return decodeSflow(buf, exporter, RECEIVED_US, seq);
}

function reasons(out: DecodeOutput): ErrorReason[] {
  return out.errors.map((e) => e.reason);
}

/** The flow sample of the first tests: every record kind the decoder maps. */
function richFlowSample(seq = 1): Buffer {
  return flowSample({
    seq, sourceId: (0 << 24) | 17, rate: 2048, input: 17, output: 42,
    records: [
      rawHeader(1, 1518, ethVlanIpv4Tcp()),
      extSwitch(100, 200),
      extRouter('192.0.2.254', 24, 16),
      extGateway({
        nextHop: '192.0.2.253', as: 65000, srcAs: 64500, srcPeerAs: 64501,
        segments: [{ type: 2, asns: [64510, 64511] }, { type: 1, asns: [64512] }],
        communities: [0xfde80001, 0xfde80002], localpref: 100,
      }),
    ],
  });
}

// ---- pcap: just enough to pull UDP payloads out of a classic Ethernet capture ----

function udpPayloads(file: string): Buffer[] {
  const b = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const inclLen = b.readUInt32LE(off + 8); // little-endian capture (magic d4c3b2a1)
    const frame = b.subarray(off + 16, off + 16 + inclLen);
    off += 16 + inclLen;
    const etype = frame.readUInt16BE(12);
    const ipStart = 14;
    let udpStart: number;
    if (etype === 0x0800) udpStart = ipStart + (frame[ipStart] & 0x0f) * 4;
    else if (etype === 0x86dd && frame[ipStart + 6] === 17) udpStart = ipStart + 40;
    else continue;
    out.push(frame.subarray(udpStart + 8, udpStart + frame.readUInt16BE(udpStart + 4)));
  }
  return out;
}

const capture = (name: string): string => path.resolve(__dirname, '../../../..', 'shared/captures', name);

describe('decodeSflow', () => {
  describe('flow samples', () => {
    it('maps a flow sample with raw header, switch, router and gateway records', () => {
      const out = decode(datagram({ agent: '192.0.2.1', subAgent: 7, seq: 99, samples: [richFlowSample()] }));
      expect(out.protocol).to.equal('sflow');
      expect(out.errors).to.deep.equal([]);
      expect(out.flows).to.have.length(1);
      const r = out.flows[0];
      expect(r.type).to.equal(FlowType.SFLOW_5);
      expect(ipToText(r.sampler_address)).to.equal('192.0.2.1');
      expect(r.sflow_sub_agent_id).to.equal(7);
      expect(r.sequence_num).to.equal(99);
      expect(r.time_received_us).to.equal(RECEIVED_US);
      expect(r.time_flow_start_us).to.equal(RECEIVED_US);
      expect(r.time_flow_end_us).to.equal(RECEIVED_US);
      expect(ipToText(r.exporter_address)).to.equal('192.0.2.200');
      expect(r.exporter_port).to.equal(6343);
      expect(r.sampling_rate).to.equal(2048);
      expect(r.sampling_rate_source).to.equal(SamplingRateSource.SAMPLING_SFLOW);
      expect(r.sflow_source_id).to.equal(17);
      expect(r.in_if).to.equal(17);
      expect(r.out_if).to.equal(42);
      // raw header
      expect(r.bytes).to.equal(1518);
      expect(r.packets).to.equal(1);
      expect(r.dst_mac).to.equal(0x0a0b0c0d0e0f);
      expect(r.src_mac).to.equal(0x010203040506);
      expect(r.vlan_id).to.equal(100);
      expect(r.etype).to.equal(0x0800);
      expect(ipToText(r.src_addr)).to.equal('198.51.100.7');
      expect(ipToText(r.dst_addr)).to.equal('203.0.113.9');
      expect([r.proto, r.src_port, r.dst_port, r.tcp_flags]).to.deep.equal([6, 33000, 443, 0x11]);
      expect([r.ip_tos, r.ip_ttl, r.ip_flags, r.fragment_id]).to.deep.equal([0x10, 60, 2, 0x4242]);
      expect(r.layer_stack).to.deep.equal([LayerStack.Ethernet, LayerStack.Dot1Q, LayerStack.IPv4, LayerStack.TCP]);
      // extended switch
      expect([r.src_vlan, r.dst_vlan]).to.deep.equal([100, 200]);
      // extended router
      expect(ipToText(r.next_hop)).to.equal('192.0.2.254');
      expect([r.src_net, r.dst_net]).to.deep.equal([24, 16]);
      // extended gateway: AS_SEQUENCE then AS_SET, flattened in order
      expect(ipToText(r.bgp_next_hop)).to.equal('192.0.2.253');
      expect(r.src_as).to.equal(64500);
      expect(r.as_path).to.deep.equal([64510, 64511, 64512]);
      expect(r.next_hop_as).to.equal(64510);
      expect(r.dst_as).to.equal(64512);
      expect(r.bgp_communities).to.deep.equal([0xfde80001, 0xfde80002]);
      expect(out.sequenceGap).to.equal(0);
    });

    it('maps the compact source id and interface formats', () => {
      const samples = [
        flowSample({ seq: 1, sourceId: (1 << 24) | 5, input: 0x3fffffff, output: (1 << 30) | 3, records: [] }), // discarded
        flowSample({ seq: 1, sourceId: (2 << 24) | 6, input: 9, output: (2 << 30) | 4, records: [] }), // multiple
      ];
      const out = decode(datagram({ samples }));
      expect(out.errors).to.deep.equal([]);
      expect(out.flows.map((f) => f.sflow_source_id)).to.deep.equal([0x01000005, 0x02000006]);
      expect(out.flows.map((f) => f.in_if)).to.deep.equal([0x3fffffff, 9]);
      expect(out.flows.map((f) => f.out_if)).to.deep.equal([0, 0]);
      // A sample without records is still a sampled packet of unknown content.
      expect(out.flows[0].bytes).to.equal(0);
    });

    it('decodes an expanded flow sample', () => {
      const sample = expandedFlowSample({
        seq: 5, sourceType: 2, sourceIndex: 0x01234567, rate: 100,
        inFormat: 0, inValue: 0x40000001, outFormat: 2, outValue: 7,
        records: [rawHeader(1, 90, ethVlanIpv4Tcp())],
      });
      const out = decode(datagram({ samples: [sample] }));
      expect(out.errors).to.deep.equal([]);
      const r = out.flows[0];
      // Index beyond 24 bits: the compact canonical form keeps its low 24 bits.
      expect(r.sflow_source_id).to.equal(0x02234567);
      expect(r.in_if).to.equal(0x40000001); // expanded values use all 32 bits
      expect(r.out_if).to.equal(0);
      expect(r.sampling_rate).to.equal(100);
      expect(r.bytes).to.equal(90);
      expect(ipToText(r.src_addr)).to.equal('198.51.100.7');
    });

    it('uses sampled IPv4 / IPv6 records when there is no raw header', () => {
      const v4 = flowSample({ records: [sampledIp({ length: 1000, proto: 17, src: '10.0.0.1', dst: '10.0.0.2', sport: 53, dport: 1024, flags: 0, tos: 0x20 })] });
      const v6 = flowSample({ seq: 2, records: [sampledIp({ length: 1200, proto: 6, src: '2001:db8::1', dst: '2001:db8::2', sport: 80, dport: 2000, flags: 0x12, tos: 0x2e })] });
      const out = decode(datagram({ samples: [v4, v6] }));
      expect(out.errors).to.deep.equal([]);
      const [a, b] = out.flows;
      expect([a.bytes, a.packets, a.etype, a.proto, a.src_port, a.dst_port, a.ip_tos]).to.deep.equal([1000, 1, 0x0800, 17, 53, 1024, 0x20]);
      expect([ipToText(a.src_addr), ipToText(a.dst_addr)]).to.deep.equal(['10.0.0.1', '10.0.0.2']);
      expect([b.bytes, b.etype, b.proto, b.src_port, b.dst_port, b.tcp_flags, b.ip_tos]).to.deep.equal([1200, 0x86dd, 6, 80, 2000, 0x12, 0x2e]);
      expect([ipToText(b.src_addr), ipToText(b.dst_addr)]).to.deep.equal(['2001:db8::1', '2001:db8::2']);
    });

    it('lets the raw header win over a sampled IPv4 record in either order', () => {
      const sampled = sampledIp({ length: 9999, proto: 17, src: '10.9.9.9', dst: '10.8.8.8', sport: 1, dport: 2, flags: 0, tos: 0 });
      for (const records of [[sampled, rawHeader(1, 1518, ethVlanIpv4Tcp())], [rawHeader(1, 1518, ethVlanIpv4Tcp()), sampled]]) {
        const r = decode(datagram({ samples: [flowSample({ records })] })).flows[0];
        expect(r.bytes).to.equal(1518);
        expect(ipToText(r.src_addr)).to.equal('198.51.100.7');
        expect([r.proto, r.src_port, r.dst_port]).to.deep.equal([6, 33000, 443]);
      }
    });

    it('decodes a sampled Ethernet record', () => {
      const r = decode(datagram({ samples: [flowSample({ records: [sampledEthernet(64, '02:00:00:00:00:01', '02:00:00:00:00:02', 0x0806)] })] })).flows[0];
      expect([r.bytes, r.packets, r.src_mac, r.dst_mac, r.etype]).to.deep.equal([64, 1, 0x020000000001, 0x020000000002, 0x0806]);
    });

    it('decodes IPv6 agents and IPv6 next hops', () => {
      const sample = flowSample({ records: [extRouter('2001:db8::fe', 48, 64), extGateway({ nextHop: '2001:db8::fd', as: 1, srcAs: 2, srcPeerAs: 3, segments: [], communities: [], localpref: 0 })] });
      const out = decode(datagram({ agent: '2001:db8::a', samples: [sample] }));
      expect(out.errors).to.deep.equal([]);
      const r = out.flows[0];
      expect(r.sampler_address.length).to.equal(16);
      expect(ipToText(r.sampler_address)).to.equal('2001:db8::a');
      expect(ipToText(r.next_hop)).to.equal('2001:db8::fe');
      expect(ipToText(r.bgp_next_hop)).to.equal('2001:db8::fd');
      expect([r.src_net, r.dst_net]).to.deep.equal([48, 64]);
      // Empty AS path: destination is local to the agent's AS, no path ASNs to report.
      expect([r.dst_as, r.next_hop_as, r.as_path.length, r.bgp_communities.length]).to.deep.equal([0, 0, 0, 0]);
    });

    it('accepts next hop address type 0 (unknown) as an empty address', () => {
      const body = new Xdr().u32(0).u32(8).u32(9).build();
      const r = decode(datagram({ samples: [flowSample({ records: [tlv(1002, body)] })] }));
      expect(r.errors).to.deep.equal([]);
      expect(r.flows[0].next_hop.length).to.equal(0);
      expect(r.flows[0].dst_net).to.equal(9);
    });

    it('skips unknown flow record formats silently', () => {
      const records = [tlv(1010, Buffer.alloc(12, 0xff)), tlv((4413 << 12) | 1, Buffer.alloc(7, 1)), extSwitch(3, 4)];
      const out = decode(datagram({ samples: [flowSample({ records })] }));
      expect(out.errors).to.deep.equal([]);
      expect([out.flows[0].src_vlan, out.flows[0].dst_vlan]).to.deep.equal([3, 4]);
    });
  });

  describe('counter samples', () => {
    it('decodes generic interface counters and skips other counter records', () => {
      const ethernetCounters = tlv(2, Buffer.alloc(52, 0));
      const big = 2n ** 60n + 5n;
      const sample = counterSample(12, (0 << 24) | 23001, [ethernetCounters, genericIfCounters({ ifIndex: 23001, inOctets: big, outOctets: 9717n })]);
      const out = decode(datagram({ agent: '2001:db8::a', subAgent: 3, samples: [sample] }));
      expect(out.errors).to.deep.equal([]);
      expect(out.flows).to.deep.equal([]);
      expect(out.counters).to.have.length(1);
      const c = out.counters[0];
      expect(ipToText(c.agent_address)).to.equal('2001:db8::a');
      expect([c.sub_agent_id, c.sequence_num, c.source_id_type, c.source_id_index]).to.deep.equal([3, 12, 0, 23001]);
      expect([c.if_index, c.if_type, c.if_speed, c.if_direction, c.if_status]).to.deep.equal([23001, 6, 10_000_000_000n, 1, 3]);
      expect(c.if_in_octets).to.equal(big);
      expect([c.if_in_ucast_pkts, c.if_in_multicast_pkts, c.if_in_broadcast_pkts, c.if_in_discards, c.if_in_errors, c.if_in_unknown_protos])
        .to.deep.equal([101, 102, 103, 104, 105, 106]);
      expect(c.if_out_octets).to.equal(9717n);
      expect([c.if_out_ucast_pkts, c.if_out_multicast_pkts, c.if_out_broadcast_pkts, c.if_out_discards, c.if_out_errors, c.if_promiscuous_mode])
        .to.deep.equal([201, 202, 203, 204, 205, 1]);
      expect(c.time_received_us).to.equal(RECEIVED_US);
      expect(ipToText(c.exporter_address)).to.equal('192.0.2.200');
      expect(c.exporter_port).to.equal(6343);
    });

    it('decodes an expanded counter sample', () => {
      const out = decode(datagram({ samples: [expandedCounterSample(4, 0, 0x01000001, [genericIfCounters({ ifIndex: 9, inOctets: 1n, outOctets: 2n })])] }));
      expect(out.errors).to.deep.equal([]);
      expect([out.counters[0].source_id_type, out.counters[0].source_id_index, out.counters[0].if_index]).to.deep.equal([0, 0x01000001, 9]);
    });
  });

  describe('unsupported input', () => {
    it('counts unknown sample formats as unsupported and goes on', () => {
      const samples = [tlv((4413 << 12) | 5, Buffer.alloc(10)), tlv(9, Buffer.alloc(4)), richFlowSample()];
      const out = decode(datagram({ samples }));
      expect(reasons(out)).to.deep.equal(['unsupported', 'unsupported']);
      expect(out.errors.every((e) => e.count === 1)).to.equal(true);
      expect(out.flows).to.have.length(1);
    });

    it('rejects short datagrams, other versions and unknown agent address types', () => {
      expect(reasons(decode(Buffer.alloc(7)))).to.deep.equal(['short_datagram']);
      expect(reasons(decode(new Xdr().u32(4).u32(1).u32(0).build()))).to.deep.equal(['unknown_protocol']);
      expect(reasons(decode(new Xdr().u32(5).u32(3).u32(0).u32(0).u32(0).u32(0).u32(0).build()))).to.deep.equal(['bad_header']);
      expect(reasons(decode(new Xdr().u32(5).u32(0).u32(0).u32(0).u32(0).u32(0).build()))).to.deep.equal(['bad_header']);
      const full = datagram({ agent: '2001:db8::1', samples: [] });
      expect(reasons(decode(full.subarray(0, full.length - 1)))).to.deep.equal(['short_datagram']);
      expect(reasons(decode(full))).to.deep.equal([]);
    });
  });

  describe('malformed input', () => {
    const good = (): Buffer => richFlowSample(50);

    /** Decodes [bad sample, good sample] and checks the bad one is reported and the good one kept. */
    function expectDropped(bad: Buffer, reason: ErrorReason): DecodeOutput {
      const out = decode(datagram({ samples: [bad, good()] }));
      expect(reasons(out)).to.deep.equal([reason]);
      expect(out.flows, 'the following sample is still decoded').to.have.length(1);
      expect(out.flows[0].sflow_source_id).to.equal(17);
      return out;
    }

    it('stops with bad_header when fewer samples fit than declared', () => {
      const out = decode(datagram({ samples: [richFlowSample()], count: 1000 }));
      expect(reasons(out)).to.deep.equal(['bad_header']);
      expect(out.flows).to.have.length(1);
      const huge = decode(datagram({ samples: [], count: 0xffffffff }));
      expect(reasons(huge)).to.deep.equal(['bad_header']);
    });

    it('stops with truncated when a sample overruns the datagram', () => {
      const dg = datagram({ samples: [richFlowSample(), richFlowSample(2)] });
      const out = decode(dg.subarray(0, dg.length - 10));
      expect(reasons(out)).to.deep.equal(['truncated']);
      expect(out.flows).to.have.length(1);
      const lying = datagram({ samples: [tlv(1, Buffer.alloc(8))] });
      lying.writeUInt32BE(0xfffffff0, 28 + 4); // sample length field
      expect(reasons(decode(lying))).to.deep.equal(['truncated']);
    });

    it('drops a flow sample shorter than its fixed header', () => {
      expectDropped(tlv(1, Buffer.alloc(28)), 'truncated');
      expectDropped(tlv(3, Buffer.alloc(40)), 'truncated');
    });

    it('drops a flow sample whose record count does not fit', () => {
      expectDropped(flowSample({ records: [extSwitch(1, 2)], recordCount: 2 }), 'truncated');
      expectDropped(flowSample({ records: [], recordCount: 0xffffffff }), 'truncated');
    });

    it('drops a flow sample whose record overruns it', () => {
      const rec = extSwitch(1, 2);
      rec.writeUInt32BE(17, 4); // claims 17 bytes, 16 present
      expectDropped(flowSample({ records: [rec] }), 'truncated');
    });

    it('drops a raw header longer than its record', () => {
      const rec = rawHeader(1, 100, Buffer.alloc(20));
      rec.writeUInt32BE(21, 8 + 12); // header length field
      expectDropped(flowSample({ records: [rec] }), 'bad_record');
      rec.writeUInt32BE(0xffffffff, 8 + 12);
      expectDropped(flowSample({ records: [rec] }), 'bad_record');
    });

    it('drops records shorter than their format', () => {
      expectDropped(flowSample({ records: [tlv(1, Buffer.alloc(12))] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(2, Buffer.alloc(20))] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(3, Buffer.alloc(28))] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(4, Buffer.alloc(52))] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(1001, Buffer.alloc(12))] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(1002, new Xdr().address('10.0.0.1').u32(1).build())] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(1002, new Xdr().u32(3).u32(0).u32(1).u32(2).build())] }), 'bad_record');
      expectDropped(flowSample({ records: [tlv(1002, new Xdr().u32(2).u32(0).u32(1).u32(2).build())] }), 'bad_record');
    });

    describe('extended gateway', () => {
      const base: GatewayOpts = {
        nextHop: '10.0.0.1', as: 1, srcAs: 2, srcPeerAs: 3,
        segments: [{ type: 2, asns: [10, 20] }], communities: [7, 8], localpref: 100,
      };
      // Offsets inside the record body: address 8, as/src/peer 12, then the segment count.
      const SEGMENTS_AT = 20;
      const ASN_COUNT_AT = 28;
      const COMMUNITIES_AT = 40;

      function gatewayWith(patch: (body: Buffer) => Buffer): Buffer {
        return flowSample({ records: [tlv(1003, patch(gatewayBody(base).build()))] });
      }

      it('rejects an AS path segment count that cannot fit', () => {
        for (const n of [2, 1000, 0xffffffff]) {
          expectDropped(gatewayWith((b) => { b.writeUInt32BE(n, SEGMENTS_AT); return b; }), 'bad_record');
        }
      });

      it('rejects an ASN count that cannot fit', () => {
        for (const n of [5, 0x40000000, 0xffffffff]) {
          expectDropped(gatewayWith((b) => { b.writeUInt32BE(n, ASN_COUNT_AT); return b; }), 'bad_record');
        }
      });

      it('rejects a community count that cannot fit', () => {
        for (const n of [3, 0xffffffff]) {
          expectDropped(gatewayWith((b) => { b.writeUInt32BE(n, COMMUNITIES_AT); return b; }), 'bad_record');
        }
      });

      it('rejects a record cut anywhere, including before local preference', () => {
        const body = gatewayBody(base).build();
        for (let n = 0; n < body.length; n += 4) {
          expectDropped(flowSample({ records: [tlv(1003, body.subarray(0, n))] }), 'bad_record');
        }
      });
    });

    it('drops a counter sample with a short generic record or an impossible record count', () => {
      const shortGeneric = counterSample(1, 1, [tlv(1, Buffer.alloc(84))]);
      expectDropped(shortGeneric, 'bad_record');
      const badCount = counterSample(1, 1, [genericIfCounters({ ifIndex: 1, inOctets: 0n, outOctets: 0n })]);
      badCount.writeUInt32BE(2, 8 + 8);
      const out = expectDropped(badCount, 'truncated');
      expect(out.counters, 'nothing from the malformed counter sample').to.deep.equal([]);
      expectDropped(tlv(2, Buffer.alloc(8)), 'truncated');
      expectDropped(tlv(4, Buffer.alloc(12)), 'truncated');
    });

    it('never throws on any truncation of a rich datagram', () => {
      const dg = datagram({
        agent: '2001:db8::1',
        samples: [richFlowSample(), counterSample(1, 1, [genericIfCounters({ ifIndex: 1, inOctets: 1n, outOctets: 1n })]),
          expandedFlowSample({ records: [rawHeader(1, 64, ethVlanIpv4Tcp()), extRouter('2001:db8::1', 1, 2)] })],
      });
      const complete = decode(dg);
      expect(complete.errors).to.deep.equal([]);
      for (let n = 0; n < dg.length; n++) {
        const out = decode(dg.subarray(0, n));
        expect(out.errors.length, `errors at ${n}`).to.be.greaterThan(0);
        expect(out.flows.length + out.counters.length).to.be.below(3);
      }
    });

    it('never throws, loops or over-allocates on randomly corrupted datagrams', () => {
      const dg = datagram({
        samples: [richFlowSample(), counterSample(1, 1, [genericIfCounters({ ifIndex: 1, inOctets: 1n, outOctets: 1n })]),
          expandedFlowSample({ records: [rawHeader(1, 64, ethVlanIpv4Tcp()), extGateway({ nextHop: '10.0.0.1', as: 1, srcAs: 2, srcPeerAs: 3, segments: [{ type: 2, asns: [1, 2, 3] }], communities: [1], localpref: 1 })] })],
      });
      let state = 0xc0ffee;
      const rand = (): number => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state >>> 8;
      };
      const started = Date.now();
      for (let i = 0; i < 5000; i++) {
        const bad = Buffer.from(dg);
        const flips = 1 + (rand() % 4);
        for (let f = 0; f < flips; f++) {
          const at = rand() % bad.length;
          // Mostly small numbers and all-ones words: the values that make lengths and counts lie.
          const v = [0x00, 0xff, rand() & 0xff, 0x01][rand() % 4];
          if (rand() % 2) bad[at] = v;
          else bad.writeUInt32BE([0, 0xffffffff, 1, rand()][rand() % 4] >>> 0, at - (at % 4));
        }
        const cut = bad.subarray(0, bad.length - (rand() % 8));
        const out = decode(cut);
        // Output is bounded by input: every sample takes at least 8 bytes.
        expect(out.flows.length + out.counters.length).to.be.at.most(cut.length / 8);
        for (const f of out.flows) {
          for (const a of [f.src_addr, f.dst_addr, f.next_hop, f.bgp_next_hop, f.sampler_address]) expect([0, 4, 16]).to.include(a.length);
          expect(f.as_path.length + f.bgp_communities.length).to.be.at.most(bad.length / 4);
        }
      }
      expect(Date.now() - started).to.be.below(20_000);
    });
  });

  describe('sequence ledger', () => {
    it('counts flow samples lost per data source, and datagrams lost per agent', () => {
      const seq = new SequenceTracker();
      const sample = (s: number, sourceId: number): Buffer => flowSample({ seq: s, sourceId, records: [] });
      const first = decode(datagram({ seq: 10, samples: [sample(100, 1), sample(7, 2)] }), seq);
      expect(first.sequenceGap).to.equal(0);
      expect(first.errors).to.deep.equal([]);
      // Source 1 skips 101..103 (3 lost), source 2 is in order; datagram 11 is missing.
      const second = decode(datagram({ seq: 12, samples: [sample(104, 1), sample(8, 2)] }), seq);
      expect(second.sequenceGap).to.equal(3);
      expect(second.errors).to.deep.equal([{ reason: 'sequence_gap', detail: second.errors[0].detail, count: 1 }]);
      // Gaps inside one datagram count too.
      const third = decode(datagram({ seq: 13, samples: [sample(105, 1), sample(110, 1)] }), seq);
      expect(third.sequenceGap).to.equal(4);
      expect(third.errors).to.deep.equal([]);
    });

    it('keeps sources of different agents, sub-agents and exporters apart', () => {
      const seq = new SequenceTracker();
      const one = (agent: string, subAgent: number, s: number): DecodeOutput =>
        decode(datagram({ agent, subAgent, seq: s, samples: [flowSample({ seq: s, sourceId: 1, records: [] })] }), seq);
      one('10.0.0.1', 0, 1);
      expect(one('10.0.0.2', 0, 50).sequenceGap).to.equal(0);
      expect(one('10.0.0.1', 1, 80).sequenceGap).to.equal(0);
      expect(one('10.0.0.1', 0, 2).sequenceGap).to.equal(0);
      const other = decodeSflow(datagram({ seq: 9, samples: [flowSample({ seq: 9, sourceId: 1, records: [] })] }), exporterFromText('192.0.2.201', 6343), 0, seq);
      expect(other.sequenceGap).to.equal(0);
      expect(other.errors).to.deep.equal([]);
    });

    it('does not count a restart (sequence going backwards) as loss', () => {
      const seq = new SequenceTracker();
      decode(datagram({ seq: 1000, samples: [flowSample({ seq: 5000, records: [] })] }), seq);
      const out = decode(datagram({ seq: 1, samples: [flowSample({ seq: 1, records: [] })] }), seq);
      expect(out.sequenceGap).to.equal(0);
      expect(out.errors).to.deep.equal([]);
    });

    it('counts the sample gap even when the sample itself is malformed (it did arrive)', () => {
      const seq = new SequenceTracker();
      decode(datagram({ samples: [flowSample({ seq: 1, records: [] })] }), seq);
      const out = decode(datagram({ seq: 2, samples: [flowSample({ seq: 5, records: [tlv(1001, Buffer.alloc(4))] })] }), seq);
      expect(out.sequenceGap).to.equal(3);
      expect(out.flows).to.deep.equal([]);
    });
  });

  describe('real captures', () => {
    it('decodes tcpdump_sflow_expanded.pcap (expected values from tshark -V)', () => {
      const payloads = udpPayloads(capture('tcpdump_sflow_expanded.pcap'));
      expect(payloads).to.have.length(1);
      expect(payloads[0].length).to.equal(328); // "UDP payload (328 bytes)"
      const out = decode(payloads[0]);
      expect(out.errors).to.deep.equal([]);
      expect(out.counters).to.deep.equal([]);
      expect(out.flows).to.have.length(1); // NumSamples: 1, an "Expanded flow sample"
      const r = out.flows[0];
      expect(ipToText(r.sampler_address)).to.equal('49.49.49.49'); // Agent address
      expect(r.sflow_sub_agent_id).to.equal(0);
      expect(r.sequence_num).to.equal(115694180); // datagram Sequence number
      expect(r.sflow_source_id).to.equal(11001); // Source ID type 0, index 11001
      expect(r.sampling_rate).to.equal(1000); // "1 out of 1000 packets"
      expect(r.in_if).to.equal(29001); // Input interface format 0, value 29001
      expect(r.out_if).to.equal(1285816721); // Output interface format 0, value 1285816721
      // Raw packet header: Ethernet, Frame Length 126
      expect(r.bytes).to.equal(126);
      expect(r.packets).to.equal(1);
      expect(r.dst_mac).to.equal(0x22421f4a9fcd); // 22:42:1f:4a:9f:cd
      expect(r.src_mac).to.equal(0x948ed30a713b); // 94:8e:d3:0a:71:3b
      expect(r.vlan_id).to.equal(809); // 802.1Q ID 809
      expect(r.etype).to.equal(0x0800);
      expect(ipToText(r.src_addr)).to.equal('52.52.52.52');
      expect(ipToText(r.dst_addr)).to.equal('53.53.53.53');
      expect(r.proto).to.equal(6); // TCP
      expect(r.src_port).to.equal(22);
      expect(r.dst_port).to.equal(52237);
      expect(r.tcp_flags).to.equal(0x018); // PSH, ACK
      expect(r.ip_tos).to.equal(0x08); // DSField 0x08
      expect(r.ip_ttl).to.equal(61);
      expect(r.ip_flags).to.equal(2); // Don't fragment
      expect(r.fragment_id).to.equal(0xab4e);
      expect(r.layer_stack).to.deep.equal([LayerStack.Ethernet, LayerStack.Dot1Q, LayerStack.IPv4, LayerStack.TCP]);
      expect(r.layer_size).to.deep.equal([14, 4, 20, 32]); // TCP header length 32 (options)
      // Extended router data: next hop 54.54.54.54, masks 32 / 22
      expect(ipToText(r.next_hop)).to.equal('54.54.54.54');
      expect(r.src_net).to.equal(32);
      expect(r.dst_net).to.equal(22);
      // Extended gateway data: next hop 54.54.54.54, AS source 203476, one AS_SEQUENCE of 3
      expect(ipToText(r.bgp_next_hop)).to.equal('54.54.54.54');
      expect(r.src_as).to.equal(203476);
      expect(r.as_path).to.deep.equal([8218, 29605, 203361]);
      expect(r.next_hop_as).to.equal(8218);
      expect(r.dst_as).to.equal(203361);
      expect(r.bgp_communities).to.deep.equal([538574949, 1911619684, 1911669584, 1911671290]);
    });

    it('decodes tcpdump_sflow-print-v6.pcap (IPv6 agent; counts from tshark)', () => {
      const payloads = udpPayloads(capture('tcpdump_sflow-print-v6.pcap'));
      expect(payloads).to.have.length(25);
      const seq = new SequenceTracker();
      const outs = payloads.map((p) => decode(p, seq));
      expect(outs.flatMap((o) => o.errors)).to.deep.equal([]);
      // 13 flow samples (seq 3..15, one source) and 48 generic counter records.
      expect(outs.reduce((n, o) => n + o.flows.length, 0)).to.equal(13);
      expect(outs.reduce((n, o) => n + o.counters.length, 0)).to.equal(48);
      expect(outs.reduce((n, o) => n + o.sequenceGap, 0)).to.equal(0);
      // Frame 8: datagram seq 116, flow sample seq 4 from source 7001.
      const r = outs[7].flows[0];
      expect(ipToText(r.sampler_address)).to.equal('30::1:1:1');
      expect(r.sequence_num).to.equal(116);
      expect([r.sflow_source_id, r.in_if, r.out_if, r.sampling_rate]).to.deep.equal([7001, 7001, 0, 1]); // out: format 2
      expect([r.src_vlan, r.dst_vlan]).to.deep.equal([10, 10]);
      expect(r.bytes).to.equal(250);
      expect([ipToText(r.src_addr), ipToText(r.dst_addr), r.proto, r.ip_ttl]).to.deep.equal(['10.10.10.2', '50.1.1.2', 63, 64]);
      // Frame 1: counter sample seq 28, source 23001; out octets 9717, out multicast 79.
      const c = outs[0].counters[0];
      expect([c.sequence_num, c.source_id_index, c.if_index, c.if_speed, c.if_status]).to.deep.equal([28, 23001, 23001, 400_000_000_000n, 3]);
      expect([c.if_out_octets, c.if_out_multicast_pkts]).to.deep.equal([9717n, 79]);
    });
  });
});
