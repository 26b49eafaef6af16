// The CSV output: records → rotating CSV files, one per time window (and size part), written
// under a temporary name and renamed when complete. Durability (src/converters/output.ts): a
// record is durable once the file holding it has been flushed, fsynced, closed and renamed;
// the framework commits Kafka offsets only up to `durable`, so a crash at any point loses
// nothing: records of unfinished files are read again (and may appear twice, which
// at-least-once allows).
//
// Size rule: rotate.bytes counts uncompressed bytes (header included), also with gzip: that
// is known exactly when a row is written, whereas the compressed size is only known after the
// compressor flushes. A file is closed before a row would take it past rotate.bytes, so no file
// is bigger unless a single row is.
//
// Throughput: `npm run bench -- csv` (docs/PERFORMANCE.md): ≈ 465,000-507,000 records/s plain,
// ≈ 233,000 with gzip, 16 columns, on the 2-core development VM.

import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowRecord } from '../../canonical/flow-record';
import type { CsvOutputConfig } from '../../config/types';
import type { FlowOutput, OutputCounts } from '../../converters/output';
import { csvColumns, formatHeader, formatRow, type CsvColumns } from './columns';
import { CsvFile, type CsvFileEvents } from './csv-file';
import { Durability } from './durability';
import { finalName, tmpName } from './file-names';
import { publish } from './publish';
import { OWN_TMP_FILES, removeStaleTmp } from './stale-tmp';
import { WindowPlan } from './window-plan';

export interface CsvOutputLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface CsvOutputStats {
  /** Files renamed to their final name. */
  files_completed: number;
  files_open: number;
  /** Records whose own window was closed, written to the current window's file. */
  late_redirected: number;
  /** Records dated in a future window, written to the current window's file. */
  future_redirected: number;
  /** Records that could not be formatted (skipped). */
  bad_records: number;
  /** Files that failed (open, write, fsync or rename error). */
  write_errors: number;
  /** Records lost with failed files (read again after a restart: durability stopped before them). */
  records_lost: number;
}

/** One time window that takes records: its current file and its next part number. */
interface Window {
  start: number;
  closesAtMs: number;
  file?: CsvFile;
  /** Lowest part number not yet known to be taken on disk. */
  nextPart: number;
}

// Time-driven closing runs on this tick even when no records arrive; 1 s is far below any
// window length (≥ 1 s) and late_seconds granularity.
const TICK_MS = 1000;

// Process-wide, so two outputs sharing a directory and prefix never pick the same temporary name.
let tmpSerial = 0;

export class CsvOutput implements FlowOutput {
  readonly id: string;
  private readonly cols: CsvColumns;
  private readonly header: string;
  private readonly plan: WindowPlan;
  private readonly maxBytes: number;
  private readonly windows = new Map<number, Window>();
  private readonly open = new Set<CsvFile>();
  private readonly durability = new Durability();
  private readonly blocked = new Set<CsvFile>();
  private readyWaiters: Array<() => void> = [];
  /** Completions run one after another, so parts of a window are numbered in order. */
  private completing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly fileEvents: CsvFileEvents;
  private readonly st: CsvOutputStats = {
    files_completed: 0, files_open: 0, late_redirected: 0, future_redirected: 0, bad_records: 0, write_errors: 0, records_lost: 0,
  };

  constructor(
    private readonly config: CsvOutputConfig,
    private readonly log: CsvOutputLog,
    private readonly clock: () => number = Date.now,
  ) {
    this.id = `csv:${config.name}`;
    this.cols = csvColumns(config.fields, { timeFormat: config.time_format, protocolNames: config.protocol_names });
    this.header = formatHeader(this.cols);
    this.plan = new WindowPlan(config.rotate.seconds, config.late_seconds);
    this.maxBytes = config.rotate.bytes > 0 ? config.rotate.bytes : Infinity;
    this.fileEvents = {
      onError: (file, err) => this.fileFailed(file, err),
      onDrain: (file) => this.unblock(file),
    };
  }

  async start(): Promise<void> {
    await mkdir(this.config.directory, { recursive: true });
    const removed = await removeStaleTmp(this.config.directory, this.config.file_prefix);
    if (removed.length) {
      this.log.info({ output: this.id, directory: this.config.directory, files: removed }, 'removed temporary CSV files of a dead process (their records were never committed and are read again)');
    }
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  write(records: readonly FlowRecord[]): void {
    if (this.closed) {
      // The framework stops writing before close(); taking records now would lose them silently.
      this.log.error({ output: this.id, records: records.length }, 'CSV output written to after close(); records not taken');
      return;
    }
    const nowMs = this.clock();
    this.expire(nowMs);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const seq = this.durability.next();
      let line: string;
      try {
        line = formatRow(this.cols, r);
      } catch (e) {
        this.st.bad_records++;
        this.log.warn({ output: this.id, seq, err: String(e) }, 'record could not be formatted as CSV; skipped');
        continue;
      }
      const choice = this.plan.choose(this.config.window_by === 'flow_end' && r.time_flow_end_us > 0 ? r.time_flow_end_us : r.time_received_us, nowMs);
      if (choice.redirect === 'late') this.st.late_redirected++;
      else if (choice.redirect === 'future') this.st.future_redirected++;
      const w = this.windowFor(choice.start);
      let f = w.file;
      if (f && f.records > 0 && f.bytes + line.length > this.maxBytes) {
        this.complete(w, f);
        f = undefined;
      }
      if (!f) f = this.openFile(w, seq);
      f.take(line);
      f.records++;
      if (f.failed) this.st.records_lost++;
    }
    for (const f of this.open) if (!f.flush()) this.block(f);
    this.durability.report();
  }

  counts(): OutputCounts {
    return { written: this.durability.written, durable: this.durability.durable() };
  }

  onDurable(listener: (durable: number) => void): void {
    this.durability.onDurable(listener);
  }

  ready(): Promise<void> {
    if (this.blocked.size === 0) return Promise.resolve();
    return new Promise((res) => this.readyWaiters.push(res));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    for (const w of this.windows.values()) if (w.file) this.complete(w, w.file);
    this.windows.clear();
    await this.completing;
    this.durability.report();
  }

  /** Resolves when every file queued for completion so far is renamed (or has failed). */
  settled(): Promise<void> {
    return this.completing;
  }

  stats(): CsvOutputStats {
    return { ...this.st, files_open: this.open.size };
  }

  /** Closes windows whose time is up (also called by the timer, so quiet periods close files). */
  tick(): void {
    if (this.closed) return;
    this.expire(this.clock());
    this.durability.report();
  }

  private expire(nowMs: number): void {
    for (const [start, w] of this.windows) {
      if (nowMs < w.closesAtMs) continue;
      if (w.file) this.complete(w, w.file);
      this.windows.delete(start);
    }
  }

  private windowFor(start: number): Window {
    let w = this.windows.get(start);
    if (!w) {
      w = { start, closesAtMs: this.plan.closesAtMs(start), nextPart: 0 };
      this.windows.set(start, w);
    }
    return w;
  }

  private openFile(w: Window, firstSeq: number): CsvFile {
    const gz = this.config.gzip;
    const tmp = join(this.config.directory, tmpName(this.config.file_prefix, w.start, process.pid, tmpSerial++, gz));
    const f = new CsvFile(tmp, w.start, this.header, gz, this.fileEvents);
    this.durability.opened(f, firstSeq);
    w.file = f;
    if (f.failed) {
      // Kept as the window's file so the window's further records do not retry (and log) an
      // open per record; they are counted as lost until the window closes.
      this.fileFailed(f, f.failed);
      return f;
    }
    OWN_TMP_FILES.add(tmp);
    this.open.add(f);
    return f;
  }

  /** Takes the file out of its window and queues flush + fsync + rename. */
  private complete(w: Window, f: CsvFile): void {
    if (w.file === f) w.file = undefined;
    f.flush();
    // The chain must survive anything (a throwing onDurable listener included), or no later
    // file would ever be renamed.
    this.completing = this.completing
      .then(() => this.finishAndPublish(w, f))
      .catch((e: unknown) => this.log.error({ output: this.id, err: String(e) }, 'unexpected error completing a CSV file'));
  }

  private async finishAndPublish(w: Window, f: CsvFile): Promise<void> {
    try {
      if (f.failed) return; // already reported; nothing on disk to publish
      await f.finish();
      const part = await publish(f.tmpPath, (p) => finalName(this.config.file_prefix, w.start, p, this.config.gzip), w.nextPart);
      w.nextPart = part + 1;
      this.st.files_completed++;
      this.durability.completed(f);
      this.log.info({ output: this.id, file: finalName(this.config.file_prefix, w.start, part, this.config.gzip), records: f.records, bytes: f.bytes }, 'CSV file complete');
    } catch (e) {
      // finish() has already reported its own failure; this is a rename failure. The complete
      // but unpublished temporary file goes: its records are read again after a restart.
      if (!f.failed) {
        this.fileFailed(f, e as NodeJS.ErrnoException);
        await unlink(f.tmpPath).catch(() => undefined);
      }
    } finally {
      this.open.delete(f);
      OWN_TMP_FILES.delete(f.tmpPath);
      this.unblock(f);
      this.durability.report();
    }
  }

  private fileFailed(f: CsvFile, err: NodeJS.ErrnoException): void {
    // Called once per file (CsvFile guarantees it for stream errors; open and rename errors
    // come here directly and only once).
    this.st.write_errors++;
    this.st.records_lost += f.records;
    this.durability.failed(f);
    this.open.delete(f);
    this.unblock(f);
    this.log.error(
      { output: this.id, file: f.tmpPath, code: err.code, err: err.message, records: f.records },
      'CSV file failed; its records are not committed and durability stops here until a restart re-reads them',
    );
  }

  private block(f: CsvFile): void {
    if (!f.failed) this.blocked.add(f);
  }

  private unblock(f: CsvFile): void {
    if (!this.blocked.delete(f) || this.blocked.size > 0) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const res of waiters) res();
  }
}
