// One CSV file being written under its temporary name: header first, then rows in batches,
// optionally through gzip. finish() flushes everything to the disk (stream end, fsync, close)
// so that a rename afterwards publishes a complete file. Errors (ENOSPC, EFBIG, EIO, …) never
// throw out of here: the file is marked failed, its temporary file removed, and the owner told
// once through onError.

import { closeSync, createWriteStream, fsync, openSync, unlink, close as closeFd, type WriteStream } from 'node:fs';
import { pipeline, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';

export interface CsvFileEvents {
  /** Called at most once, when the file cannot be completed. */
  onError(file: CsvFile, err: NodeJS.ErrnoException): void;
  /** Called when a write that returned false has drained. */
  onDrain(file: CsvFile): void;
}

const fsyncP = (fd: number): Promise<void> => new Promise((res, rej) => fsync(fd, (e) => (e ? rej(e) : res())));
const closeP = (fd: number): Promise<void> => new Promise((res, rej) => closeFd(fd, (e) => (e ? rej(e) : res())));

export class CsvFile {
  /** Uncompressed bytes taken, header included (all cell text is ASCII: length = bytes). */
  bytes = 0;
  records = 0;
  failed?: NodeJS.ErrnoException;
  /** Rows taken but not yet handed to the stream; flushed once per write() batch. */
  private pending = '';
  private fd = -1;
  private head?: Writable;
  private streamDone?: Promise<void>;

  constructor(
    readonly tmpPath: string,
    /** Window start (µs) the file belongs to. */
    readonly windowStart: number,
    header: string,
    gzip: boolean,
    private readonly events: CsvFileEvents,
  ) {
    try {
      // 'wx': never truncate someone else's file, whatever the name says.
      this.fd = openSync(tmpPath, 'wx', 0o644);
    } catch (e) {
      // Reported by the owner after construction (it decides what a failed open means).
      this.failed = e as NodeJS.ErrnoException;
      return;
    }
    const ws: WriteStream = createWriteStream(tmpPath, { fd: this.fd, autoClose: false });
    if (gzip) {
      const gz = createGzip();
      this.head = gz;
      this.streamDone = new Promise((res, rej) => pipeline(gz, ws, (e) => (e ? rej(e) : res())));
    } else {
      this.head = ws;
      this.streamDone = new Promise((res, rej) => {
        ws.once('error', rej);
        ws.once('finish', () => res());
      });
    }
    // The first stream error fails the file at once (not only at finish), so durability stops
    // moving and backpressure waits end.
    this.streamDone.catch((e: NodeJS.ErrnoException) => this.fail(e));
    this.head.on('drain', () => this.events.onDrain(this));
    this.take(header);
  }

  /** Queues text (counted now, handed to the stream at flush()). */
  take(text: string): void {
    this.bytes += text.length;
    if (!this.failed) this.pending += text; // a failed file's rows go nowhere
  }

  /** Hands queued text to the stream; false when the stream asks the writer to wait (drain). */
  flush(): boolean {
    if (!this.pending) return true;
    const text = this.pending;
    this.pending = '';
    if (this.failed || !this.head) return true;
    return this.head.write(text);
  }

  /** Writes everything out and makes it durable on disk; rejects when the file failed. */
  async finish(): Promise<void> {
    this.flush();
    if (!this.failed && this.head && this.streamDone) {
      this.head.end();
      try {
        await this.streamDone;
        await fsyncP(this.fd);
        const fd = this.fd;
        this.fd = -1;
        await closeP(fd);
      } catch (e) {
        this.fail(e as NodeJS.ErrnoException);
      }
    }
    if (this.failed) throw this.failed;
  }

  private fail(e: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = e;
    this.head?.destroy();
    if (this.fd >= 0) {
      try { closeSync(this.fd); } catch { /* already unusable; nothing more to do */ }
      this.fd = -1;
    }
    // The records in it are not committed and will be read again: the partial file has no use,
    // and on a full disk removing it gives the space back.
    unlink(this.tmpPath, () => undefined);
    this.events.onError(this, e);
  }
}
