// What the exporter can put into a NetFlow v9 data record: one entry per IE id, saying which
// canonical value it carries, the lengths a collector accepts for it, and how to write it.
// IE ids and meanings are RFC 3954 §8 (the same numbers as IPFIX 1-127) and the IANA registry
// for the few above 127; names come from templates/information-elements.yaml, so the decoder
// reads every field back into the canonical field it was written from.

import type { FlowRecord } from '../../canonical/flow-record';

/** Per-record values the stream computes before writing (times relative to its sysUptime base). */
export interface RecordContext {
  firstSwitched: number;
  lastSwitched: number;
  /** Incremented when a value did not fit its field and was written as the field's maximum. */
  clamped: number;
}

export type FieldWriter = (b: Buffer, p: number, r: FlowRecord, c: RecordContext) => void;

export interface FieldKind {
  /** Lengths the writer supports; the first is the default. */
  lengths: readonly number[];
  /** Only in this template family (address fields). */
  family?: 4 | 6;
  writer(length: number): FieldWriter;
}

type NumberField = { [K in keyof FlowRecord]: FlowRecord[K] extends number ? K : never }[keyof FlowRecord];
type BytesField = { [K in keyof FlowRecord]: FlowRecord[K] extends Uint8Array ? K : never }[keyof FlowRecord];

function putUint(b: Buffer, p: number, len: number, v: number, c: RecordContext): void {
  const max = len >= 7 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * len) - 1;
  if (!(v >= 0)) v = 0;
  if (v > max) {
    v = max;
    c.clamped++;
  }
  if (len === 8) {
    const hi = Math.floor(v / 4294967296);
    b.writeUInt32BE(hi, p);
    b.writeUInt32BE(v - hi * 4294967296, p + 4);
    return;
  }
  for (let i = len - 1; i >= 0; i--) {
    b[p + i] = v & 255;
    v = Math.floor(v / 256);
  }
}

function uint(field: NumberField, lengths: readonly number[]): FieldKind {
  return {
    lengths,
    writer: (len) => {
      if (len === 1) return (b, p, r, c) => { const v = r[field]; if (v > 255) { b[p] = 255; c.clamped++; } else b[p] = v; };
      if (len === 2) return (b, p, r, c) => { const v = r[field]; if (v > 65535) { b.writeUInt16BE(65535, p); c.clamped++; } else b.writeUInt16BE(v, p); };
      if (len === 4) return (b, p, r, c) => { const v = r[field]; if (v > 4294967295) { b.writeUInt32BE(4294967295, p); c.clamped++; } else b.writeUInt32BE(v, p); };
      return (b, p, r, c) => putUint(b, p, len, r[field], c);
    },
  };
}

// An address field of the other family (or an absent address) is written as zeros: the
// unspecified address, which is what exporters send for "none".
function addr(field: BytesField, family: 4 | 6): FieldKind {
  const size = family === 4 ? 4 : 16;
  return {
    lengths: [size],
    family,
    writer: () => (b, p, r) => {
      const a = r[field];
      if (a.length === size) b.set(a, p);
      else b.fill(0, p, p + size);
    },
  };
}

function mac(field: 'src_mac' | 'dst_mac'): FieldKind {
  return {
    lengths: [6],
    writer: () => (b, p, r) => {
      const v = r[field];
      const hi = Math.floor(v / 4294967296);
      b.writeUInt16BE(hi & 0xffff, p);
      b.writeUInt32BE(v - hi * 4294967296, p + 2);
    },
  };
}

const FIELDS = new Map<number, FieldKind>([
  [1, uint('bytes', [8, 4])],
  [2, uint('packets', [8, 4])],
  [4, uint('proto', [1])],
  [5, uint('ip_tos', [1])],
  [6, uint('tcp_flags', [1, 2])],
  [7, uint('src_port', [2])],
  [8, addr('src_addr', 4)],
  [9, uint('src_net', [1])],
  [10, uint('in_if', [4, 2])],
  [11, uint('dst_port', [2])],
  [12, addr('dst_addr', 4)],
  [13, uint('dst_net', [1])],
  [14, uint('out_if', [4, 2])],
  [15, addr('next_hop', 4)],
  [16, uint('src_as', [4, 2])],
  [17, uint('dst_as', [4, 2])],
  [18, addr('bgp_next_hop', 4)],
  [21, { lengths: [4], writer: () => (b, p, _r, c) => b.writeUInt32BE(c.lastSwitched, p) }],
  [22, { lengths: [4], writer: () => (b, p, _r, c) => b.writeUInt32BE(c.firstSwitched, p) }],
  [27, addr('src_addr', 6)],
  [28, addr('dst_addr', 6)],
  [29, uint('src_net', [1])],
  [30, uint('dst_net', [1])],
  [31, uint('ipv6_flow_label', [4])],
  // ICMP type and code in one 16-bit value (RFC 3954 ICMP_TYPE): type × 256 + code. An ICMP
  // record that carries them only in dst_port (the v5/Cisco convention, e.g. pmacct's IPFIX)
  // gets them from there: collectors such as nfcapd take ICMP type/code from this field alone.
  [32, {
    lengths: [2],
    writer: () => (b, p, r) => {
      if (r.icmp_type === 0 && r.icmp_code === 0 && (r.proto === 1 || r.proto === 58)) b.writeUInt16BE(r.dst_port & 0xffff, p);
      else {
        b[p] = r.icmp_type & 255;
        b[p + 1] = r.icmp_code & 255;
      }
    },
  }],
  [48, uint('sampler_id', [2, 1, 4])],
  [56, mac('src_mac')],
  [58, uint('src_vlan', [2])],
  [59, uint('dst_vlan', [2])],
  // RFC 3954 DIRECTION: 0 ingress, 1 egress. "Unknown" has no code; 255 is what the decoder
  // (and nfdump) read as neither.
  [61, { lengths: [1], writer: () => (b, p, r) => { b[p] = r.flow_direction === 1 ? 0 : r.flow_direction === 2 ? 1 : 255; } }],
  [62, addr('next_hop', 6)],
  [63, addr('bgp_next_hop', 6)],
  [80, mac('dst_mac')],
  [89, uint('forwarding_status', [1, 4])],
  [128, uint('next_hop_as', [4, 2])],
  [192, uint('ip_ttl', [1])],
]);

export function fieldKind(ieId: number): FieldKind | undefined {
  return FIELDS.get(ieId);
}

export function supportedIeIds(): number[] {
  return [...FIELDS.keys()];
}
