// Keeps the decoder's template/sampling state outside the process: restores it at start
// (file first, then the Kafka state topic, whose documents are newer when several gateways
// share it) and saves it every save_interval_seconds and at shutdown. The file is rewritten
// whole each time; the topic gets only exporters whose definitions changed, plus a full
// refresh now and then so compaction never leaves a live exporter's document too old.
//
// Sequence numbers (state-snapshot.ts) are written by the final save only, and used once: a
// start that restored some saves again at once without them, so a later crash-restart cannot
// pick up numbers that are out of date by then.

import type { Kafka } from 'kafkajs';
import type { Bus, BusLog } from '../bus/bus';
import type { TemplateState } from '../decode/template-state';
import { FileStateStore } from './file-state-store';
import { loadKafkaState, publishStates } from './kafka-state-store';
import { exporterStates, restoreStates, sequenceCount, stateSignature, type ExporterState } from './state-snapshot';

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
  /** Sequence streams whose next number came from the state saved at the last shutdown. */
  restoredSequences: number;
  published: number;
}

export class StateKeeper {
  private readonly file: FileStateStore | undefined;
  private readonly published = new Map<string, string>();
  private lastFullPublish = 0;
  readonly counts: StateKeeperCounts = { saves: 0, saveErrors: 0, restoredTemplates: 0, restoredSequences: 0, published: 0 };

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
      // A document with sequences is published again (without them) by the save below.
      for (const d of r.docs) if (!d.sequences) this.published.set(d.exporter, stateSignature(d));
    }
    const n = restoreStates(this.state, docs);
    this.counts.restoredTemplates = n;
    const sequences = docs.reduce((sum, d) => sum + sequenceCount(d), 0);
    this.counts.restoredSequences = sequences;
    if (docs.length) this.log.info({ exporters: docs.length, templates: n, sequence_streams: sequences }, 'state: restored templates and sampling state');
    if (sequences > 0) {
      this.log.info({ sequence_streams: sequences },
        'state: sequence numbers from the last shutdown restored; what exporters sent while the gateway was down counts as sequence gaps');
      this.save();
    }
    return n;
  }

  /**
   * Writes the state now. Never throws: a failing disk must not stop ingest. `final`: the
   * save at shutdown, after the listeners closed; only it writes sequence numbers (and then
   * publishes every exporter's document to the topic, changed or not).
   */
  save(nowMs = Date.now(), final = false): void {
    const docs = exporterStates(this.state, final);
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
        if (full || d.sequences || this.published.get(exporter) !== sig) {
          changed.push(d);
          this.published.set(exporter, sig);
        }
      }
      if (full) this.lastFullPublish = nowMs;
      if (changed.length) this.counts.published += publishStates(k.bus, k.topic, changed);
    }
  }
}
