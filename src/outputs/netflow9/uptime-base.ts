// The sysUptime base of one source ID: the absolute time (ms, a whole second) at which its
// virtual exporter "booted". first/last switched are record time − base; the header's
// sysUptime is export time − base, with the export time in whole seconds so a collector's
// `unix_secs × 1000 − sysUptime + first_switched` gives the record's time back to the ms.
//
// Bounds: collectors (and our decoder) take `sysUptime − first_switched` as a signed 32-bit
// difference, so a record's times must lie within ±2^31 ms (24.8 days) of the export time;
// older or later records cannot be said in NetFlow v9 and are refused (counted). The base is
// kept while it works (a steady uptime, like a real router) and moved only when a record
// predates it or the uptime passes 2^31 ms (a simulated reboot, long before the 32-bit wrap at
// 49.7 days); the caller flushes the open packet first, since one packet has one base.

export const WINDOW_MS = 2 ** 31 - 3_600_000;
// A new base lies this far before the oldest time it must cover, so records somewhat older
// than the first one (reordered Kafka partitions) do not force another move.
const HEADROOM_MS = 3_600_000;

export type TimeCheck = 'ok' | 'rebase' | 'out_of_range';

export class UptimeBase {
  baseMs: number | undefined;
  rebases = 0;

  /** Whether times s..e (ms) at export time `nowMs` fit the current base. */
  check(s: number, e: number, nowMs: number): TimeCheck {
    if (Math.abs(nowMs - s) >= WINDOW_MS || Math.abs(nowMs - e) >= WINDOW_MS) return 'out_of_range';
    const b = this.baseMs;
    if (b === undefined || s < b || e < b || nowMs - b >= 2 ** 31) return 'rebase';
    return 'ok';
  }

  rebase(s: number, e: number, nowMs: number): void {
    if (this.baseMs !== undefined) this.rebases++;
    const lowest = Math.min(s, e, nowMs) - HEADROOM_MS;
    this.baseMs = Math.max(0, Math.floor(lowest / 1000) * 1000);
  }

  /** Header time fields for a packet finished at `nowMs`. */
  header(nowMs: number): { uptimeMs: number; unixSecs: number } {
    const base = this.baseMs ?? 0;
    let unixSecs = Math.floor(nowMs / 1000);
    // Only after the clock stepped back past the base: keep uptime ≥ 0 and times exact.
    if (unixSecs * 1000 < base) unixSecs = base / 1000;
    return { uptimeMs: unixSecs * 1000 - base, unixSecs };
  }
}
