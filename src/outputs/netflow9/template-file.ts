// Loads the export template file (templates/netflow9-export.yaml or the operator's copy) and
// checks it completely at start, so a bad file is a config error naming the field, never a
// malformed datagram at run time.

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { packagePath } from '../../util/paths';
import { fieldKind } from './field-writers';

export const DEFAULT_TEMPLATE_FILE = packagePath('templates', 'netflow9-export.yaml');

export interface ExportField {
  id: number;
  length: number;
  name: string;
}

export interface ExportTemplateSpec {
  id: number;
  family: 4 | 6;
  fields: ExportField[];
}

export interface ExportTemplates {
  ipv4: ExportTemplateSpec;
  ipv6: ExportTemplateSpec;
  /** Options template announcing per-sampler rates (scope System; FLOW_SAMPLER_ID/MODE/RANDOM_INTERVAL). */
  samplerOptionsId: number;
  /** Options template announcing the rate of records that name no sampler (SAMPLING_INTERVAL/ALGORITHM). */
  defaultOptionsId: number;
}

/** IE name → id, from templates/information-elements.yaml (the decoder's names). */
function ieNames(): Map<string, number> {
  const doc = parse(readFileSync(packagePath('templates', 'information-elements.yaml'), 'utf8')) as Record<string, Record<string, { name?: string }> | undefined>;
  const m = new Map<string, number>();
  for (const key of ['iana', 'netflow9'] as const) {
    for (const [id, e] of Object.entries(doc[key] ?? {})) if (e?.name) m.set(e.name, Number(id));
  }
  return m;
}

function templateId(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 256 || v > 65535) {
    throw new Error(`${where}: ${JSON.stringify(v)} is not a template id; RFC 3954 data template ids are integers 256-65535`);
  }
  return v;
}

function spec(raw: unknown, where: string, family: 4 | 6, names: Map<string, number>): ExportTemplateSpec {
  if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: expected a mapping { id, fields }`);
  const o = raw as Record<string, unknown>;
  const id = templateId(o.id, `${where}.id`);
  if (!Array.isArray(o.fields) || o.fields.length === 0) throw new Error(`${where}.fields: expected a non-empty list of { ie: NAME, length: N }`);
  const seen = new Set<number>();
  const fields = o.fields.map((f: unknown, i: number): ExportField => {
    const at = `${where}.fields[${i}]`;
    if (typeof f !== 'object' || f === null) throw new Error(`${at}: expected a mapping { ie: NAME, length: N }`);
    const e = f as Record<string, unknown>;
    const name = e.ie;
    if (typeof name !== 'string') throw new Error(`${at}.ie: expected an IE name from templates/information-elements.yaml, e.g. sourceIPv4Address`);
    const ieId = names.get(name);
    if (ieId === undefined) throw new Error(`${at}.ie: ${JSON.stringify(name)} is not an IE name in templates/information-elements.yaml`);
    const kind = fieldKind(ieId);
    if (!kind) throw new Error(`${at}.ie: ${name} (${ieId}) is not a field the netflow9 output can write; see docs/ARCHITECTURE.md for the list`);
    if (kind.family !== undefined && kind.family !== family) throw new Error(`${at}.ie: ${name} is an IPv${kind.family} field; it belongs in templates.ipv${kind.family}`);
    const length = e.length ?? kind.lengths[0];
    if (typeof length !== 'number' || !kind.lengths.includes(length)) {
      throw new Error(`${at}.length: ${JSON.stringify(length)} is not a length the exporter writes ${name} with; use one of ${kind.lengths.join(', ')}`);
    }
    if (seen.has(ieId)) throw new Error(`${at}.ie: ${name} appears twice in the template`);
    seen.add(ieId);
    return { id: ieId, length, name };
  });
  const srcAddr = family === 4 ? 8 : 27;
  if (!seen.has(srcAddr) && !seen.has(family === 4 ? 12 : 28)) throw new Error(`${where}.fields: an IPv${family} template needs a source or destination IPv${family} address field`);
  return { id, family, fields };
}

export function loadExportTemplates(file: string = DEFAULT_TEMPLATE_FILE): ExportTemplates {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the template file (${(e as Error).message})`);
  }
  const doc = parse(text) as unknown;
  if (typeof doc !== 'object' || doc === null) throw new Error(`${file}: expected a YAML mapping with templates.ipv4, templates.ipv6 and options`);
  const d = doc as Record<string, unknown>;
  const t = d.templates as Record<string, unknown> | undefined;
  if (typeof t !== 'object' || t === null) throw new Error(`${file}: templates: expected a mapping with ipv4 and ipv6`);
  const names = ieNames();
  const ipv4 = spec(t.ipv4, `${file}: templates.ipv4`, 4, names);
  const ipv6 = spec(t.ipv6, `${file}: templates.ipv6`, 6, names);
  const opt = (d.options ?? {}) as Record<string, unknown>;
  const samplerOptionsId = templateId(opt.id ?? 258, `${file}: options.id`);
  const defaultOptionsId = templateId(opt.default_id ?? samplerOptionsId + 1, `${file}: options.default_id`);
  const ids = [ipv4.id, ipv6.id, samplerOptionsId, defaultOptionsId];
  if (new Set(ids).size !== ids.length) throw new Error(`${file}: template ids ${ids.join(', ')} (ipv4, ipv6, options.id, options.default_id) must all differ`);
  return { ipv4, ipv6, samplerOptionsId, defaultOptionsId };
}
