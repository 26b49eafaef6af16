// Data sets that arrived before their template. Exporters send templates only every so
// often, so right after our start (or theirs) most data would be lost; instead we hold it,
// bounded per exporter in bytes and in time, and decode it when the template arrives.
// What ages out or overflows is reported as lost with a reason.

import type { TimeContext } from './template-compiler';

export interface PendingSet {
  templateId: number;
  exporterKey: string;
  /** Own copy of the set body (without set header): no reference to the whole datagram. */
  body: Buffer;
  ctx: TimeContext;
  receivedUs: number;
  sequence: number;
  domain: number;
}

export interface PendingLimits {
  maxBytesPerExporter: number;
  maxBytesTotal: number;
  maxAgeUs: number;
}

export const DEFAULT_PENDING_LIMITS: PendingLimits = {
  maxBytesPerExporter: 1 << 20,
  maxBytesTotal: 64 << 20,
  maxAgeUs: 60e6,
};

/** For log lines: which template a held set waits for. */
export function describeHeld(s: PendingSet): string {
  return `template ${s.templateId} of ${s.exporterKey} domain ${s.domain}`;
}

export class PendingQueue {
  // Insertion order = arrival order, so the oldest is always first.
  private readonly sets: PendingSet[] = [];
  private readonly bytesByExporter = new Map<string, number>();
  private totalBytes = 0;

  constructor(readonly limits: PendingLimits) {}

  get bytes(): number {
    return this.totalBytes;
  }

  get count(): number {
    return this.sets.length;
  }

  /** Holds a set; returns the sets dropped to make room (oldest of the same exporter first). */
  hold(s: PendingSet): PendingSet[] {
    const dropped: PendingSet[] = [];
    const size = s.body.length;
    if (size > this.limits.maxBytesPerExporter || size > this.limits.maxBytesTotal) return [s];
    while ((this.bytesByExporter.get(s.exporterKey) ?? 0) + size > this.limits.maxBytesPerExporter) {
      const i = this.sets.findIndex((x) => x.exporterKey === s.exporterKey);
      if (i < 0) break;
      dropped.push(this.removeAt(i));
    }
    while (this.totalBytes + size > this.limits.maxBytesTotal && this.sets.length) dropped.push(this.removeAt(0));
    this.sets.push(s);
    this.account(s.exporterKey, size);
    return dropped;
  }

  /** Removes and returns every held set for the template, oldest first. */
  take(exporterKey: string, domain: number, templateId: number): PendingSet[] {
    const out: PendingSet[] = [];
    for (let i = 0; i < this.sets.length; ) {
      const s = this.sets[i];
      if (s.templateId === templateId && s.domain === domain && s.exporterKey === exporterKey) out.push(this.removeAt(i));
      else i++;
    }
    return out;
  }

  /** Removes and returns sets older than the age limit. */
  expire(nowUs: number): PendingSet[] {
    const out: PendingSet[] = [];
    while (this.sets.length && nowUs - this.sets[0].receivedUs > this.limits.maxAgeUs) out.push(this.removeAt(0));
    return out;
  }

  private removeAt(i: number): PendingSet {
    const [s] = this.sets.splice(i, 1);
    this.account(s.exporterKey, -s.body.length);
    return s;
  }

  private account(exporterKey: string, delta: number): void {
    const v = (this.bytesByExporter.get(exporterKey) ?? 0) + delta;
    if (v <= 0) this.bytesByExporter.delete(exporterKey);
    else this.bytesByExporter.set(exporterKey, v);
    this.totalBytes += delta;
  }
}
