// Rate-limited logging of bad input. Whoever can send UDP to the gateway decides how much bad
// input arrives; logging each one would let a fuzzer fill the disk and burn the CPU the data
// path needs. So: at most `perMinute` lines per reason per window, the rest counted, and when
// the window is over one summary line per reason that had suppressed lines:
//
//   {"level":"warn",...,"reason":"truncated","detail":"...","exporter":"192.0.2.1","msg":"bad input"}
//   {"level":"warn",...,"reason":"truncated","suppressed":4711,"msg":"suppressed bad-input log lines"}
//
//   const bad = new RateLimitedLog(log, { perMinute: config.log.bad_input_per_minute });
//   for (const e of out.errors) bad.badInput(e.reason, e.detail, { exporter: exporter.addressText });
//   bad.badInput('bad_set', () => `set length ${len} at ${off}`, () => ({ exporter: ex.addressText }));
//   ...at shutdown: bad.close();
//
// A suppressed call costs a clock read, a Map lookup and two increments: `detail` and `fields`
// may be thunks so no string or object is built for a line that will not be written.
// Windows are fixed per reason (they start at the first line after the previous one ended), so
// a burst straddling two windows can show up to 2 × perMinute lines in 60 s; that bound is
// what matters for volume. A timer (unref'd, every tickMs) writes the summary of a window that
// ended while its reason went quiet; tick() does the same on demand (tests, fake clocks).

import type { Logger } from './logger';

export type Fields = Record<string, unknown>;
export type BadInputLevel = 'debug' | 'info' | 'warn' | 'error';

export interface RateLimitedLogOptions {
  /** Lines per reason per window; default 10. 0 logs none (only summaries). */
  perMinute?: number;
  /** Window length; default 60,000 ms (the "minute"). */
  windowMs?: number;
  /** Milliseconds clock; default Date.now. */
  now?: () => number;
  /** Default 'warn'. */
  level?: BadInputLevel;
  /** How often ended windows are summarised without new input; default 5,000 ms; 0 = never
   * (summaries then come from the next line of that reason, tick() or close()). */
  tickMs?: number;
  /** Distinct reasons tracked; later ones share one budget. Default 256. Reasons are meant to be
   * a fixed set (ErrorReason), so this only guards against a caller passing free text. */
  maxReasons?: number;
}

interface Window {
  readonly reason: string;
  start: number;
  logged: number;
  suppressed: number;
}

export const SUPPRESSED_MSG = 'suppressed bad-input log lines';
export const BAD_INPUT_MSG = 'bad input';
const OVERFLOW_KEY = '\u0000other';

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly level: BadInputLevel;
  private readonly maxReasons: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private suppressedSum = 0;

  constructor(private readonly log: Logger, options: RateLimitedLogOptions = {}) {
    this.perWindow = Math.max(0, Math.floor(options.perMinute ?? 10));
    this.windowMs = Math.max(1, options.windowMs ?? 60_000);
    this.now = options.now ?? Date.now;
    this.level = options.level ?? 'warn';
    this.maxReasons = Math.max(1, options.maxReasons ?? 256);
    const tickMs = options.tickMs ?? 5_000;
    if (tickMs > 0) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
  }

  /** Logs one bad-input line unless this reason's budget is spent; returns whether it logged. */
  badInput(reason: string, detail: string | (() => string), fields?: Fields | (() => Fields)): boolean {
    const now = this.now();
    const w = this.windows.get(reason) ?? this.open(reason, now);
    if (now - w.start >= this.windowMs) this.roll(w, now);
    if (w.logged >= this.perWindow) {
      w.suppressed++;
      this.suppressedSum++;
      return false;
    }
    w.logged++;
    const f = typeof fields === 'function' ? fields() : fields;
    const d = typeof detail === 'function' ? detail() : detail;
    this.log[this.level]({ ...f, reason, detail: d }, BAD_INPUT_MSG);
    return true;
  }

  /** Summarises and forgets every window that has ended. */
  tick(): void {
    const now = this.now();
    for (const [key, w] of this.windows) {
      if (now - w.start < this.windowMs) continue;
      this.summarise(w);
      this.windows.delete(key);
    }
  }

  /** Stops the timer and writes the summaries of all windows, ended or not (shutdown). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const w of this.windows.values()) this.summarise(w);
    this.windows.clear();
  }

  /** Lines suppressed since creation, all reasons. */
  get suppressedTotal(): number {
    return this.suppressedSum;
  }

  private open(reason: string, now: number): Window {
    const key = this.windows.size < this.maxReasons ? reason : OVERFLOW_KEY;
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { reason: key === OVERFLOW_KEY ? 'other' : reason, start: now, logged: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    return w;
  }

  private roll(w: Window, now: number): void {
    this.summarise(w);
    w.start = now;
    w.logged = 0;
  }

  private summarise(w: Window): void {
    if (w.suppressed === 0) return;
    this.log[this.level]({ reason: w.reason, suppressed: w.suppressed }, SUPPRESSED_MSG);
    w.suppressed = 0;
  }
}
