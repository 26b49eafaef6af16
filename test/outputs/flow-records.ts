// Records for the CSV output tests: one fully populated record and a fast-check arbitrary.

import * as fc from 'fast-check';
import { FlowDirection, FlowType, LayerStack, newFlowRecord, SamplingRateSource, type FlowRecord } from '../../src/canonical/flow-record';
import { textToIp } from '../../src/util/ip';

/** Every field set to something other than its default. */
export function fullRecord(): FlowRecord {
  const r = newFlowRecord();
  Object.assign(r, {
    type: FlowType.IPFIX,
    time_received_us: 1_795_342_500_123_456,
    sequence_num: 77,
    sampling_rate: 1000,
    sampler_address: textToIp('192.0.2.9'),
    time_flow_start_us: 1_795_342_499_000_001,
    time_flow_end_us: 1_795_342_500_000_000,
    bytes: 123_456_789_012,
    packets: 4242,
    src_addr: textToIp('2001:db8::1'),
    dst_addr: textToIp('::ffff:10.1.2.3'),
    etype: 0x86dd,
    proto: 6,
    src_port: 443,
    dst_port: 51234,
    in_if: 3,
    out_if: 4,
    src_mac: 0x001122334455,
    dst_mac: 0xaabbccddeeff,
    src_vlan: 10,
    dst_vlan: 20,
    vlan_id: 30,
    ip_tos: 0xb8,
    forwarding_status: 64,
    ip_ttl: 63,
    ip_flags: 2,
    tcp_flags: 0x1b,
    icmp_type: 8,
    icmp_code: 1,
    ipv6_flow_label: 0xabcde,
    fragment_id: 999,
    fragment_offset: 185,
    src_as: 64500,
    dst_as: 64501,
    next_hop: textToIp('10.0.0.1'),
    next_hop_as: 64502,
    src_net: 24,
    dst_net: 48,
    bgp_next_hop: textToIp('2001:db8:0:1::ff'),
    bgp_communities: [65000 * 65536 + 1, 42],
    as_path: [64500, 64501, 64502],
    mpls_ttl: [64, 63],
    mpls_label: [16001, 16002],
    mpls_ip: [textToIp('10.9.9.9'), textToIp('2001:db8::9')],
    observation_domain_id: 512,
    observation_point_id: 7,
    layer_stack: [LayerStack.Ethernet, LayerStack.IPv6, LayerStack.TCP],
    layer_size: [14, 40, 20],
    ipv6_routing_header_addresses: [textToIp('2001:db8::a'), textToIp('2001:db8::b')],
    ipv6_routing_header_seg_left: 1,
    flow_direction: FlowDirection.EGRESS,
    sampling_rate_source: SamplingRateSource.SAMPLING_OPTIONS,
    exporter_port: 4739,
    exporter_address: textToIp('2001:db8::e'),
    sampler_id: 5,
    flow_end_reason: 3,
    post_nat_src_addr: textToIp('198.51.100.1'),
    post_nat_dst_addr: textToIp('198.51.100.2'),
    post_nat_src_port: 40000,
    post_nat_dst_port: 80,
    firewall_event: 2,
    sflow_sub_agent_id: 11,
    sflow_source_id: 12,
    extra_fields: [{ enterprise: 9, id: 12235, value: Uint8Array.from([0xde, 0xad]) }, { enterprise: 0, id: 999, value: Uint8Array.from([1]) }],
  } satisfies Partial<FlowRecord>);
  return r;
}

const addr = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
const u32 = fc.nat({ max: 0xffffffff });
// 0 (unset) often, else anything up to 2^53 - 1 µs (year 2255).
const timeUs = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1_600_000_000_000_000, max: 1_900_000_000_000_000 }));

export const flowRecordArb: fc.Arbitrary<FlowRecord> = fc.record({
  type: fc.integer({ min: 0, max: 6 }),
  time_received_us: timeUs,
  time_flow_start_us: timeUs,
  time_flow_end_us: timeUs,
  src_addr: addr,
  dst_addr: addr,
  exporter_address: addr,
  exporter_port: fc.nat({ max: 65535 }),
  proto: fc.nat({ max: 300 }),
  src_port: fc.nat({ max: 65535 }),
  bytes: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  src_mac: fc.nat({ max: 2 ** 48 - 1 }),
  in_if: u32,
  as_path: fc.array(u32, { maxLength: 4 }),
  layer_stack: fc.array(fc.integer({ min: 0, max: 14 }), { maxLength: 4 }),
  mpls_ip: fc.array(addr, { maxLength: 2 }),
  post_nat_src_port: fc.nat({ max: 65535 }),
  flow_direction: fc.integer({ min: 0, max: 4 }),
  extra_fields: fc.array(fc.record({ enterprise: u32, id: fc.nat({ max: 65535 }), value: fc.uint8Array({ maxLength: 6 }) }), { maxLength: 2 }),
}).map((p) => Object.assign(newFlowRecord(), p));

/** A typical record stream for throughput: mixed IPv4/IPv6, times within one minute. */
export function typicalRecords(n: number, baseUs = 1_795_342_500_000_000): FlowRecord[] {
  const out: FlowRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r = newFlowRecord();
    r.type = FlowType.NETFLOW_V9;
    r.time_received_us = baseUs + i * 600;
    r.time_flow_start_us = r.time_received_us - 30_000_000 + (i % 997);
    r.time_flow_end_us = r.time_received_us - 1_000 - (i % 991);
    if (i % 5 === 4) {
      r.src_addr = textToIp(`2001:db8::${(i % 65535).toString(16)}`);
      r.dst_addr = textToIp('2001:db8:1::443');
    } else {
      r.src_addr = Uint8Array.from([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
      r.dst_addr = Uint8Array.from([192, 168, 1, (i * 7) & 255]);
    }
    r.src_port = 1024 + (i % 60000);
    r.dst_port = i % 3 ? 443 : 53;
    r.proto = i % 3 ? 6 : 17;
    r.bytes = 40 + ((i * 7919) % 1_500_000);
    r.packets = 1 + (i % 1000);
    r.tcp_flags = i % 3 ? 0x1b : 0;
    r.ip_tos = 0;
    r.in_if = 1 + (i % 8);
    r.out_if = 9 + (i % 8);
    r.sampling_rate = 1000;
    r.sampler_address = Uint8Array.from([192, 0, 2, 1 + (i % 4)]);
    out.push(r);
  }
  return out;
}
