// Learned NetFlow v9 / IPFIX templates, scoped as RFC 7011 §8 and RFC 3954 §5 require:
// (exporter address, exporter port, observation domain / source id, template id). Two
// observation domains behind one address define the same template ids differently (see the
// pmacct Cisco captures), so the domain is part of the key.
//
// A hostile or broken exporter must not exhaust memory: templates and fields per exporter are
// capped, and identical layouts share one compiled decoder.

import { DomainMap } from './domain-map';
import { compileTemplate, type CompiledTemplate, type CompileOptions, type TemplateField } from './template-compiler';

export interface OptionsTemplate {
  readonly fields: readonly TemplateField[];
  readonly scopeCount: number;
  readonly minRecordLength: number;
}

export type TemplateKind = 'data' | 'options';

export interface TemplateEntry {
  readonly kind: TemplateKind;
  readonly exporterKey: string;
  readonly domain: number;
  readonly id: number;
  readonly signature: string;
  readonly netflow9: boolean;
  readonly data?: CompiledTemplate;
  readonly options?: OptionsTemplate;
  lastSeenUs: number;
}

export interface TemplateLimits {
  /** Templates (data + options) one exporter may hold at once. */
  maxTemplatesPerExporter: number;
  /** Fields in one template. */
  maxFieldsPerTemplate: number;
  /** Fields over all templates of one exporter (bounds memory per exporter). */
  maxFieldsPerExporter: number;
  /** A template not refreshed for this long is forgotten. */
  expiryUs: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = {
  maxTemplatesPerExporter: 1024,
  maxFieldsPerTemplate: 512,
  maxFieldsPerExporter: 65536,
  expiryUs: 30 * 60 * 1e6,
};

/** A template definition as it travels in state files (no compiled code). */
export interface TemplateSnapshot {
  kind: TemplateKind;
  netflow9: boolean;
  exporterKey: string;
  domain: number;
  id: number;
  scopeCount: number;
  fields: TemplateField[];
  lastSeenUs: number;
}

export type LearnResult = 'new' | 'refreshed' | 'changed' | 'template_limit';

const COMPILE_CACHE_MAX = 4096;

function signatureOf(kind: TemplateKind, netflow9: boolean, scopeCount: number, fields: readonly TemplateField[]): string {
  let s = `${kind}:${netflow9 ? 9 : 10}:${scopeCount}:`;
  for (const f of fields) s += `${f.enterprise}/${f.id}/${f.length},`;
  return s;
}

export class TemplateCache {
  /** (exporter, domain) → template id → entry. */
  private readonly entries = new DomainMap<Map<number, TemplateEntry>>();
  private count = 0;
  private readonly perExporter = new Map<string, { templates: number; fields: number }>();
  private readonly compiled = new Map<string, CompiledTemplate>();
  expiredTotal = 0;
  /** New or changed definitions (not refreshes): for metrics and for knowing state changed. */
  learnedTotal = 0;

  constructor(
    readonly limits: TemplateLimits,
    private readonly compileOptions: { registry: CompileOptions['registry']; keepUnmapped: boolean },
  ) {}

  get size(): number {
    return this.count;
  }

  get(exporterKey: string, domain: number, id: number, nowUs: number): TemplateEntry | undefined {
    const e = this.entries.get(exporterKey, domain)?.get(id);
    if (e && nowUs - e.lastSeenUs > this.limits.expiryUs) {
      this.remove(e);
      this.expiredTotal++;
      return undefined;
    }
    return e;
  }

  learn(
    kind: TemplateKind,
    netflow9: boolean,
    exporterKey: string,
    domain: number,
    id: number,
    fields: TemplateField[],
    scopeCount: number,
    nowUs: number,
  ): LearnResult {
    const prev = this.entries.get(exporterKey, domain)?.get(id);
    // Exporters resend every template every few seconds: recognise a refresh without
    // building the signature string.
    if (prev && prev.kind === kind && sameFields(prev, fields, scopeCount, netflow9)) {
      prev.lastSeenUs = nowUs;
      return 'refreshed';
    }
    const signature = signatureOf(kind, netflow9, scopeCount, fields);
    if (fields.length > this.limits.maxFieldsPerTemplate) return 'template_limit';
    const usage = this.perExporter.get(exporterKey) ?? { templates: 0, fields: 0 };
    const addTemplates = prev ? 0 : 1;
    const addFields = fields.length - (prev ? this.fieldCount(prev) : 0);
    if (usage.templates + addTemplates > this.limits.maxTemplatesPerExporter || usage.fields + addFields > this.limits.maxFieldsPerExporter) {
      return 'template_limit';
    }
    const entry: TemplateEntry =
      kind === 'data'
        ? { kind, exporterKey, domain, id, signature, netflow9, data: this.compile(signature, fields, netflow9), lastSeenUs: nowUs }
        : { kind, exporterKey, domain, id, signature, netflow9, options: optionsTemplate(fields, scopeCount), lastSeenUs: nowUs };
    if (prev) this.remove(prev);
    let byId = this.entries.get(exporterKey, domain);
    if (!byId) {
      byId = new Map();
      this.entries.set(exporterKey, domain, byId);
    }
    byId.set(id, entry);
    this.count++;
    const u = this.perExporter.get(exporterKey) ?? { templates: 0, fields: 0 };
    u.templates++;
    u.fields += fields.length;
    this.perExporter.set(exporterKey, u);
    this.learnedTotal++;
    return prev ? 'changed' : 'new';
  }

  /** IPFIX withdrawal of one template. Returns whether it existed. */
  withdraw(exporterKey: string, domain: number, id: number): boolean {
    const e = this.entries.get(exporterKey, domain)?.get(id);
    if (!e) return false;
    this.remove(e);
    return true;
  }

  /** IPFIX "all data templates" / "all options templates" withdrawal for one domain. */
  withdrawAll(exporterKey: string, domain: number, kind: TemplateKind): number {
    let n = 0;
    for (const e of [...(this.entries.get(exporterKey, domain)?.values() ?? [])]) {
      if (e.kind === kind) {
        this.remove(e);
        n++;
      }
    }
    return n;
  }

  /** Forgets templates not refreshed within the expiry; returns how many. */
  expire(nowUs: number): number {
    let n = 0;
    for (const e of this.all()) {
      if (nowUs - e.lastSeenUs > this.limits.expiryUs) {
        this.remove(e);
        n++;
      }
    }
    this.expiredTotal += n;
    return n;
  }

  private all(): TemplateEntry[] {
    const out: TemplateEntry[] = [];
    for (const [, , byId] of this.entries.entries()) for (const e of byId.values()) out.push(e);
    return out;
  }

  snapshot(): TemplateSnapshot[] {
    return this.all().map((e) => ({
      kind: e.kind,
      netflow9: e.netflow9,
      exporterKey: e.exporterKey,
      domain: e.domain,
      id: e.id,
      scopeCount: e.options?.scopeCount ?? 0,
      fields: [...(e.data?.fields ?? e.options?.fields ?? [])],
      lastSeenUs: e.lastSeenUs,
    }));
  }

  restore(snapshots: readonly TemplateSnapshot[]): number {
    let n = 0;
    for (const s of snapshots) {
      const r = this.learn(s.kind, s.netflow9, s.exporterKey, s.domain, s.id, s.fields, s.scopeCount, s.lastSeenUs);
      if (r !== 'template_limit') n++;
    }
    return n;
  }

  private fieldCount(e: TemplateEntry): number {
    return (e.data?.fields ?? e.options?.fields ?? []).length;
  }

  private remove(e: TemplateEntry): void {
    const byId = this.entries.get(e.exporterKey, e.domain);
    if (!byId || byId.get(e.id) !== e) return;
    byId.delete(e.id);
    if (byId.size === 0) this.entries.delete(e.exporterKey, e.domain);
    this.count--;
    const u = this.perExporter.get(e.exporterKey);
    if (!u) return;
    u.templates--;
    u.fields -= this.fieldCount(e);
    if (u.templates <= 0) this.perExporter.delete(e.exporterKey);
  }

  private compile(signature: string, fields: readonly TemplateField[], netflow9: boolean): CompiledTemplate {
    const hit = this.compiled.get(signature);
    if (hit) return hit;
    const c = compileTemplate(fields, { netflow9, ...this.compileOptions });
    if (this.compiled.size >= COMPILE_CACHE_MAX) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    this.compiled.set(signature, c);
    return c;
  }
}

function sameFields(e: TemplateEntry, fields: readonly TemplateField[], scopeCount: number, netflow9: boolean): boolean {
  const have = e.data?.fields ?? e.options?.fields;
  if (!have || have.length !== fields.length || (e.options?.scopeCount ?? 0) !== scopeCount || e.netflow9 !== netflow9) return false;
  for (let i = 0; i < fields.length; i++) {
    const a = have[i];
    const b = fields[i];
    if (a.id !== b.id || a.length !== b.length || a.enterprise !== b.enterprise) return false;
  }
  return true;
}

function optionsTemplate(fields: readonly TemplateField[], scopeCount: number): OptionsTemplate {
  let min = 0;
  for (const f of fields) min += f.length === 65535 ? 1 : f.length;
  return { fields, scopeCount, minRecordLength: min };
}
