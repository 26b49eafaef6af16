// The canonical targets a template field can be mapped to (templates/information-elements.yaml
// `to:`). Each target says how the compiler turns the field's bytes into record fields.

export type TargetKind =
  | 'uint'        // unsigned big-endian number of 1-8 bytes → the record field of the same name
  | 'addr'        // 4 or 16 bytes → Uint8Array view
  | 'mac'         // 6 bytes → 48-bit number
  | 'sampling'    // sampling interval carried in the record: sets the rate and its source
  | 'icmp_type_code'
  | 'ip_version'  // 4/6 → etype 0x0800/0x86DD
  | 'flow_direction'
  | 'mpls_label'  // 3-byte label stack entry, appended in template order
  | 'mpls_ip'     // address, appended
  | 'time';       // one of the start/end time encodings below

export type TimeEncoding = 'sysuptime_ms' | 'seconds' | 'milliseconds' | 'ntp' | 'delta_us';

export interface Target {
  kind: TargetKind;
  /** Record field written (uint/addr/mac); for time: 'start' | 'end'. */
  field: string;
  time?: TimeEncoding;
}

const UINT_FIELDS = [
  'bytes', 'packets', 'proto', 'ip_tos', 'tcp_flags', 'src_port', 'dst_port', 'src_net', 'dst_net',
  'in_if', 'out_if', 'src_as', 'dst_as', 'next_hop_as', 'src_vlan', 'dst_vlan', 'vlan_id', 'ip_ttl',
  'ip_flags', 'fragment_id', 'fragment_offset', 'ipv6_flow_label', 'forwarding_status',
  'flow_end_reason', 'observation_point_id', 'icmp_type', 'icmp_code', 'firewall_event',
  'post_nat_src_port', 'post_nat_dst_port', 'sampler_id', 'etype',
] as const;
const ADDR_FIELDS = ['src_addr', 'dst_addr', 'next_hop', 'bgp_next_hop', 'post_nat_src_addr', 'post_nat_dst_addr'] as const;
const MAC_FIELDS = ['src_mac', 'dst_mac'] as const;

const TIME_TARGETS: Record<string, [string, TimeEncoding]> = {
  start_sysuptime_ms: ['start', 'sysuptime_ms'],
  end_sysuptime_ms: ['end', 'sysuptime_ms'],
  start_seconds: ['start', 'seconds'],
  end_seconds: ['end', 'seconds'],
  start_milliseconds: ['start', 'milliseconds'],
  end_milliseconds: ['end', 'milliseconds'],
  start_ntp: ['start', 'ntp'],
  end_ntp: ['end', 'ntp'],
  start_delta_us: ['start', 'delta_us'],
  end_delta_us: ['end', 'delta_us'],
};

const TABLE = new Map<string, Target>();
for (const f of UINT_FIELDS) TABLE.set(f, { kind: 'uint', field: f });
for (const f of ADDR_FIELDS) TABLE.set(f, { kind: 'addr', field: f });
for (const f of MAC_FIELDS) TABLE.set(f, { kind: 'mac', field: f });
TABLE.set('sampling_rate', { kind: 'sampling', field: 'sampling_rate' });
TABLE.set('icmp_type_code', { kind: 'icmp_type_code', field: 'icmp_type' });
TABLE.set('ip_version', { kind: 'ip_version', field: 'etype' });
TABLE.set('flow_direction', { kind: 'flow_direction', field: 'flow_direction' });
TABLE.set('mpls_label', { kind: 'mpls_label', field: 'mpls_label' });
TABLE.set('mpls_ip', { kind: 'mpls_ip', field: 'mpls_ip' });
for (const [name, [field, time]] of Object.entries(TIME_TARGETS)) TABLE.set(name, { kind: 'time', field, time });

export type TargetName = string;

export function isTarget(name: string): boolean {
  return TABLE.has(name);
}

export function target(name: TargetName): Target {
  const t = TABLE.get(name);
  if (!t) throw new Error(`unknown canonical target ${name}`);
  return t;
}
