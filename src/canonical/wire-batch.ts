// Encoded canonical records of one datagram, back to back in one buffer, with where each
// ends. The ingest hot path hands this to the bus: delimited framing takes the buffer (plus
// length prefixes) as is, raw framing cuts one view per record; no FlowRecord is built.

export class WireBatch {
  buf: Buffer;
  pos = 0;
  readonly ends: number[] = [];

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  get count(): number {
    return this.ends.length;
  }

  reset(): void {
    this.pos = 0;
    this.ends.length = 0;
  }

  /** Drops records after the first `count` (e.g. those of a datagram that failed). */
  truncate(count: number): void {
    this.ends.length = Math.min(count, this.ends.length);
    this.pos = count > 0 ? this.ends[count - 1] : 0;
  }

  /** Makes room for `n` more bytes at `pos`. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (!(n >= 0 && n < 1 << 30)) throw new RangeError(`WireBatch.ensure(${n}): not a sane size`);
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Marks the bytes up to `pos` as the end of one record. */
  endRecord(): void {
    this.ends.push(this.pos);
  }

  /** One fresh buffer per record (raw framing). One copy of the whole batch, then views. */
  messages(): Buffer[] {
    const all = Buffer.allocUnsafe(this.pos);
    this.buf.copy(all, 0, 0, this.pos);
    const out = new Array<Buffer>(this.ends.length);
    let start = 0;
    for (let i = 0; i < this.ends.length; i++) {
      out[i] = all.subarray(start, this.ends[i]);
      start = this.ends[i];
    }
    return out;
  }
}
