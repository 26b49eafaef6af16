// Keeps the decoder's template/sampling state outside the process: restores it at start
// (file first, then the Kafka state topic, whose documents are newer when several gateways
// share it) and saves it every save_interval_seconds and at shutdown. The file is rewritten
// whole each time; the topic gets only exporters whose definitions changed, plus a full
// refresh now and then so compaction never leaves a live exporter's document too old.

import type { Kafka } from 'kafkajs';
import type { Bus, BusLog } from '../bus/bus';
import type { TemplateState } from '../decode/template-state';
import { FileStateStore } from './file-state-store';
import { loadKafkaState, publishStates } from './kafka-state-store';
import { exporterStates, restoreStates, stateSignature, type ExporterState } from './state-snapshot';

export interface StateKeeperOptions {
  directory?: string;
  kafka?: { client: Kafka; bus: Bus; topic: string; groupPrefix: string; loadTimeoutMs: number };
  /** Full republish to the topic at least this often. */
  refreshMs?: number;
}

export interface StateKeeperCounts {
  saves: number;
  saveErrors: number;
  restoredTemplates: number;
  published: number;
}

export class StateKeeper {
  private readonly file: FileStateStore | undefined;
  private readonly published = new Map<string, string>();
  private lastFullPublish = 0;
  readonly counts: StateKeeperCounts = { saves: 0, saveErrors: 0, restoredTemplates: 0, published: 0 };

  constructor(private readonly state: TemplateState, private readonly opts: StateKeeperOptions, private readonly log: BusLog) {
    this.file = opts.directory ? new FileStateStore(opts.directory) : undefined;
  }

  async restore(): Promise<number> {
    const docs: ExporterState[] = [];
    if (this.file) {
      const r = this.file.load();
      for (const why of r.rejected) this.log.warn({ file: this.file.file, problem: why }, 'state file: entry ignored');
      docs.push(...r.docs);
    }
    const k = this.opts.kafka;
    if (k && k.topic) {
      const r = await loadKafkaState(k.client, k.topic, k.groupPrefix, k.loadTimeoutMs, this.log);
      for (const why of r.rejected) this.log.warn({ topic: k.topic, problem: why }, 'state topic: entry ignored');
      docs.push(...r.docs);
      for (const d of r.docs) this.published.set(d.exporter, stateSignature(d));
    }
    const n = restoreStates(this.state, docs);
    this.counts.restoredTemplates = n;
    if (docs.length) this.log.info({ exporters: docs.length, templates: n }, 'state: restored templates and sampling state');
    return n;
  }

  /** Writes the state now. Never throws: a failing disk must not stop ingest. */
  save(nowMs = Date.now()): void {
    const docs = exporterStates(this.state);
    if (this.file) {
      try {
        this.file.save(docs.values());
        this.counts.saves++;
      } catch (e) {
        this.counts.saveErrors++;
        this.log.error({ file: this.file.file, error: (e as Error).message }, 'state: cannot save the state file');
      }
    }
    const k = this.opts.kafka;
    if (k && k.topic) {
      const full = nowMs - this.lastFullPublish >= (this.opts.refreshMs ?? 5 * 60_000);
      const changed: ExporterState[] = [];
      for (const [exporter, d] of docs) {
        const sig = stateSignature(d);
        if (full || this.published.get(exporter) !== sig) {
          changed.push(d);
          this.published.set(exporter, sig);
        }
      }
      if (full) this.lastFullPublish = nowMs;
      if (changed.length) this.counts.published += publishStates(k.bus, k.topic, changed);
    }
  }
}
