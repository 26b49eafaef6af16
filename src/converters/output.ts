// What every converter output implements. The converter framework (converter.ts) reads
// canonical records from the bus and hands them here; it commits Kafka offsets only for
// records the output reports durable, which gives at-least-once delivery end to end.
//
// Durability is a count, not a set: `written` counts records taken by write() since start,
// `durable` says that the first `durable` of them are safe (CSV: in a file that was flushed,
// closed and renamed to its final name; NetFlow: in a datagram that was sent). An output may
// hold records in several open files at once (a late record goes to its own window's file), so
// `durable` is the sequence number of the oldest record still in an open file, or `written`
// when none is open.

import type { FlowRecord } from '../canonical/flow-record';

export interface OutputCounts {
  written: number;
  durable: number;
}

export interface FlowOutput {
  /** `type:name`, for logs and metrics. */
  readonly id: string;
  /** Prepares (creates directories, removes its own stale temporary files). */
  start(): Promise<void>;
  /** Takes records in order. Never throws for a bad record: counts it and skips it. */
  write(records: readonly FlowRecord[]): void;
  counts(): OutputCounts;
  /** Called whenever `durable` advances (after a file is renamed, a datagram sent). */
  onDurable(listener: (durable: number) => void): void;
  /**
   * Resolves when the output can take more (backpressure); outputs that never block return an
   * already-resolved promise.
   */
  ready(): Promise<void>;
  /** Makes everything written durable (closes and renames open files), then releases resources. */
  close(): Promise<void>;
}
