// The TRAP file format, as libtrap's file interface (`-i f:PATH`) writes and reads it: hello +
// template spec, then blocks of [u32 BE payload length][payload]. Each file starts with its own
// hello, so every rotated file is readable on its own.
//
// Rotation follows libtrap's file interface conventions: with a time window the name gets the
// window start as `.YYYYmmddHHMM` (plus `SS` when the window is not whole minutes), with a size
// limit a part number `.0`, `.1`, … A file is never split inside a block.
//
// Durability: a block is durable once the write to the file has completed (it is with the OS);
// files are fsynced when rotated and at close.

import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileBlockHeader } from './trap-framing';

export interface TrapFileOptions {
  path: string;
  hello: Buffer;
  rotateSeconds: number;
  rotateBytes: number;
  clock?: () => number;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function windowStamp(startMs: number, withSeconds: boolean): string {
  const d = new Date(startMs);
  const s = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  return withSeconds ? s + pad(d.getUTCSeconds()) : s;
}

export class TrapFileWriter {
  private fd = -1;
  private bytes = 0;
  private windowStart = -1;
  private part = 0;
  private readonly clock: () => number;
  readonly files: string[] = [];

  constructor(private readonly o: TrapFileOptions) {
    this.clock = o.clock ?? Date.now;
  }

  start(): void {
    mkdirSync(dirname(this.o.path), { recursive: true });
  }

  /**
   * Appends one block; synchronous on purpose: a block is ≤ 100 kB and written once per flush, and
   * ordering + durability bookkeeping stay trivial. Throws on I/O errors (the output counts them).
   */
  writeBlock(payload: Buffer): void {
    this.rotateIfDue(payload.length + 4);
    this.put(fileBlockHeader(payload.length));
    this.put(payload);
  }

  close(): void {
    if (this.fd < 0) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }

  private rotateIfDue(next: number): void {
    const now = this.clock();
    const secs = this.o.rotateSeconds;
    const win = secs > 0 ? Math.floor(now / (secs * 1000)) * secs * 1000 : 0;
    if (this.fd >= 0 && secs > 0 && win !== this.windowStart) {
      this.close();
      this.part = 0;
    } else if (this.fd >= 0 && this.o.rotateBytes > 0 && this.bytes > this.o.hello.length && this.bytes + next > this.o.rotateBytes) {
      this.close();
      this.part++;
    }
    if (this.fd >= 0) return;
    this.windowStart = win;
    let name = this.o.path;
    if (secs > 0) name += `.${windowStamp(win, secs % 60 !== 0)}`;
    if (this.o.rotateBytes > 0) name += `.${this.part}`;
    this.fd = openSync(name, 'w');
    this.files.push(name);
    this.bytes = 0;
    this.put(this.o.hello);
  }

  private put(b: Buffer): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
    this.bytes += b.length;
  }
}
