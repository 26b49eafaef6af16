// One NetFlow v9 export packet under construction (RFC 3954 §5): the 20-byte header, then
// flowsets, each padded to a 4-byte boundary with zeros and its length covering the padding.
// The header's count is every record in the packet: template records, options template
// records, data records and options data records.

export const HEADER_LENGTH = 20;
const SET_HEADER = 4;
// Worst-case padding of the open flowset: reserved whenever a record is added, so closing it
// can never push the packet past the MTU.
const MAX_PAD = 3;

export class DatagramBuilder {
  readonly buf: Buffer;
  private pos = HEADER_LENGTH;
  private setId = -1;
  private setStart = 0;
  /** Header count so far. */
  count = 0;
  /** Flow (data) records in the packet. */
  records = 0;
  templates = false;

  constructor(readonly mtu: number) {
    this.buf = Buffer.allocUnsafe(mtu);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Whether a record of `length` bytes fits into a flowset `setId` (opening one if needed). */
  fits(setId: number, length: number): boolean {
    const header = this.setId === setId ? 0 : SET_HEADER;
    return this.pos + header + length + MAX_PAD <= this.mtu;
  }

  /** Bytes left for records after a new flowset header and padding. */
  roomForNewSet(): number {
    return this.mtu - this.pos - SET_HEADER - MAX_PAD;
  }

  /**
   * Reserves a record in flowset `setId` and returns its offset; the caller checked fits().
   * `alone` starts a new flowset even if one of that id is open: nfcapd reads only the first
   * record of an options data flowset.
   */
  add(setId: number, length: number, alone = false): number {
    if (this.setId !== setId || alone) {
      this.closeSet();
      this.setId = setId;
      this.setStart = this.pos;
      this.pos += SET_HEADER;
    }
    const p = this.pos;
    this.pos += length;
    this.count++;
    return p;
  }

  /** A whole flowset of `n` ready-made records (template definitions; nfcapd reads one options template per flowset). */
  addSet(setId: number, body: Buffer, n: number): void {
    this.closeSet();
    this.setId = setId;
    this.setStart = this.pos;
    this.pos += SET_HEADER;
    body.copy(this.buf, this.pos);
    this.pos += body.length;
    this.count += n;
    this.closeSet();
  }

  private closeSet(): void {
    if (this.setId < 0) return;
    while ((this.pos - this.setStart) % 4 !== 0) this.buf[this.pos++] = 0;
    this.buf.writeUInt16BE(this.setId, this.setStart);
    this.buf.writeUInt16BE(this.pos - this.setStart, this.setStart + 2);
    this.setId = -1;
  }

  /** Closes the last flowset, writes the header and returns the packet's bytes. */
  finish(uptimeMs: number, unixSecs: number, sequence: number, sourceId: number): Buffer {
    this.closeSet();
    const b = this.buf;
    b.writeUInt16BE(9, 0);
    b.writeUInt16BE(this.count, 2);
    b.writeUInt32BE(uptimeMs, 4);
    b.writeUInt32BE(unixSecs, 8);
    b.writeUInt32BE(sequence, 12);
    b.writeUInt32BE(sourceId, 16);
    return b.subarray(0, this.pos);
  }
}
