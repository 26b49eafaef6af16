// The in-memory form of the canonical record (codecs/flow.proto, message flowpb.FlowMessage).
//
// Field names are the proto's, so JSON output and CSV columns need no mapping table, with one
// deliberate difference: the three 64-bit nanosecond times are held as integer MICROseconds
// (`*_us`). A JS number holds integer µs since 1970 exactly until the year 2255, whereas ns
// would need BigInt, which costs ~90 ns per value on the hot path (measured, see
// docs/ARCHITECTURE.md). The proto encoder multiplies by 1000 exactly. Sub-µs digits of the
// rare IPFIX dateTimeNanoseconds IEs are the only precision given up.
//
// Every other uint64 (bytes, packets, sampling_rate, MACs) is a plain number: flow counters
// never reach 2^53 in one record and MACs are 48-bit.

export enum FlowType {
  FLOWUNKNOWN = 0,
  SFLOW_5 = 1,
  NETFLOW_V5 = 2,
  NETFLOW_V9 = 3,
  IPFIX = 4,
}

export enum LayerStack {
  Ethernet = 0,
  IPv4 = 1,
  IPv6 = 2,
  TCP = 3,
  UDP = 4,
  MPLS = 5,
  Dot1Q = 6,
  ICMP = 7,
  ICMPv6 = 8,
  GRE = 9,
  IPv6HeaderRouting = 10,
  IPv6HeaderFragment = 11,
}

export enum FlowDirection {
  FLOW_DIRECTION_UNKNOWN = 0,
  INGRESS = 1,
  EGRESS = 2,
}

export enum SamplingRateSource {
  SAMPLING_NONE = 0,
  SAMPLING_IN_RECORD = 1,
  SAMPLING_OPTIONS = 2,
  SAMPLING_SFLOW = 3,
  SAMPLING_CONFIG = 4,
}

/** A field no mapping claimed: kept raw so nothing the exporter sent is lost. */
export interface ExtraField {
  enterprise: number;
  id: number;
  value: Uint8Array;
}

export const NO_BYTES: Uint8Array = new Uint8Array(0);
export const NO_NUMBERS: readonly number[] = Object.freeze([]) as readonly number[];
export const NO_BYTE_LISTS: readonly Uint8Array[] = Object.freeze([]) as readonly Uint8Array[];
export const NO_EXTRAS: readonly ExtraField[] = Object.freeze([]) as readonly ExtraField[];

export interface FlowRecord {
  type: FlowType;
  time_received_us: number;
  sequence_num: number;
  sampling_rate: number;
  sampler_address: Uint8Array;
  time_flow_start_us: number;
  time_flow_end_us: number;
  bytes: number;
  packets: number;
  src_addr: Uint8Array;
  dst_addr: Uint8Array;
  etype: number;
  proto: number;
  src_port: number;
  dst_port: number;
  in_if: number;
  out_if: number;
  src_mac: number;
  dst_mac: number;
  src_vlan: number;
  dst_vlan: number;
  vlan_id: number;
  ip_tos: number;
  forwarding_status: number;
  ip_ttl: number;
  ip_flags: number;
  tcp_flags: number;
  icmp_type: number;
  icmp_code: number;
  ipv6_flow_label: number;
  fragment_id: number;
  fragment_offset: number;
  src_as: number;
  dst_as: number;
  next_hop: Uint8Array;
  next_hop_as: number;
  src_net: number;
  dst_net: number;
  bgp_next_hop: Uint8Array;
  bgp_communities: readonly number[];
  as_path: readonly number[];
  mpls_ttl: readonly number[];
  mpls_label: readonly number[];
  mpls_ip: readonly Uint8Array[];
  observation_domain_id: number;
  observation_point_id: number;
  layer_stack: readonly LayerStack[];
  layer_size: readonly number[];
  ipv6_routing_header_addresses: readonly Uint8Array[];
  ipv6_routing_header_seg_left: number;
  // flowgate additions (proto numbers 200-299)
  flow_direction: FlowDirection;
  sampling_rate_source: SamplingRateSource;
  exporter_port: number;
  exporter_address: Uint8Array;
  sampler_id: number;
  flow_end_reason: number;
  post_nat_src_addr: Uint8Array;
  post_nat_dst_addr: Uint8Array;
  post_nat_src_port: number;
  post_nat_dst_port: number;
  firewall_event: number;
  sflow_sub_agent_id: number;
  sflow_source_id: number;
  extra_fields: readonly ExtraField[];
}

/**
 * A record with every field at its proto3 default. Always build records through this one
 * literal so they all share one hidden class (V8 keeps property access monomorphic).
 */
export function newFlowRecord(): FlowRecord {
  return {
    type: FlowType.FLOWUNKNOWN,
    time_received_us: 0,
    sequence_num: 0,
    sampling_rate: 0,
    sampler_address: NO_BYTES,
    time_flow_start_us: 0,
    time_flow_end_us: 0,
    bytes: 0,
    packets: 0,
    src_addr: NO_BYTES,
    dst_addr: NO_BYTES,
    etype: 0,
    proto: 0,
    src_port: 0,
    dst_port: 0,
    in_if: 0,
    out_if: 0,
    src_mac: 0,
    dst_mac: 0,
    src_vlan: 0,
    dst_vlan: 0,
    vlan_id: 0,
    ip_tos: 0,
    forwarding_status: 0,
    ip_ttl: 0,
    ip_flags: 0,
    tcp_flags: 0,
    icmp_type: 0,
    icmp_code: 0,
    ipv6_flow_label: 0,
    fragment_id: 0,
    fragment_offset: 0,
    src_as: 0,
    dst_as: 0,
    next_hop: NO_BYTES,
    next_hop_as: 0,
    src_net: 0,
    dst_net: 0,
    bgp_next_hop: NO_BYTES,
    bgp_communities: NO_NUMBERS,
    as_path: NO_NUMBERS,
    mpls_ttl: NO_NUMBERS,
    mpls_label: NO_NUMBERS,
    mpls_ip: NO_BYTE_LISTS,
    observation_domain_id: 0,
    observation_point_id: 0,
    layer_stack: NO_NUMBERS,
    layer_size: NO_NUMBERS,
    ipv6_routing_header_addresses: NO_BYTE_LISTS,
    ipv6_routing_header_seg_left: 0,
    flow_direction: FlowDirection.FLOW_DIRECTION_UNKNOWN,
    sampling_rate_source: SamplingRateSource.SAMPLING_NONE,
    exporter_port: 0,
    exporter_address: NO_BYTES,
    sampler_id: 0,
    flow_end_reason: 0,
    post_nat_src_addr: NO_BYTES,
    post_nat_dst_addr: NO_BYTES,
    post_nat_src_port: 0,
    post_nat_dst_port: 0,
    firewall_event: 0,
    sflow_sub_agent_id: 0,
    sflow_source_id: 0,
    extra_fields: NO_EXTRAS,
  };
}

/** sFlow generic interface counters (codecs/counters.proto, flowgate.InterfaceCounters). */
export interface InterfaceCounters {
  time_received_us: number;
  agent_address: Uint8Array;
  sub_agent_id: number;
  sequence_num: number;
  source_id_type: number;
  source_id_index: number;
  if_index: number;
  if_type: number;
  /** 64-bit counters kept as bigint: interface octet counters do pass 2^53. */
  if_speed: bigint;
  if_direction: number;
  if_status: number;
  if_in_octets: bigint;
  if_in_ucast_pkts: number;
  if_in_multicast_pkts: number;
  if_in_broadcast_pkts: number;
  if_in_discards: number;
  if_in_errors: number;
  if_in_unknown_protos: number;
  if_out_octets: bigint;
  if_out_ucast_pkts: number;
  if_out_multicast_pkts: number;
  if_out_broadcast_pkts: number;
  if_out_discards: number;
  if_out_errors: number;
  if_promiscuous_mode: number;
  exporter_address: Uint8Array;
  exporter_port: number;
}
