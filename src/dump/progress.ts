// The progress bar `dump` draws on stderr while it reads, and its one-line summary.
//
// The bar is drawn only on a terminal (a redirected or piped stderr gets no control
// characters), at most 4 times a second by a timer, so the read loop only bumps counters.
// The ETA comes from offsets: Kafka says exactly how many offsets lie between each
// partition's start and end, whereas the number of records (delimited messages hold many)
// is unknown until read.

export interface ProgressCounts {
  /** Offsets consumed so far, over all partitions. */
  offsetsDone: number;
  /** Records decoded so far. */
  records: number;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** One frame of the bar, fitted to `columns`. */
export function renderBar(counts: ProgressCounts, totalOffsets: number, elapsedSec: number, columns: number): string {
  const frac = totalOffsets > 0 ? Math.min(1, counts.offsetsDone / totalOffsets) : 1;
  const rate = elapsedSec > 0 ? counts.records / elapsedSec : 0;
  const eta = frac > 0 ? (elapsedSec * (1 - frac)) / frac : NaN;
  const text = ` ${(frac * 100).toFixed(0).padStart(3)}%  ${fmtInt(counts.records)} records  ${fmtInt(rate)} records/s  ETA ${formatDuration(eta)}`;
  const width = Math.max(10, Math.min(40, columns - text.length - 3));
  const filled = Math.round(frac * width);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${text}`;
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

export class ProgressBar {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly totalOffsets: number,
    private readonly counts: ProgressCounts,
  ) {}

  /** Starts drawing if `out` is a terminal; otherwise does nothing. */
  start(): void {
    if (!this.out.isTTY) return;
    this.draw(); // at once: a dump that takes a while to find its first data still shows life
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  private draw(): void {
    const columns = this.out.columns || 80;
    this.out.write(`\r${renderBar(this.counts, this.totalOffsets, (Date.now() - this.started) / 1000, columns)}\x1b[K`);
    this.drawn = true;
  }

  /** Removes the bar (the summary line takes its place). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.drawn) this.out.write('\r\x1b[K');
    this.drawn = false;
  }
}
