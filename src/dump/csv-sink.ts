// Where `dump` writes its CSV text: a file or stdout.
//
// A file is written as FILE.tmp and renamed to FILE only after everything is written and
// fsync'ed, so FILE never exists half-written: a failed or interrupted dump leaves no FILE
// (and removes its .tmp), and a reader polling for FILE sees it only when complete. An
// existing FILE is replaced only at that final rename.
//
// Writes are asynchronous with at most one in flight: the caller may go on formatting the next
// chunk while the previous one is written, and waits (backpressure) only when it has a second.

import { promises as fsp } from 'node:fs';
import { unlinkSync } from 'node:fs';

export interface CsvSink {
  /** Queues text; the returned promise (if any) must be awaited before the next write. */
  write(text: string | Buffer): Promise<void> | undefined;
  /** Writes what is queued and makes the output complete (file: fsync + rename). */
  finish(): Promise<void>;
  /** Gives up: a file's .tmp is removed. Safe to call at any time, also twice. */
  abort(): Promise<void>;
  /** Synchronous part of abort() for process exit paths (signal handlers). */
  abortSync(): void;
  /** Bytes written so far. */
  readonly bytes: number;
}

export function tmpPathOf(file: string): string {
  return `${file}.tmp`;
}

class FileSink implements CsvSink {
  bytes = 0;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly tmp: string,
    private readonly handle: fsp.FileHandle,
  ) {}

  write(text: string | Buffer): Promise<void> | undefined {
    if (text.length === 0) return undefined;
    const prev = this.inFlight;
    const buf = typeof text === 'string' ? Buffer.from(text) : text;
    this.bytes += buf.length;
    const start = (): Promise<void> => this.writeAll(buf);
    this.inFlight = prev ? prev.then(start) : start();
    // Observed here so a failure is not "unhandled" while the caller formats; it surfaces at
    // the next write or at finish().
    this.inFlight.catch(() => undefined);
    return prev;
  }

  private async writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, off, buf.length - off);
      off += bytesWritten;
    }
  }

  async finish(): Promise<void> {
    await this.inFlight;
    await this.handle.sync();
    await this.handle.close();
    this.closed = true;
    await fsp.rename(this.tmp, this.file);
  }

  async abort(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await fsp.unlink(this.tmp).catch(() => undefined);
  }

  abortSync(): void {
    try {
      unlinkSync(this.tmp);
    } catch {
      // already gone (renamed or never written)
    }
  }
}

class StreamSink implements CsvSink {
  bytes = 0;

  constructor(private readonly out: NodeJS.WritableStream) {}

  write(text: string | Buffer): Promise<void> | undefined {
    if (text.length === 0) return undefined;
    this.bytes += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    if (this.out.write(text)) return undefined;
    return new Promise((resolve) => this.out.once('drain', () => resolve()));
  }

  async finish(): Promise<void> {
    // Resolves once everything handed to the stream is flushed to the OS.
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }

  async abort(): Promise<void> {
    // Nothing to take back from a stream.
  }

  abortSync(): void {
    // Nothing to take back from a stream.
  }
}

/** Opens FILE.tmp for writing (replacing a stale one), or stdout when `file` is undefined. */
export async function openCsvSink(file: string | undefined, stdout: NodeJS.WritableStream = process.stdout): Promise<CsvSink> {
  if (file === undefined || file === '-') return new StreamSink(stdout);
  const tmp = tmpPathOf(file);
  const handle = await fsp.open(tmp, 'w');
  return new FileSink(file, tmp, handle);
}
