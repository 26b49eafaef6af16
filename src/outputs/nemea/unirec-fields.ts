// The UniRec fields this output can fill from a canonical record: UniRec name, UniRec type and
// how the value is taken. Names and types follow the NEMEA flow modules and ipfixcol2's UniRec
// mapping (docs/NEMEA.md lists them with their sources); a module checks the type of every field
// it needs, so a type here must be the one NEMEA modules declare.
//
// LINK_BIT_FIELD and DIR_BIT_FIELD are derived as ipfixcol2's UniRec plugin derives them:
// LINK_BIT_FIELD = 1 << (observation domain ID mod 64), DIR_BIT_FIELD = ingress interface & 1.

import type { FlowRecord } from '../../canonical/flow-record';

export type UnirecType = 'ipaddr' | 'macaddr' | 'time' | 'uint64' | 'uint32' | 'uint16' | 'uint8' | 'string' | 'bytes';

/** Fixed size in bytes; 0 for the variable-length types. */
export const TYPE_SIZE: Readonly<Record<UnirecType, number>> = {
  ipaddr: 16, macaddr: 6, time: 8, uint64: 8, uint32: 4, uint16: 2, uint8: 1, string: 0, bytes: 0,
};

export type NumberSource = (r: FlowRecord) => number;
export type BytesSource = (r: FlowRecord) => Uint8Array;
export type TextSource = (r: FlowRecord) => string;

export type FieldSource =
  | { kind: 'number'; get: NumberSource }
  | { kind: 'address'; get: BytesSource }
  /** 48-bit MAC held as a number in the canonical record. */
  | { kind: 'mac'; get: NumberSource }
  /** Microseconds since 1970. */
  | { kind: 'time'; get: NumberSource }
  | { kind: 'text'; get: TextSource };

export interface FieldDef {
  type: UnirecType;
  source: FieldSource;
  /** One line for docs and config errors. */
  about: string;
}

const num = (get: NumberSource): FieldSource => ({ kind: 'number', get });
const TWO_POW_63 = 2 ** 63;

/** 1 << (odid mod 64) as a number: exact, since a power of two is representable up to 2^63. */
export function linkBitField(odid: number): number {
  const bit = (odid >>> 0) & 63;
  return bit === 63 ? TWO_POW_63 : 2 ** bit;
}

/** Dotted/colon text of a 4- or 16-byte address ('' when absent). */
export function addressText(a: Uint8Array): string {
  if (a.length === 4) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  if (a.length !== 16) return '';
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((a[i] << 8) | a[i + 1]).toString(16));
  return parts.join(':');
}

export const UNIREC_FIELDS: Readonly<Record<string, FieldDef>> = {
  // The default template of the NEMEA flow modules (DESIGN.md §5).
  DST_IP: { type: 'ipaddr', source: { kind: 'address', get: (r) => r.dst_addr }, about: 'destination address' },
  SRC_IP: { type: 'ipaddr', source: { kind: 'address', get: (r) => r.src_addr }, about: 'source address' },
  BYTES: { type: 'uint64', source: num((r) => r.bytes), about: 'bytes' },
  LINK_BIT_FIELD: { type: 'uint64', source: num((r) => linkBitField(r.observation_domain_id)), about: '1 << (observation domain ID mod 64)' },
  TIME_FIRST: { type: 'time', source: { kind: 'time', get: (r) => r.time_flow_start_us }, about: 'flow start' },
  TIME_LAST: { type: 'time', source: { kind: 'time', get: (r) => r.time_flow_end_us }, about: 'flow end' },
  PACKETS: { type: 'uint32', source: num((r) => r.packets), about: 'packets (saturated at 2^32-1)' },
  DST_PORT: { type: 'uint16', source: num((r) => r.dst_port), about: 'destination port' },
  SRC_PORT: { type: 'uint16', source: num((r) => r.src_port), about: 'source port' },
  DIR_BIT_FIELD: { type: 'uint8', source: num((r) => r.in_if & 1), about: 'ingress interface & 1 (1 = incoming)' },
  PROTOCOL: { type: 'uint8', source: num((r) => r.proto), about: 'IP protocol' },
  TCP_FLAGS: { type: 'uint8', source: num((r) => r.tcp_flags), about: 'TCP flags' },
  TOS: { type: 'uint8', source: num((r) => r.ip_tos), about: 'IP type of service' },
  TTL: { type: 'uint8', source: num((r) => r.ip_ttl), about: 'IP time to live' },
  // Optional fields.
  SRC_MAC: { type: 'macaddr', source: { kind: 'mac', get: (r) => r.src_mac }, about: 'source MAC' },
  DST_MAC: { type: 'macaddr', source: { kind: 'mac', get: (r) => r.dst_mac }, about: 'destination MAC' },
  VLAN_ID: { type: 'uint16', source: num((r) => r.vlan_id), about: '802.1Q VLAN' },
  SRC_VLAN: { type: 'uint16', source: num((r) => r.src_vlan), about: 'source VLAN' },
  DST_VLAN: { type: 'uint16', source: num((r) => r.dst_vlan), about: 'destination VLAN' },
  IN_IF: { type: 'uint32', source: num((r) => r.in_if), about: 'ingress interface index' },
  OUT_IF: { type: 'uint32', source: num((r) => r.out_if), about: 'egress interface index' },
  SRC_AS: { type: 'uint32', source: num((r) => r.src_as), about: 'source AS' },
  DST_AS: { type: 'uint32', source: num((r) => r.dst_as), about: 'destination AS' },
  SAMPLING_RATE: { type: 'uint32', source: num((r) => r.sampling_rate), about: 'sampling rate (1 in N; 0 unknown)' },
  ODID: { type: 'uint32', source: num((r) => r.observation_domain_id), about: 'observation domain ID / source ID' },
  FLOW_END_REASON: { type: 'uint8', source: num((r) => r.flow_end_reason), about: 'IPFIX flowEndReason' },
  EXPORTER_IP: { type: 'ipaddr', source: { kind: 'address', get: (r) => r.exporter_address }, about: 'exporter address' },
  EXPORTER: { type: 'string', source: { kind: 'text', get: (r) => addressText(r.exporter_address) }, about: 'exporter address as text (variable length)' },
  SAMPLER_ADDRESS: { type: 'string', source: { kind: 'text', get: (r) => addressText(r.sampler_address) }, about: 'sFlow agent / sampler address as text (variable length)' },
};

export const DEFAULT_UNIREC_FIELDS =
  'ipaddr DST_IP,ipaddr SRC_IP,uint64 BYTES,uint64 LINK_BIT_FIELD,time TIME_FIRST,time TIME_LAST,uint32 PACKETS,' +
  'uint16 DST_PORT,uint16 SRC_PORT,uint8 DIR_BIT_FIELD,uint8 PROTOCOL,uint8 TCP_FLAGS,uint8 TOS,uint8 TTL';
