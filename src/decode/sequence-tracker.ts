// Per-stream sequence bookkeeping for the loss ledger. Each protocol numbers differently
// (v9: export packets, IPFIX: data records, sFlow: datagrams and samples); the caller says how
// far the sequence must advance after each message, this class only remembers and compares.

import { DomainMap } from './domain-map';

const HALF_RANGE = 0x80000000;

/**
 * Streams remembered per tracker. Any datagram names its stream (v9 source id, IPFIX domain,
 * sFlow agent and sub-agent, v5 engine) in its header, so a hostile sender making up a new one
 * per datagram would otherwise grow these maps without end (found by the gateway fuzz run,
 * test/hardening/fuzz-gateway.test.ts). When full they are cleared: each stream then misses
 * one gap measurement, nothing else.
 */
export const MAX_STREAMS = 65536;

/** Units missing before `seq` when `expected` was due; a jump back or past 2^31 is a reset. */
function gapOf(expected: number | undefined, seq: number): number {
  if (expected === undefined) return 0;
  const gap = (seq - expected) >>> 0;
  return gap >= HALF_RANGE ? 0 : gap;
}

/** The same per (exporter, domain), without building a key string per datagram. */
export class DomainSequenceTracker {
  private readonly next = new DomainMap<number>();
  // Numbers from the state saved at the last shutdown, taken over by a stream's first message
  // (see SequenceTracker).
  private restored = new DomainMap<number>();
  private restoredCount = 0;
  private streams = 0;

  observe(exporterKey: string, domain: number, seq: number, advance: number): number {
    let expected = this.next.get(exporterKey, domain);
    if (expected === undefined) {
      if (this.restoredCount > 0) {
        expected = this.restored.get(exporterKey, domain);
        if (expected !== undefined) {
          this.restored.delete(exporterKey, domain);
          if (--this.restoredCount === 0) this.restored = new DomainMap();
        }
      }
      if (++this.streams > MAX_STREAMS) {
        this.next.clear();
        this.streams = 1;
      }
    }
    this.next.set(exporterKey, domain, (seq + advance) >>> 0);
    return gapOf(expected, seq);
  }

  reset(exporterKey: string, domain: number): void {
    if (this.next.get(exporterKey, domain) !== undefined) this.streams--;
    this.next.delete(exporterKey, domain);
    if (this.restoredCount > 0 && this.restored.get(exporterKey, domain) !== undefined) {
      this.restored.delete(exporterKey, domain);
      this.restoredCount--;
    }
  }

  /** (exporter, domain, next expected) of every stream seen by this process, for the saved state. */
  snapshot(): Array<[string, number, number]> {
    return [...this.next.entries()];
  }

  /** The number the first message of (exporter, domain) should carry (state restore). */
  expect(exporterKey: string, domain: number, next: number): void {
    if (this.next.get(exporterKey, domain) !== undefined) return;
    if (this.restored.get(exporterKey, domain) === undefined) this.restoredCount++;
    this.restored.set(exporterKey, domain, next >>> 0);
  }
}

export class SequenceTracker {
  private readonly next = new Map<string, number>();
  // Numbers from the state saved at the last shutdown. Kept apart from `next` and taken over
  // by a stream's first message only, so the hot path pays one size check, and a stream that
  // never comes back is not saved again at the next shutdown (the state does not accumulate
  // exporters that are gone, nor hand an old number to one that returns much later).
  private readonly restored = new Map<string, number>();

  /**
   * Records that `stream` carried sequence number `seq` and that the next one should be
   * `seq + advance` (mod 2^32). Returns how many units were skipped before `seq` (0 when in
   * order, on the first message, or when the exporter restarted / reordered: a jump
   * backwards or of more than half the range is a reset, not a loss).
   */
  observe(stream: string, seq: number, advance: number): number {
    let expected = this.next.get(stream);
    if (expected === undefined) {
      if (this.restored.size > 0) {
        expected = this.restored.get(stream);
        this.restored.delete(stream);
      }
      if (this.next.size >= MAX_STREAMS) this.next.clear();
    }
    this.next.set(stream, (seq + advance) >>> 0);
    return gapOf(expected, seq);
  }

  /** Forget one stream: its next message starts a new chain (no gap is reported for it). */
  reset(stream: string): void {
    this.next.delete(stream);
    this.restored.delete(stream);
  }

  get size(): number {
    return this.next.size;
  }

  /** (stream, next expected) of every stream seen by this process, for the saved state. */
  snapshot(): Array<[string, number]> {
    return [...this.next.entries()];
  }

  /** The number the first message of `stream` should carry (state restore). */
  expect(stream: string, next: number): void {
    if (!this.next.has(stream)) this.restored.set(stream, next >>> 0);
  }
}

/**
 * The exporter ("address|port") a SequenceTracker stream belongs to. Stream names are
 * "kind|address|port|..." (netflow5.ts, sflow.ts); addresses never contain '|'.
 */
export function streamExporter(stream: string): string | undefined {
  const parts = stream.split('|', 3);
  return parts.length === 3 ? `${parts[1]}|${parts[2]}` : undefined;
}
