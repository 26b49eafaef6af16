// FlowRecord → flowpb.FlowMessage wire bytes, written directly (see proto-writer.ts for why).
// Field numbers are those of codecs/flow.proto; test/unit/canonical-codec.test.ts decodes the
// output with protobufjs against the .proto for random records, so the two cannot drift.
// Fields are written in field-number order, as protobufjs and protoc do; proto3 defaults
// (0, empty) are omitted.

import type { FlowRecord } from './flow-record';
import { ProtoWriter } from './proto-writer';

const VARINT = 0;
const LEN = 2;

function t(field: number, wire: number): number {
  return ((field << 3) | wire) >>> 0;
}

// Precomputed tags: the encoder is called millions of times a second.
const T_TYPE = t(1, VARINT);
const T_SAMPLING_RATE = t(3, VARINT);
const T_SEQUENCE_NUM = t(4, VARINT);
const T_SRC_ADDR = t(6, LEN);
const T_DST_ADDR = t(7, LEN);
const T_BYTES = t(9, VARINT);
const T_PACKETS = t(10, VARINT);
const T_SAMPLER_ADDRESS = t(11, LEN);
const T_NEXT_HOP = t(12, LEN);
const T_NEXT_HOP_AS = t(13, VARINT);
const T_SRC_AS = t(14, VARINT);
const T_DST_AS = t(15, VARINT);
const T_SRC_NET = t(16, VARINT);
const T_DST_NET = t(17, VARINT);
const T_IN_IF = t(18, VARINT);
const T_OUT_IF = t(19, VARINT);
const T_PROTO = t(20, VARINT);
const T_SRC_PORT = t(21, VARINT);
const T_DST_PORT = t(22, VARINT);
const T_IP_TOS = t(23, VARINT);
const T_FORWARDING_STATUS = t(24, VARINT);
const T_IP_TTL = t(25, VARINT);
const T_TCP_FLAGS = t(26, VARINT);
const T_SRC_MAC = t(27, VARINT);
const T_DST_MAC = t(28, VARINT);
const T_VLAN_ID = t(29, VARINT);
const T_ETYPE = t(30, VARINT);
const T_ICMP_TYPE = t(31, VARINT);
const T_ICMP_CODE = t(32, VARINT);
const T_SRC_VLAN = t(33, VARINT);
const T_DST_VLAN = t(34, VARINT);
const T_FRAGMENT_ID = t(35, VARINT);
const T_FRAGMENT_OFFSET = t(36, VARINT);
const T_IPV6_FLOW_LABEL = t(37, VARINT);
const T_IP_FLAGS = t(38, VARINT);
const T_OBSERVATION_DOMAIN_ID = t(70, VARINT);
const T_OBSERVATION_POINT_ID = t(71, VARINT);
const T_MPLS_TTL = t(80, LEN);
const T_MPLS_LABEL = t(81, LEN);
const T_MPLS_IP = t(82, LEN);
const T_BGP_NEXT_HOP = t(100, LEN);
const T_BGP_COMMUNITIES = t(101, LEN);
const T_AS_PATH = t(102, LEN);
const T_LAYER_STACK = t(103, LEN);
const T_LAYER_SIZE = t(104, LEN);
const T_IPV6_RH_ADDRESSES = t(105, LEN);
const T_IPV6_RH_SEG_LEFT = t(106, VARINT);
const T_TIME_RECEIVED_NS = t(110, VARINT);
const T_TIME_FLOW_START_NS = t(111, VARINT);
const T_TIME_FLOW_END_NS = t(112, VARINT);
const T_FLOW_DIRECTION = t(200, VARINT);
const T_SAMPLING_RATE_SOURCE = t(201, VARINT);
const T_EXPORTER_PORT = t(202, VARINT);
const T_EXPORTER_ADDRESS = t(203, LEN);
const T_SAMPLER_ID = t(204, VARINT);
const T_FLOW_END_REASON = t(205, VARINT);
const T_POST_NAT_SRC_ADDR = t(206, LEN);
const T_POST_NAT_DST_ADDR = t(207, LEN);
const T_POST_NAT_SRC_PORT = t(208, VARINT);
const T_POST_NAT_DST_PORT = t(209, VARINT);
const T_FIREWALL_EVENT = t(210, VARINT);
const T_SFLOW_SUB_AGENT_ID = t(211, VARINT);
const T_SFLOW_SOURCE_ID = t(212, VARINT);
const T_EXTRA_FIELDS = t(250, LEN);
const T_EXTRA_ENTERPRISE = t(1, VARINT);
const T_EXTRA_ID = t(2, VARINT);
const T_EXTRA_VALUE = t(3, LEN);

/** Appends one encoded FlowMessage (no length prefix) to `w`. */
export function writeFlow(w: ProtoWriter, r: FlowRecord): void {
  if (r.type !== 0) { w.varint32(T_TYPE); w.varint32(r.type); }
  if (r.sampling_rate !== 0) { w.varint32(T_SAMPLING_RATE); w.varintNumber(r.sampling_rate); }
  if (r.sequence_num !== 0) { w.varint32(T_SEQUENCE_NUM); w.varint32(r.sequence_num); }
  if (r.src_addr.length !== 0) { w.varint32(T_SRC_ADDR); w.bytes(r.src_addr); }
  if (r.dst_addr.length !== 0) { w.varint32(T_DST_ADDR); w.bytes(r.dst_addr); }
  if (r.bytes !== 0) { w.varint32(T_BYTES); w.varintNumber(r.bytes); }
  if (r.packets !== 0) { w.varint32(T_PACKETS); w.varintNumber(r.packets); }
  if (r.sampler_address.length !== 0) { w.varint32(T_SAMPLER_ADDRESS); w.bytes(r.sampler_address); }
  if (r.next_hop.length !== 0) { w.varint32(T_NEXT_HOP); w.bytes(r.next_hop); }
  if (r.next_hop_as !== 0) { w.varint32(T_NEXT_HOP_AS); w.varint32(r.next_hop_as); }
  if (r.src_as !== 0) { w.varint32(T_SRC_AS); w.varint32(r.src_as); }
  if (r.dst_as !== 0) { w.varint32(T_DST_AS); w.varint32(r.dst_as); }
  if (r.src_net !== 0) { w.varint32(T_SRC_NET); w.varint32(r.src_net); }
  if (r.dst_net !== 0) { w.varint32(T_DST_NET); w.varint32(r.dst_net); }
  if (r.in_if !== 0) { w.varint32(T_IN_IF); w.varint32(r.in_if); }
  if (r.out_if !== 0) { w.varint32(T_OUT_IF); w.varint32(r.out_if); }
  if (r.proto !== 0) { w.varint32(T_PROTO); w.varint32(r.proto); }
  if (r.src_port !== 0) { w.varint32(T_SRC_PORT); w.varint32(r.src_port); }
  if (r.dst_port !== 0) { w.varint32(T_DST_PORT); w.varint32(r.dst_port); }
  if (r.ip_tos !== 0) { w.varint32(T_IP_TOS); w.varint32(r.ip_tos); }
  if (r.forwarding_status !== 0) { w.varint32(T_FORWARDING_STATUS); w.varint32(r.forwarding_status); }
  if (r.ip_ttl !== 0) { w.varint32(T_IP_TTL); w.varint32(r.ip_ttl); }
  if (r.tcp_flags !== 0) { w.varint32(T_TCP_FLAGS); w.varint32(r.tcp_flags); }
  if (r.src_mac !== 0) { w.varint32(T_SRC_MAC); w.varintNumber(r.src_mac); }
  if (r.dst_mac !== 0) { w.varint32(T_DST_MAC); w.varintNumber(r.dst_mac); }
  if (r.vlan_id !== 0) { w.varint32(T_VLAN_ID); w.varint32(r.vlan_id); }
  if (r.etype !== 0) { w.varint32(T_ETYPE); w.varint32(r.etype); }
  if (r.icmp_type !== 0) { w.varint32(T_ICMP_TYPE); w.varint32(r.icmp_type); }
  if (r.icmp_code !== 0) { w.varint32(T_ICMP_CODE); w.varint32(r.icmp_code); }
  if (r.src_vlan !== 0) { w.varint32(T_SRC_VLAN); w.varint32(r.src_vlan); }
  if (r.dst_vlan !== 0) { w.varint32(T_DST_VLAN); w.varint32(r.dst_vlan); }
  if (r.fragment_id !== 0) { w.varint32(T_FRAGMENT_ID); w.varint32(r.fragment_id); }
  if (r.fragment_offset !== 0) { w.varint32(T_FRAGMENT_OFFSET); w.varint32(r.fragment_offset); }
  if (r.ipv6_flow_label !== 0) { w.varint32(T_IPV6_FLOW_LABEL); w.varint32(r.ipv6_flow_label); }
  if (r.ip_flags !== 0) { w.varint32(T_IP_FLAGS); w.varint32(r.ip_flags); }
  if (r.observation_domain_id !== 0) { w.varint32(T_OBSERVATION_DOMAIN_ID); w.varint32(r.observation_domain_id); }
  if (r.observation_point_id !== 0) { w.varint32(T_OBSERVATION_POINT_ID); w.varint32(r.observation_point_id); }
  if (r.mpls_ttl.length !== 0) { w.varint32(T_MPLS_TTL); w.packed(r.mpls_ttl); }
  if (r.mpls_label.length !== 0) { w.varint32(T_MPLS_LABEL); w.packed(r.mpls_label); }
  for (const a of r.mpls_ip) { w.varint32(T_MPLS_IP); w.bytes(a); }
  if (r.bgp_next_hop.length !== 0) { w.varint32(T_BGP_NEXT_HOP); w.bytes(r.bgp_next_hop); }
  if (r.bgp_communities.length !== 0) { w.varint32(T_BGP_COMMUNITIES); w.packed(r.bgp_communities); }
  if (r.as_path.length !== 0) { w.varint32(T_AS_PATH); w.packed(r.as_path); }
  if (r.layer_stack.length !== 0) { w.varint32(T_LAYER_STACK); w.packed(r.layer_stack); }
  if (r.layer_size.length !== 0) { w.varint32(T_LAYER_SIZE); w.packed(r.layer_size); }
  for (const a of r.ipv6_routing_header_addresses) { w.varint32(T_IPV6_RH_ADDRESSES); w.bytes(a); }
  if (r.ipv6_routing_header_seg_left !== 0) { w.varint32(T_IPV6_RH_SEG_LEFT); w.varint32(r.ipv6_routing_header_seg_left); }
  if (r.time_received_us > 0) { w.varint32(T_TIME_RECEIVED_NS); w.varintMicrosAsNanos(r.time_received_us); }
  if (r.time_flow_start_us > 0) { w.varint32(T_TIME_FLOW_START_NS); w.varintMicrosAsNanos(r.time_flow_start_us); }
  if (r.time_flow_end_us > 0) { w.varint32(T_TIME_FLOW_END_NS); w.varintMicrosAsNanos(r.time_flow_end_us); }
  if (r.flow_direction !== 0) { w.varint32(T_FLOW_DIRECTION); w.varint32(r.flow_direction); }
  if (r.sampling_rate_source !== 0) { w.varint32(T_SAMPLING_RATE_SOURCE); w.varint32(r.sampling_rate_source); }
  if (r.exporter_port !== 0) { w.varint32(T_EXPORTER_PORT); w.varint32(r.exporter_port); }
  if (r.exporter_address.length !== 0) { w.varint32(T_EXPORTER_ADDRESS); w.bytes(r.exporter_address); }
  if (r.sampler_id !== 0) { w.varint32(T_SAMPLER_ID); w.varint32(r.sampler_id); }
  if (r.flow_end_reason !== 0) { w.varint32(T_FLOW_END_REASON); w.varint32(r.flow_end_reason); }
  if (r.post_nat_src_addr.length !== 0) { w.varint32(T_POST_NAT_SRC_ADDR); w.bytes(r.post_nat_src_addr); }
  if (r.post_nat_dst_addr.length !== 0) { w.varint32(T_POST_NAT_DST_ADDR); w.bytes(r.post_nat_dst_addr); }
  if (r.post_nat_src_port !== 0) { w.varint32(T_POST_NAT_SRC_PORT); w.varint32(r.post_nat_src_port); }
  if (r.post_nat_dst_port !== 0) { w.varint32(T_POST_NAT_DST_PORT); w.varint32(r.post_nat_dst_port); }
  if (r.firewall_event !== 0) { w.varint32(T_FIREWALL_EVENT); w.varint32(r.firewall_event); }
  if (r.sflow_sub_agent_id !== 0) { w.varint32(T_SFLOW_SUB_AGENT_ID); w.varint32(r.sflow_sub_agent_id); }
  if (r.sflow_source_id !== 0) { w.varint32(T_SFLOW_SOURCE_ID); w.varint32(r.sflow_source_id); }
  for (const x of r.extra_fields) writeExtra(w, x.enterprise, x.id, x.value);
}

function writeExtra(w: ProtoWriter, enterprise: number, id: number, value: Uint8Array): void {
  // Submessage length is computed up front so no back-patching is needed.
  let len = 0;
  if (enterprise !== 0) len += 1 + sizeOf(enterprise);
  if (id !== 0) len += 1 + sizeOf(id);
  if (value.length !== 0) len += 1 + sizeOf(value.length) + value.length;
  w.varint32(T_EXTRA_FIELDS);
  w.varint32(len);
  if (enterprise !== 0) { w.varint32(T_EXTRA_ENTERPRISE); w.varint32(enterprise); }
  if (id !== 0) { w.varint32(T_EXTRA_ID); w.varint32(id); }
  if (value.length !== 0) { w.varint32(T_EXTRA_VALUE); w.bytes(value); }
}

function sizeOf(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
}

/** Encodes records one message each (raw framing). Reuses one scratch buffer. */
export class FlowEncoder {
  private readonly w = new ProtoWriter(1 << 16);

  encode(r: FlowRecord): Buffer {
    this.w.reset();
    writeFlow(this.w, r);
    return this.w.slice(0);
  }

  /** Varint length-delimited concatenation (goflow2's `bin` format), one buffer for many records. */
  encodeDelimited(records: readonly FlowRecord[]): Buffer {
    const w = this.w;
    w.reset();
    const scratch = new ProtoWriter(512);
    for (const r of records) {
      scratch.reset();
      writeFlow(scratch, r);
      w.varint32(scratch.pos);
      w.ensure(scratch.pos);
      scratch.buf.copy(w.buf, w.pos, 0, scratch.pos);
      w.pos += scratch.pos;
    }
    return w.slice(0);
  }
}
