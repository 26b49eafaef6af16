// What a gateway must remember across restarts to decode v9/IPFIX data at once: learned
// templates (definitions, not compiled code) and options-derived state (sampling rates by
// sampler, IPFIX system init times), per exporter. One JSON document per exporter, so the
// Kafka state topic can compact by exporter and a file holds the list.

import type { TemplateState } from '../decode/template-state';
import type { TemplateSnapshot } from '../decode/template-cache';
import type { ExporterOptions } from '../decode/exporter-options';

export const STATE_FORMAT = 'flowgate-state/1';

type OptionsSnapshot = ReturnType<ExporterOptions['snapshot']>;

export interface ExporterState {
  format: typeof STATE_FORMAT;
  /** "address|port", the key templates are scoped by. */
  exporter: string;
  templates: TemplateSnapshot[];
  sampling: OptionsSnapshot['sampling'];
  init_ms: OptionsSnapshot['initMs'];
}

/** Splits the decoder's state into one document per exporter. */
export function exporterStates(state: TemplateState): Map<string, ExporterState> {
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
  return out;
}

/** Applies exporter documents to a decoder's state; returns the number of templates restored. */
export function restoreStates(state: TemplateState, docs: Iterable<ExporterState>): number {
  let n = 0;
  for (const d of docs) {
    n += state.templates.restore(d.templates);
    state.options.restore({ sampling: d.sampling, initMs: d.init_ms });
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
  return d as ExporterState;
}

/** The part of a document that changes only when the exporter's definitions change. */
export function stateSignature(d: ExporterState): string {
  return JSON.stringify([d.templates.map((t) => [t.kind, t.netflow9, t.domain, t.id, t.scopeCount, t.fields]), d.sampling, d.init_ms]);
}
