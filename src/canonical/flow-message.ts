// flowpb.FlowMessage bytes → FlowRecord, through protobufjs. Used by converters reading the
// bus and by tests; it accepts messages from any goflow2-compatible producer.

import type Long from 'long';
import { flowMessageType } from './schema';
import { newFlowRecord, type ExtraField, type FlowRecord } from './flow-record';

type Scalar = number | Long;

function num(v: Scalar | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  return v.high >>> 0 ? (v.high >>> 0) * 4294967296 + (v.low >>> 0) : v.low >>> 0;
}

/** Nanoseconds (64-bit) → integer µs, exactly, without BigInt. */
function nsToUs(v: Scalar | undefined | null): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return Math.floor(v / 1000);
  const hi = v.high >>> 0;
  const lo = v.low >>> 0;
  // (hi·2^32 + lo) / 1000 with 2^32 = 4294967·1000 + 296
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
}

function bytes(v: Uint8Array | undefined | null): Uint8Array {
  return v && v.length ? v : new Uint8Array(0);
}

export function decodeFlowMessage(buf: Uint8Array): FlowRecord {
  const m = flowMessageType().decode(buf) as unknown as Record<string, unknown>;
  const r = newFlowRecord();
  const rec = r as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || v === null) continue;
    switch (k) {
      case 'time_received_ns': r.time_received_us = nsToUs(v as Scalar); break;
      case 'time_flow_start_ns': r.time_flow_start_us = nsToUs(v as Scalar); break;
      case 'time_flow_end_ns': r.time_flow_end_us = nsToUs(v as Scalar); break;
      case 'extra_fields':
        r.extra_fields = (v as Array<{ enterprise?: number; id?: number; value?: Uint8Array }>).map(
          (x): ExtraField => ({ enterprise: x.enterprise ?? 0, id: x.id ?? 0, value: bytes(x.value) }),
        );
        break;
      default:
        if (!(k in rec)) break; // a field of a newer schema: ignore, as proto3 readers do
        if (Array.isArray(v)) rec[k] = v.map((x: unknown) => (x instanceof Uint8Array ? x : num(x as Scalar)));
        else if (v instanceof Uint8Array) rec[k] = bytes(v);
        else rec[k] = num(v as Scalar);
    }
  }
  return r;
}
