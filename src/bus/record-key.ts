// Kafka message keys computed from an encoded canonical record, so the wire path never has
// to build a FlowRecord just to partition it.
//
// five-tuple: both directions of a conversation must land in one partition, so the two
// (address, port) endpoints are put in a canonical order before hashing. The key is 8 bytes:
// two 32-bit FNV-1a hashes with different offset bases over (proto, low end, high end).
// exporter: the exporter's address as text, readable in kcat and ops tools.

/** Field numbers in codecs/flow.proto. */
const SRC_ADDR = 6;
const DST_ADDR = 7;
const PROTO = 20;
const SRC_PORT = 21;
const DST_PORT = 22;

export interface FiveTuple {
  proto: number;
  srcAddr: Uint8Array;
  dstAddr: Uint8Array;
  srcPort: number;
  dstPort: number;
}

const EMPTY = new Uint8Array(0);

/** Reads the five-tuple fields of one encoded FlowMessage in buf[start, end). */
export function readFiveTuple(buf: Uint8Array, start: number, end: number): FiveTuple {
  const t: FiveTuple = { proto: 0, srcAddr: EMPTY, dstAddr: EMPTY, srcPort: 0, dstPort: 0 };
  let p = start;
  while (p < end) {
    // Tags and values are varints; field numbers we want are < 2^11, tags fit two bytes.
    let tag = 0;
    let shift = 0;
    let b: number;
    do {
      b = buf[p++];
      tag |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && p < end && shift < 35);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      let v = 0;
      let mul = 1;
      do {
        b = buf[p++];
        v += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80 && p < end);
      if (field === PROTO) t.proto = v;
      else if (field === SRC_PORT) t.srcPort = v;
      else if (field === DST_PORT) t.dstPort = v;
    } else if (wire === 2) {
      let len = 0;
      let mul = 1;
      do {
        b = buf[p++];
        len += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80 && p < end);
      if (field === SRC_ADDR) t.srcAddr = buf.subarray(p, p + len);
      else if (field === DST_ADDR) t.dstAddr = buf.subarray(p, p + len);
      p += len;
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else break; // groups are not in our schema: stop rather than misread
  }
  return t;
}

/** <0, 0 or >0 as endpoint (a, ap) sorts before, equal to or after (b, bp). */
function compareEnd(a: Uint8Array, ap: number, b: Uint8Array, bp: number): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return ap - bp;
}

function fnv(h: number, x: number): number {
  return Math.imul(h ^ x, 0x01000193);
}

function mixEnd(h: number, a: Uint8Array, port: number): number {
  h = fnv(h, a.length);
  for (let i = 0; i < a.length; i++) h = fnv(h, a[i]);
  h = fnv(h, port >>> 8);
  return fnv(h, port & 0xff);
}

/** Same key for both directions of a conversation. */
export function fiveTupleKey(t: FiveTuple): Buffer {
  const forward = compareEnd(t.srcAddr, t.srcPort, t.dstAddr, t.dstPort) <= 0;
  const [a, ap, b, bp] = forward ? [t.srcAddr, t.srcPort, t.dstAddr, t.dstPort] : [t.dstAddr, t.dstPort, t.srcAddr, t.srcPort];
  let h1 = fnv(0x811c9dc5, t.proto);
  let h2 = fnv(0x050c5d1f, t.proto);
  h1 = mixEnd(mixEnd(h1, a, ap), b, bp);
  h2 = mixEnd(mixEnd(h2, a, ap), b, bp);
  const k = Buffer.allocUnsafe(8);
  k.writeUInt32BE(h1 >>> 0, 0);
  k.writeUInt32BE(h2 >>> 0, 4);
  return k;
}
