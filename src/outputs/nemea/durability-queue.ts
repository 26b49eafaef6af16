// In-order durability over containers that settle out of order (one client may take a container
// before another): `durable` advances to a container's end only when it and all before it settled.

export class DurabilityQueue {
  private readonly inflight: Array<{ end: number; settled: boolean }> = [];
  private durableSeq = 0;

  /** Registers a container ending at record `end`; returns its settle function. */
  add(end: number): () => void {
    const e = { end, settled: false };
    this.inflight.push(e);
    return () => {
      e.settled = true;
      while (this.inflight.length && this.inflight[0].settled) this.durableSeq = this.inflight.shift()?.end ?? this.durableSeq;
    };
  }

  /** `written` when nothing is pending or held, else the end of the last settled prefix. */
  durable(written: number, held: boolean): number {
    if (!held && this.inflight.length === 0) return written;
    return this.durableSeq;
  }
}
