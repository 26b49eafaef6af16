// Per-stream sequence bookkeeping for the loss ledger. Each protocol numbers differently
// (v9: export packets, IPFIX: data records, sFlow: datagrams and samples); the caller says how
// far the sequence must advance after each message, this class only remembers and compares.

const HALF_RANGE = 0x80000000;

export class SequenceTracker {
  private readonly next = new Map<string, number>();

  /**
   * Records that `stream` carried sequence number `seq` and that the next one should be
   * `seq + advance` (mod 2^32). Returns how many units were skipped before `seq` (0 when in
   * order, on the first message, or when the exporter restarted / reordered: a jump
   * backwards or of more than half the range is a reset, not a loss).
   */
  observe(stream: string, seq: number, advance: number): number {
    const expected = this.next.get(stream);
    this.next.set(stream, (seq + advance) >>> 0);
    if (expected === undefined) return 0;
    const gap = (seq - expected) >>> 0;
    return gap >= HALF_RANGE ? 0 : gap;
  }

  /** Forget one stream: its next message starts a new chain (no gap is reported for it). */
  reset(stream: string): void {
    this.next.delete(stream);
  }

  /** Forget streams (e.g. when an exporter's state expires). */
  forget(prefix: string): void {
    for (const k of this.next.keys()) if (k.startsWith(prefix)) this.next.delete(k);
  }

  get size(): number {
    return this.next.size;
  }
}
