// How absolute record times become NetFlow v9 times. A packet has an export time H (its
// header's unix_secs, a whole second) and its source ID a sysUptime base B (the absolute time,
// a whole second, at which the virtual exporter "booted"): sysUptime = H − B and
// first/last switched = record time − B, so a collector's `unix_secs × 1000 − sysUptime +
// first_switched` gives the record's time back to the millisecond.
//
// Bounds: collectors (and our decoder) take `sysUptime − first_switched` as a signed 32-bit
// difference, so every time in a packet must lie within ±2^31 ms (24.8 days, less an hour of
// margin: WINDOW_MS) of H. H is the current time when the record allows it; a record older
// than the window (a backlog read from Kafka, a replayed capture) goes into a packet whose H is
// its end time rounded up to the second — when the original exporter would have sent it.
// Only a flow lasting longer than the window, or ending after 2106 (unix_secs is 32 bits),
// cannot be said in NetFlow v9; it is refused.
//
// B is kept while it works (a steady uptime, like a real router) and moved only when a record
// predates it or the uptime would pass 2^31 ms (a simulated reboot, long before the 32-bit wrap
// at 49.7 days, so no collector ever sees a wrapped counter). A packet has one H and one B, so
// the caller finishes the open packet before a record that needs other ones.

export const WINDOW_MS = 2 ** 31 - 3_600_000;
const UPTIME_LIMIT_MS = 2 ** 31;
// A new base lies this far before the oldest time it must cover, so records somewhat older
// than the first one (reordered partitions) do not force another move.
const HEADROOM_MS = 3_600_000;

export class UptimeBase {
  baseMs: number | undefined;
  rebases = 0;

  /** Export time for a packet that starts with a record of times s..e (ms), or undefined if no packet can carry it. */
  packetTime(s: number, e: number, nowMs: number): number | undefined {
    const lo = Math.min(s, e);
    const hi = Math.max(s, e);
    if (hi - lo >= WINDOW_MS - 1000) return undefined;
    const h = Math.floor(nowMs / 1000) * 1000;
    if (h - lo < WINDOW_MS && hi - h < WINDOW_MS) return h;
    const late = Math.ceil(hi / 1000) * 1000;
    // unix_secs is 32 bits: NetFlow v9 ends in February 2106.
    return late / 1000 > 0xffffffff ? undefined : late;
  }

  /** Whether a record of times s..e fits a packet with export time h under the current base. */
  fits(s: number, e: number, h: number): boolean {
    const b = this.baseMs;
    if (b === undefined) return false;
    const lo = Math.min(s, e);
    const hi = Math.max(s, e);
    return lo >= b && h - lo < WINDOW_MS && hi - h < WINDOW_MS && h - b < UPTIME_LIMIT_MS && h >= b;
  }

  /** Moves the base so that a packet with export time h can carry times s..e. */
  rebase(s: number, e: number, h: number): void {
    if (this.baseMs !== undefined) this.rebases++;
    const lowest = Math.min(s, e, h) - HEADROOM_MS;
    const floorMs = h - UPTIME_LIMIT_MS + 1000;
    this.baseMs = Math.max(0, Math.floor(lowest / 1000) * 1000, Math.ceil(floorMs / 1000) * 1000);
  }

  /** Header fields of a packet with export time h (a whole second, ≥ base). */
  header(h: number): { uptimeMs: number; unixSecs: number } {
    return { uptimeMs: h - (this.baseMs ?? 0), unixSecs: h / 1000 };
  }
}
