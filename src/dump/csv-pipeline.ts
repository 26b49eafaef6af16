// The per-message work of `dump`: window test on the message timestamp, decode, --filter, CSV
// text, hand-over to the output in ~1 MiB chunks. Fed batch by batch by a reader
// (reader.ts); counts what it saw for the progress bar and the summary.
//
// Garbage collection took 46 % of a dump's CPU time when a whole fetch (~11,000 records from
// the mock, up to ~100,000 from Kafka) was decoded and then formatted at once: the records,
// and then formatRows' text (a rope of ~40 string pieces per row), lived through several
// young-generation collections, each of which copies what is alive. So records are formatted
// in groups of FORMAT_GROUP as they are decoded, and each group's text is flattened into a
// Buffer (outside the JS heap) at once.

import type { FlowRecord } from '../canonical/flow-record';
import { formatRows, type CsvColumns } from '../outputs/csv/columns';
import type { CsvSink } from './csv-sink';
import type { Predicate } from './filter';
import type { MessageDecoder } from './message-decoder';
import type { ProgressCounts } from './progress';
import type { ReadBatch } from './reader';
import type { TimeWindow } from './time-window';

/** Records formatted at a time. */
const FORMAT_GROUP = 256;
/**
 * Bytes of CSV text handed to the output at a time: Kafka batches can be small (a producer's
 * batch.size is 16 KiB by default), and a write per batch would be a system call per few
 * hundred rows.
 */
const WRITE_CHUNK = 1 << 20;

export class CsvPipeline {
  readonly counts: ProgressCounts = { offsetsDone: 0, records: 0 };
  readonly tally = { messages: 0, outside: 0, filteredOut: 0, written: 0 };
  private readonly rows: FlowRecord[] = [];
  private readonly parts: Buffer[] = [];
  private pending = 0;
  private readonly position: Map<number, number>;

  constructor(
    private readonly cols: CsvColumns,
    /** undefined: no --filter (the common case skips the filtering pass). */
    private readonly filter: Predicate | undefined,
    private readonly window: TimeWindow,
    private readonly decoder: MessageDecoder,
    private readonly sink: CsvSink,
    /** Each partition's first offset to read (progress is counted from there). */
    starts: ReadonlyMap<number, number>,
  ) {
    this.position = new Map(starts);
  }

  /** A reader's batch handler; returns a promise when the output wants it to wait. */
  readonly onBatch = (b: ReadBatch): Promise<void> | undefined => {
    this.counts.offsetsDone += b.next - (this.position.get(b.partition) ?? b.next);
    this.position.set(b.partition, b.next);
    const { fromMs, toMs } = this.window;
    const rows = this.rows;
    const filter = this.filter;
    const msgs = b.messages;
    this.tally.messages += msgs.length;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      const ts = m.timestamp;
      if (!(ts >= fromMs && ts < toMs)) {
        this.tally.outside++;
        continue;
      }
      const before = rows.length;
      if (!this.decoder.decode(m, rows)) continue;
      this.counts.records += rows.length - before;
      if (filter) {
        let k = before;
        for (let j = before; j < rows.length; j++) if (filter(rows[j])) rows[k++] = rows[j];
        this.tally.filteredOut += rows.length - k;
        rows.length = k;
      }
      if (rows.length >= FORMAT_GROUP) this.format();
    }
    this.format();
    return this.pending >= WRITE_CHUNK ? this.flush() : undefined;
  };

  /** Hands everything formatted so far to the output (at the end, and per WRITE_CHUNK). */
  flush(): Promise<void> | undefined {
    if (this.parts.length === 0) return undefined;
    const chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.pending);
    this.parts.length = 0;
    this.pending = 0;
    return this.sink.write(chunk);
  }

  private format(): void {
    const rows = this.rows;
    if (rows.length === 0) return;
    this.tally.written += rows.length;
    const b = Buffer.from(formatRows(this.cols, rows));
    this.parts.push(b);
    this.pending += b.length;
    rows.length = 0;
  }
}
