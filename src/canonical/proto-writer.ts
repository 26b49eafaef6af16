// A minimal protobuf wire writer over one growable scratch buffer. protobufjs's Writer builds
// a linked list of operations per message and then copies; for millions of small records that
// costs more than the decode itself, so the hot path writes varints straight into bytes.

const TWO_32 = 4294967296;

export class ProtoWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  reset(): void {
    this.pos = 0;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Unsigned varint of a value in [0, 2^32). */
  varint32(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    v >>>= 0;
    while (v > 127) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Unsigned varint of a 64-bit value given as two 32-bit halves. */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    while (hi !== 0) {
      b[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      b[p++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    b[p++] = lo;
    this.pos = p;
  }

  /** Unsigned varint of a non-negative number (values past 2^64 saturate; fractions truncate). */
  varintNumber(v: number): void {
    if (!(v > 0)) {
      this.varint32(0); // negative or NaN never reach the wire as garbage bytes
      return;
    }
    if (v < TWO_32) {
      this.varint32(v >>> 0);
      return;
    }
    if (!(v < 18446744073709551616)) {
      this.varint64(0xffffffff, 0xffffffff);
      return;
    }
    const hi = Math.floor(v / TWO_32);
    this.varint64((v - hi * TWO_32) >>> 0, hi >>> 0);
  }

  /** Integer microseconds → varint of nanoseconds, exact for any µs < 2^53. */
  varintMicrosAsNanos(us: number): void {
    if (!(us > 0)) {
      this.varint32(0);
      return;
    }
    if (us < 4294967) {
      this.varint32(us * 1000);
      return;
    }
    const hi = Math.floor(us / TWO_32);
    const lo = us - hi * TWO_32;
    const loNs = lo * 1000; // < 2^42: exact
    const carry = Math.floor(loNs / TWO_32);
    this.varint64((loNs - carry * TWO_32) >>> 0, (hi * 1000 + carry) >>> 0);
  }

  tag(field: number, wireType: number): void {
    this.varint32(((field << 3) | wireType) >>> 0);
  }

  bytes(src: Uint8Array): void {
    this.varint32(src.length);
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Packed repeated varints: length prefix then values (proto3 default for repeated scalars). */
  packed(values: readonly number[]): void {
    let len = 0;
    for (const v of values) len += varintSize(v);
    this.varint32(len);
    for (const v of values) this.varintNumber(v);
  }

  /** Copies out what was written since `start`. */
  slice(start = 0): Buffer {
    return Buffer.from(this.buf.subarray(start, this.pos));
  }
}

export function varintSize(v: number): number {
  if (v < 128) return 1;
  if (v < 16384) return 2;
  if (v < 2097152) return 3;
  if (v < 268435456) return 4;
  let n = 4;
  let x = Math.floor(v / 268435456);
  while (x > 0) {
    n++;
    x = Math.floor(x / 128);
  }
  return Math.min(n, 10);
}
