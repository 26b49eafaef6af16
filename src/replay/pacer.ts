// When each datagram may leave. Schedules are absolute (from the start of the replay), so timer
// lateness never accumulates: a late wake-up is followed by a burst of what has become due.

import type { ReplayDatagram } from './capture';

export type Timing =
  | { kind: 'asap' }
  /** A fixed number of datagrams per second, all exporters together. */
  | { kind: 'rate'; perSec: number }
  /** The capture's own inter-arrival times, `speed` times faster. */
  | { kind: 'original'; speed: number };

/** Ahead of schedule by less than this, a datagram goes at once: timers cannot wait shorter. */
export const EARLY_MS = 1;

export class Pacer {
  /** original: ms after the start of its loop at which datagram i is due. */
  private readonly offsetMs: Float64Array;
  private readonly loopMs: number;
  private readonly msPerDatagram: number;

  constructor(readonly timing: Timing, datagrams: readonly ReplayDatagram[]) {
    const n = datagrams.length;
    this.offsetMs = new Float64Array(timing.kind === 'original' ? n : 0);
    this.msPerDatagram = timing.kind === 'rate' ? 1000 / timing.perSec : 0;
    this.loopMs = 0;
    if (timing.kind === 'original' && n > 0) {
      const t0 = datagrams[0].timestampUs;
      // Reassembly and clockless pcapng blocks can make capture times step back; never wait
      // for the past.
      let latest = t0;
      for (let i = 0; i < n; i++) {
        latest = Math.max(latest, datagrams[i].timestampUs);
        this.offsetMs[i] = (latest - t0) / 1000 / timing.speed;
      }
      const span = this.offsetMs[n - 1];
      // Loops follow each other with the capture's mean gap between them, as if recorded in a row.
      this.loopMs = n > 1 ? span + span / (n - 1) : 0;
    }
  }

  get paced(): boolean {
    return this.timing.kind !== 'asap';
  }

  /** Milliseconds after the start at which datagram i of loop `loop` (of n per loop) is due. */
  dueMs(loop: number, i: number, n: number): number {
    if (this.timing.kind === 'rate') return (loop * n + i) * this.msPerDatagram;
    if (this.timing.kind === 'original') return loop * this.loopMs + this.offsetMs[i];
    return 0;
  }
}
