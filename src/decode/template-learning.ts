// What v9 and IPFIX do alike with templates and held data: learn (with limits), release the
// data that waited for the template, and hold data whose template is unknown.

import type { FlowType } from '../canonical/flow-record';
import { decodeDataSet, type RecordCommon } from './data-set';
import { readOptionsRecord } from './exporter-options';
import { describeHeld, type PendingSet } from './pending-queue';
import type { TemplateKind, TemplateEntry } from './template-cache';
import type { TemplateField, TimeContext } from './template-compiler';
import type { TemplateState } from './template-state';
import { addError, type DecodeOutput, type Exporter } from './types';

export interface SetContext {
  st: TemplateState;
  exporter: Exporter;
  domain: number;
  receivedUs: number;
  sequence: number;
  type: FlowType;
  netflow9: boolean;
  ctx: TimeContext;
  out: DecodeOutput;
  /** The per-record common values (and their encoded prefix), made once per datagram. */
  common?: RecordCommon;
}

export function learnTemplate(c: SetContext, kind: TemplateKind, id: number, fields: TemplateField[], scopeCount: number): void {
  let min = 0;
  for (const f of fields) min += f.length === 65535 ? 1 : f.length;
  if (min === 0) {
    addError(c.out, 'bad_template', `template ${id} has no bytes per record (all fields zero-length)`);
    return;
  }
  const result = c.st.templates.learn(kind, c.netflow9, c.exporter.key, c.domain, id, fields, scopeCount, c.receivedUs);
  if (result === 'template_limit') {
    addError(c.out, 'template_limit', `template ${id} (${fields.length} fields) from ${c.exporter.key} exceeds the per-exporter limits`);
    return;
  }
  if (result === 'refreshed') return;
  for (const held of c.st.pending.take(c.exporter.key, c.domain, id)) releaseHeld(c, held);
}

/** Decodes a data set held before its template, with the context of the datagram that brought it. */
function releaseHeld(c: SetContext, held: PendingSet): void {
  const entry = c.st.templates.get(held.exporterKey, held.domain, held.templateId, c.receivedUs);
  if (!entry) return;
  const hc: SetContext = { ...c, receivedUs: held.receivedUs, sequence: held.sequence, domain: held.domain, ctx: held.ctx, common: undefined };
  decodeSetWith(hc, entry, held.body, 0, held.body.length);
}

/** Decodes a data set (data or options records) whose template is known. */
export function decodeSetWith(c: SetContext, entry: TemplateEntry, b: Buffer, p: number, end: number): number {
  if (entry.data) {
    return decodeDataSet(
      b, p, end, entry.data, c.ctx,
      (c.common ??= { type: c.type, exporter: c.exporter, receivedUs: c.receivedUs, sequence: c.sequence, domain: c.domain }),
      c.st.options.samplingFor(c.exporter.key, c.domain), c.out,
    );
  }
  const opt = entry.options;
  if (!opt) return 0;
  let n = 0;
  const values = new Map<number, number>();
  while (end - p >= opt.minRecordLength && opt.minRecordLength > 0) {
    values.clear();
    const next = readOptionsRecord(b, p, end, opt.fields, opt.scopeCount, values);
    if (next < 0) {
      addError(c.out, 'bad_record', `options record overruns the set at offset ${p}`);
      break;
    }
    c.st.options.apply(c.exporter.key, c.domain, values);
    p = next;
    n++;
  }
  return n;
}

/** A data set whose template is unknown: hold it; report what had to be dropped. */
export function holdSet(c: SetContext, id: number, b: Buffer, p: number, end: number): void {
  addError(c.out, 'template_missing', `no template ${id} yet from ${c.exporter.key} domain ${c.domain}; data held`);
  const dropped = c.st.pending.hold({
    templateId: id,
    exporterKey: c.exporter.key,
    body: Buffer.from(b.subarray(p, end)),
    ctx: c.ctx,
    receivedUs: c.receivedUs,
    sequence: c.sequence,
    domain: c.domain,
  });
  for (const d of dropped) {
    addError(c.out, 'pending_overflow', `pending queue full: dropped ${d.body.length} bytes held for ${describeHeld(d)}`);
    // Whose data was lost: the per-exporter limit drops this exporter's own oldest set, the
    // total limit may drop another's (keys are "address|port").
    if (d.exporterKey !== c.exporter.key) c.out.errors[c.out.errors.length - 1].exporter = d.exporterKey.slice(0, d.exporterKey.lastIndexOf('|'));
  }
}
