// FlowRecord → plain JSON-ready object with the canonical (proto) field names: addresses as
// text, times as decimal nanosecond strings (they exceed 2^53), enums by name, MACs as text.
// The shape consumers of `flowgate decode` and the CSV columns rely on.

import { FlowDirection, FlowType, LayerStack, SamplingRateSource, type FlowRecord, type InterfaceCounters } from './flow-record';
import { ipToText, macToText } from '../util/ip';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

/** Integer µs → decimal ns text, exact (no float multiply). */
export function usToNsText(us: number): string {
  return us > 0 ? `${Math.trunc(us)}000` : '0';
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function flowToJson(r: FlowRecord): JsonObject {
  const o: JsonObject = {
    type: FlowType[r.type] ?? String(r.type),
    time_received_ns: usToNsText(r.time_received_us),
    sequence_num: r.sequence_num,
    sampling_rate: r.sampling_rate,
    sampling_rate_source: SamplingRateSource[r.sampling_rate_source] ?? r.sampling_rate_source,
    sampler_address: ipToText(r.sampler_address),
    exporter_address: ipToText(r.exporter_address),
    exporter_port: r.exporter_port,
    observation_domain_id: r.observation_domain_id,
    time_flow_start_ns: usToNsText(r.time_flow_start_us),
    time_flow_end_ns: usToNsText(r.time_flow_end_us),
    bytes: r.bytes,
    packets: r.packets,
    src_addr: ipToText(r.src_addr),
    dst_addr: ipToText(r.dst_addr),
    etype: r.etype,
    proto: r.proto,
    src_port: r.src_port,
    dst_port: r.dst_port,
    in_if: r.in_if,
    out_if: r.out_if,
    src_mac: macToText(r.src_mac),
    dst_mac: macToText(r.dst_mac),
    src_vlan: r.src_vlan,
    dst_vlan: r.dst_vlan,
    vlan_id: r.vlan_id,
    ip_tos: r.ip_tos,
    forwarding_status: r.forwarding_status,
    ip_ttl: r.ip_ttl,
    ip_flags: r.ip_flags,
    tcp_flags: r.tcp_flags,
    icmp_type: r.icmp_type,
    icmp_code: r.icmp_code,
    ipv6_flow_label: r.ipv6_flow_label,
    fragment_id: r.fragment_id,
    fragment_offset: r.fragment_offset,
    src_as: r.src_as,
    dst_as: r.dst_as,
    next_hop: ipToText(r.next_hop),
    next_hop_as: r.next_hop_as,
    src_net: r.src_net,
    dst_net: r.dst_net,
    bgp_next_hop: ipToText(r.bgp_next_hop),
    observation_point_id: r.observation_point_id,
    flow_direction: FlowDirection[r.flow_direction] ?? r.flow_direction,
    sampler_id: r.sampler_id,
    flow_end_reason: r.flow_end_reason,
  };
  // Rarely-set fields only when present, to keep lines short.
  if (r.bgp_communities.length) o.bgp_communities = [...r.bgp_communities];
  if (r.as_path.length) o.as_path = [...r.as_path];
  if (r.mpls_label.length) o.mpls_label = [...r.mpls_label];
  if (r.mpls_ttl.length) o.mpls_ttl = [...r.mpls_ttl];
  if (r.mpls_ip.length) o.mpls_ip = r.mpls_ip.map(ipToText);
  if (r.layer_stack.length) o.layer_stack = r.layer_stack.map((l) => LayerStack[l] ?? String(l));
  if (r.layer_size.length) o.layer_size = [...r.layer_size];
  if (r.ipv6_routing_header_addresses.length) o.ipv6_routing_header_addresses = r.ipv6_routing_header_addresses.map(ipToText);
  if (r.ipv6_routing_header_seg_left) o.ipv6_routing_header_seg_left = r.ipv6_routing_header_seg_left;
  if (r.post_nat_src_addr.length) o.post_nat_src_addr = ipToText(r.post_nat_src_addr);
  if (r.post_nat_dst_addr.length) o.post_nat_dst_addr = ipToText(r.post_nat_dst_addr);
  if (r.post_nat_src_port) o.post_nat_src_port = r.post_nat_src_port;
  if (r.post_nat_dst_port) o.post_nat_dst_port = r.post_nat_dst_port;
  if (r.firewall_event) o.firewall_event = r.firewall_event;
  if (r.sflow_sub_agent_id) o.sflow_sub_agent_id = r.sflow_sub_agent_id;
  if (r.sflow_source_id) o.sflow_source_id = r.sflow_source_id;
  if (r.extra_fields.length) {
    o.extra_fields = r.extra_fields.map((x) => ({ enterprise: x.enterprise, id: x.id, value: hex(x.value) }));
  }
  return o;
}

/** Drops fields at their proto3 default (0, "", "0", zero MAC, empty), keeping `type`. */
export function compactJson(o: JsonObject): JsonObject {
  const c: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'type' && (v === 0 || v === '' || v === '0' || v === '00:00:00:00:00:00' || v === 'FLOW_DIRECTION_UNKNOWN' || v === 'SAMPLING_NONE')) continue;
    c[k] = v;
  }
  return c;
}

export function countersToJson(c: InterfaceCounters): JsonObject {
  const o: JsonObject = {};
  for (const [k, v] of Object.entries(c) as Array<[string, unknown]>) {
    if (k === 'time_received_us') o.time_received_ns = usToNsText(v as number);
    else if (v instanceof Uint8Array) o[k] = ipToText(v);
    else if (typeof v === 'bigint') o[k] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    else o[k] = v as number;
  }
  return o;
}
