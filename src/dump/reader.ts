// What `dump` needs from a Kafka reader: every message of each partition's offset range
// [start, end), in offset order per partition, exactly once, then stop. Two implementations:
// fetch-reader.ts (direct Fetch requests, no consumer group: the default) and group-reader.ts
// (kafkajs' public consumer with a throw-away group, the fallback).

import type { DumpMessage } from './dump-message';
import type { PartitionRange } from './offset-plan';

export interface ReadBatch {
  partition: number;
  /** Messages with start <= offset < end, in offset order; may be empty. */
  messages: readonly DumpMessage[];
  /** The partition's next offset to read after this batch (progress). */
  next: number;
}

/** Handles one batch; a returned promise holds the reader back (output backpressure). */
export type BatchHandler = (b: ReadBatch) => void | Promise<void>;

export interface RangeReader {
  readonly kind: 'fetch' | 'group';
  /** Resolves when every range is read to its end; rejects on a failure that retries did not cure. */
  read(topic: string, ranges: readonly PartitionRange[], onBatch: BatchHandler, signal?: AbortSignal): Promise<void>;
}

export interface ReaderSettings {
  /** Upper bound of one fetch response, and of one partition's share of it. */
  maxBytes: number;
  maxBytesPerPartition: number;
  /** How long the broker may hold a fetch that has no data (kept small: we never wait for data). */
  maxWaitMs: number;
  /** Watermarks of a partition now, to recover from OFFSET_OUT_OF_RANGE (retention deleted data). */
  watermarks(partition: number): Promise<{ low: number; high: number }>;
  /** Something the user should know (a partition stopped early, data deleted meanwhile). */
  note(text: string): void;
}

/** Thrown when the AbortSignal fired (Ctrl-C). */
export class ReadAborted extends Error {
  constructor() {
    super('aborted');
  }
}

/**
 * The messages of `msgs` (offset-ordered) with pos <= offset < end: a compressed batch may
 * start before `pos`, and the last one may run past `end`.
 */
export function inRange(msgs: DumpMessage[], pos: number, end: number): DumpMessage[] {
  let i = 0;
  while (i < msgs.length && msgs[i].offset < pos) i++;
  let j = msgs.length;
  while (j > i && msgs[j - 1].offset >= end) j--;
  return i === 0 && j === msgs.length ? msgs : msgs.slice(i, j);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Awaits `p` for at most `ms`, ignoring its outcome (for disconnects on the way out). */
export async function quietly(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
