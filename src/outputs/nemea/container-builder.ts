// Collects length-prefixed records into one payload of at most MAX_PAYLOAD_BYTES; the output
// takes the payload when the next record would not fit, or on the flush timer.

import { MAX_PAYLOAD_BYTES } from './trap-framing';

export interface Payload {
  bytes: Buffer;
  count: number;
}

export class ContainerBuilder {
  private buf = Buffer.allocUnsafe(MAX_PAYLOAD_BYTES);
  private len = 0;
  private n = 0;

  get count(): number {
    return this.n;
  }

  fits(recordBytes: number): boolean {
    return this.len + 2 + recordBytes <= MAX_PAYLOAD_BYTES;
  }

  add(record: Uint8Array): void {
    this.buf.writeUInt16BE(record.length, this.len);
    this.buf.set(record, this.len + 2);
    this.len += 2 + record.length;
    this.n++;
  }

  /** Hands over the payload (a copy sized to fit, since it is queued on sockets) and starts empty. */
  take(): Payload {
    const p = { bytes: Buffer.from(this.buf.subarray(0, this.len)), count: this.n };
    this.len = 0;
    this.n = 0;
    return p;
  }
}
