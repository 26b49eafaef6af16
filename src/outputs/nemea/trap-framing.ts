// TRAP wire units (libtrap ≥ 1.17, and the ≤ 1.16 "legacy" framing):
//   hello:      u8 data type (2 = UniRec), 3 zero bytes, u32 BE spec length, spec (no NUL)
//   container:  u32 BE payload length, u64 LE sequence (messages sent before it), u16 LE count
//   legacy:     u32 BE payload length only
//   payload:    repeated [u16 BE record length][record]
//   file block: u32 BE payload length, payload (no sequence number)

export const DATA_TYPE_UNIREC = 2;
export const MAX_PAYLOAD_BYTES = 99_986;
export const CONTAINER_HEADER_BYTES = 14;
export const LEGACY_HEADER_BYTES = 4;

export type Framing = 'container' | 'legacy';

export function hello(spec: string): Buffer {
  const s = Buffer.from(spec, 'utf8');
  const b = Buffer.alloc(8 + s.length);
  b[0] = DATA_TYPE_UNIREC;
  b.writeUInt32BE(s.length, 4);
  s.copy(b, 8);
  return b;
}

export function containerHeader(payloadBytes: number, sequence: number, count: number, framing: Framing): Buffer {
  if (framing === 'legacy') {
    const h = Buffer.allocUnsafe(LEGACY_HEADER_BYTES);
    h.writeUInt32BE(payloadBytes, 0);
    return h;
  }
  const h = Buffer.allocUnsafe(CONTAINER_HEADER_BYTES);
  h.writeUInt32BE(payloadBytes, 0);
  h.writeBigUInt64LE(BigInt(sequence), 4);
  h.writeUInt16LE(count, 12);
  return h;
}

export function fileBlockHeader(payloadBytes: number): Buffer {
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(payloadBytes, 0);
  return h;
}

/** The payload of the end-of-stream message: one 1-byte record `00`. */
export const END_OF_STREAM_PAYLOAD: Buffer = Buffer.from([0x00, 0x01, 0x00]);
