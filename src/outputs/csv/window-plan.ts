// Which time window's file a record goes to. Windows are rotate.seconds long, aligned to the
// Unix epoch (so every process and restart agrees on the boundaries and names). A window
// takes records from its start until late_seconds after its end, by the clock; a record whose
// own window no longer takes records goes to the current window (the one the clock is in)
// rather than being dropped. A record dated in a future window also goes to the current one:
// opening a future window's file would keep it, and so every record after it, from becoming
// durable until the clock gets there, which with a badly set exporter clock could be never.

export type Redirect = 'late' | 'future';

export interface WindowChoice {
  /** Window start, µs since the epoch. */
  start: number;
  /** Set when the record is not in its own window. */
  redirect?: Redirect;
}

export class WindowPlan {
  private readonly lengthUs: number;
  private readonly lateMs: number;

  constructor(seconds: number, lateSeconds: number) {
    this.lengthUs = seconds * 1_000_000;
    this.lateMs = lateSeconds * 1000;
  }

  startOf(us: number): number {
    const t = Math.trunc(us);
    return t - (t % this.lengthUs);
  }

  /** When (clock ms) the window starting at `startUs` stops taking records. */
  closesAtMs(startUs: number): number {
    return (startUs + this.lengthUs) / 1000 + this.lateMs;
  }

  /** The window for a record time `us` (0 = unknown: the current window) at clock `nowMs`. */
  choose(us: number, nowMs: number): WindowChoice {
    const current = this.startOf(Math.floor(nowMs * 1000));
    if (!(us > 0)) return { start: current };
    const own = this.startOf(us);
    if (own === current) return { start: current };
    if (own > current) return { start: current, redirect: 'future' };
    if (nowMs < this.closesAtMs(own)) return { start: own };
    return { start: current, redirect: 'late' };
  }
}
