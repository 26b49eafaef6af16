// What a gateway must remember across restarts to decode v9/IPFIX data at once: learned
// templates (definitions, not compiled code) and options-derived state (sampling rates by
// sampler, IPFIX system init times), per exporter. One JSON document per exporter, so the
// Kafka state topic can compact by exporter and a file holds the list.
//
// At an orderly shutdown the documents also carry the exporters' sequence numbers (the number
// each stream's next message should have), so the first datagram after the restart counts
// what the exporter sent while no gateway was listening as a sequence gap, instead of
// silently starting a new chain. Only the final save writes them: a periodic save's numbers
// would be stale by the time a crashed gateway restarts, and would turn records that WERE
// delivered into a false gap. The next start uses them once (state-keeper.ts).

import type { TemplateState } from '../decode/template-state';
import type { TemplateSnapshot } from '../decode/template-cache';
import type { ExporterOptions } from '../decode/exporter-options';
import { streamExporter } from '../decode/sequence-tracker';

export const STATE_FORMAT = 'flowgate-state/1';

type OptionsSnapshot = ReturnType<ExporterOptions['snapshot']>;

export interface ExporterState {
  format: typeof STATE_FORMAT;
  /** "address|port", the key templates are scoped by. */
  exporter: string;
  templates: TemplateSnapshot[];
  sampling: OptionsSnapshot['sampling'];
  init_ms: OptionsSnapshot['initMs'];
  /** Only in a document written at an orderly shutdown: where each sequence stream stood. */
  sequences?: SequenceSnapshot;
}

/** Next expected sequence number per stream of one exporter. */
export interface SequenceSnapshot {
  /** NetFlow v5 and sFlow streams: [stream name (sequence-tracker.ts), next]. */
  streams: Array<[string, number]>;
  /** NetFlow v9 export packets: [source id, next]. */
  netflow9: Array<[number, number]>;
  /** IPFIX data records: [observation domain, next]. */
  ipfix: Array<[number, number]>;
}

/** Splits the decoder's state into one document per exporter; `withSequences` at shutdown only. */
export function exporterStates(state: TemplateState, withSequences = false): Map<string, ExporterState> {
  const out = new Map<string, ExporterState>();
  const get = (exporter: string): ExporterState => {
    let s = out.get(exporter);
    if (!s) {
      s = { format: STATE_FORMAT, exporter, templates: [], sampling: [], init_ms: [] };
      out.set(exporter, s);
    }
    return s;
  };
  for (const t of state.templates.snapshot()) get(t.exporterKey).templates.push(t);
  const o = state.options.snapshot();
  for (const s of o.sampling) get(s[0]).sampling.push(s);
  for (const i of o.initMs) get(i[0]).init_ms.push(i);
  if (withSequences) {
    const seqOf = (exporter: string): SequenceSnapshot => (get(exporter).sequences ??= { streams: [], netflow9: [], ipfix: [] });
    for (const [stream, next] of state.seq.snapshot()) {
      const exporter = streamExporter(stream);
      if (exporter !== undefined) seqOf(exporter).streams.push([stream, next]);
    }
    for (const [exporter, domain, next] of state.seqV9.snapshot()) seqOf(exporter).netflow9.push([domain, next]);
    for (const [exporter, domain, next] of state.seqIpfix.snapshot()) seqOf(exporter).ipfix.push([domain, next]);
  }
  return out;
}

/** Sequence entries restored by restoreStates (for the log). */
export function sequenceCount(d: ExporterState): number {
  const q = d.sequences;
  return q ? q.streams.length + q.netflow9.length + q.ipfix.length : 0;
}

/** Applies exporter documents to a decoder's state; returns the number of templates restored. */
export function restoreStates(state: TemplateState, docs: Iterable<ExporterState>): number {
  let n = 0;
  for (const d of docs) {
    n += state.templates.restore(d.templates);
    state.options.restore({ sampling: d.sampling, initMs: d.init_ms });
    const q = d.sequences;
    if (q) {
      // Only streams of this document's exporter: a document must not move another's numbers.
      for (const [stream, next] of q.streams) if (streamExporter(stream) === d.exporter) state.seq.expect(stream, next);
      for (const [domain, next] of q.netflow9) state.seqV9.expect(d.exporter, domain, next);
      for (const [domain, next] of q.ipfix) state.seqIpfix.expect(d.exporter, domain, next);
    }
  }
  return n;
}

/** Checks a document read from disk or Kafka before trusting it. */
export function parseExporterState(v: unknown): ExporterState | string {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const d = v as Partial<ExporterState>;
  if (d.format !== STATE_FORMAT) return `format ${JSON.stringify(d.format)} is not ${STATE_FORMAT}`;
  if (typeof d.exporter !== 'string') return 'exporter missing';
  if (!Array.isArray(d.templates) || !Array.isArray(d.sampling) || !Array.isArray(d.init_ms)) return 'templates/sampling/init_ms must be lists';
  for (const t of d.templates) {
    if (typeof t !== 'object' || t === null || !Array.isArray(t.fields) || typeof t.id !== 'number' || typeof t.domain !== 'number') return 'malformed template entry';
    if (t.exporterKey !== d.exporter) return 'template of another exporter';
  }
  if (d.sequences !== undefined) {
    const q = d.sequences as Partial<SequenceSnapshot> | null;
    const u32 = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;
    const pairs = (l: unknown, first: (x: unknown) => boolean): boolean =>
      Array.isArray(l) && l.every((e) => Array.isArray(e) && e.length === 2 && first(e[0]) && u32(e[1]));
    if (typeof q !== 'object' || q === null || !pairs(q.streams, (x) => typeof x === 'string') || !pairs(q.netflow9, u32) || !pairs(q.ipfix, u32)) {
      return 'malformed sequences entry';
    }
  }
  return d as ExporterState;
}

/** The part of a document that changes only when the exporter's definitions change. */
export function stateSignature(d: ExporterState): string {
  return JSON.stringify([d.templates.map((t) => [t.kind, t.netflow9, t.domain, t.id, t.scopeCount, t.fields]), d.sampling, d.init_ms]);
}
