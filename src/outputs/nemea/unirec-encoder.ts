// Canonical record → one UniRec record (layout from unirec-template.ts). Numbers little-endian,
// addresses in network order, `time` as seconds << 32 | fraction of a second in 2^-32 units.

import type { FlowRecord } from '../../canonical/flow-record';
import type { UnirecTemplate } from './unirec-template';

/** A record longer than this cannot carry its u16 length prefix in a container. */
export const MAX_RECORD_BYTES = 0xffff;

const TWO_32 = 4294967296;
const MAX_U64 = 2 ** 64 - 1;
// 0x44B82FA0A (≈ 2^64 / 10^9) split as 4 · 2^32 + K_LO, so ns · K >> 32 stays in exact doubles.
const K_LO = 0x4b82fa0a;

/** fraction = (ns × 0x44B82FA0A) >> 32, exactly, for 0 ≤ ns < 10^9, without BigInt. */
export function timeFraction(ns: number): number {
  const a = Math.floor(ns / 65536);
  const b = ns % 65536;
  const x = a * K_LO; // < 2^45
  const xh = Math.floor(x / 65536);
  const xl = x % 65536;
  return 4 * ns + xh + Math.floor((xl * 65536 + b * K_LO) / TWO_32);
}

export class EncodeError extends Error {}

export class UnirecEncoder {
  private readonly scratch = Buffer.allocUnsafe(MAX_RECORD_BYTES);

  constructor(readonly template: UnirecTemplate) {}

  /** Encodes into an internal buffer; the view is valid until the next call. Throws EncodeError. */
  encode(r: FlowRecord): Buffer {
    const t = this.template;
    const b = this.scratch;
    b.fill(0, 0, t.fixedSize);
    for (const f of t.fixed) {
      const o = f.offset;
      const s = f.source;
      switch (s.kind) {
        case 'number': {
          const v = s.get(r);
          if (!Number.isFinite(v) || v < 0) throw new EncodeError(`${f.name}: ${v} is not an unsigned number`);
          switch (f.size) {
            case 1: b[o] = Math.min(v, 0xff); break;
            case 2: b.writeUInt16LE(Math.min(v, 0xffff), o); break;
            case 4: b.writeUInt32LE(Math.min(v, 0xffffffff), o); break;
            default: {
              const n = Math.min(v, MAX_U64);
              const hi = Math.floor(n / TWO_32);
              b.writeUInt32LE(n - hi * TWO_32, o);
              b.writeUInt32LE(Math.min(hi, 0xffffffff), o + 4);
            }
          }
          break;
        }
        case 'address': {
          const a = s.get(r);
          if (a.length === 4) {
            b[o + 8] = a[0]; b[o + 9] = a[1]; b[o + 10] = a[2]; b[o + 11] = a[3];
            b.writeUInt32LE(0xffffffff, o + 12);
          } else if (a.length === 16) {
            b.set(a, o);
          } else if (a.length !== 0) {
            throw new EncodeError(`${f.name}: address of ${a.length} bytes`);
          }
          break;
        }
        case 'mac': {
          const m = s.get(r);
          if (!Number.isFinite(m) || m < 0 || m >= 2 ** 48) throw new EncodeError(`${f.name}: ${m} is not a 48-bit MAC`);
          const hi = Math.floor(m / TWO_32);
          b.writeUInt16BE(hi, o);
          b.writeUInt32BE(m - hi * TWO_32, o + 2);
          break;
        }
        case 'time': {
          const us = s.get(r);
          if (!Number.isFinite(us) || us < 0) throw new EncodeError(`${f.name}: ${us} µs is not a time UniRec can hold`);
          const sec = Math.floor(us / 1e6);
          if (sec >= TWO_32) throw new EncodeError(`${f.name}: ${us} µs is past 2106`);
          b.writeUInt32LE(timeFraction((us - sec * 1e6) * 1000), o);
          b.writeUInt32LE(sec, o + 4);
          break;
        }
        case 'text':
          throw new EncodeError(`${f.name}: text source on a fixed field`);
      }
    }
    let end = t.fixedSize;
    for (const f of t.variable) {
      const s = f.source;
      let len: number;
      if (s.kind === 'text') {
        // Written straight into the record: no intermediate Uint8Array per field.
        const text = s.get(r);
        len = Buffer.byteLength(text, 'utf8');
        if (end + len > MAX_RECORD_BYTES) throw new EncodeError(`${f.name}: record would exceed ${MAX_RECORD_BYTES} bytes`);
        if (len) b.write(text, end, len, 'utf8');
      } else if (s.kind === 'address') {
        const data = s.get(r);
        len = data.length;
        if (end + len > MAX_RECORD_BYTES) throw new EncodeError(`${f.name}: record would exceed ${MAX_RECORD_BYTES} bytes`);
        b.set(data, end);
      } else {
        throw new EncodeError(`${f.name}: no variable-length source`);
      }
      b.writeUInt16LE(end - t.fixedSize, f.offset);
      b.writeUInt16LE(len, f.offset + 2);
      end += len;
    }
    return b.subarray(0, end);
  }
}
