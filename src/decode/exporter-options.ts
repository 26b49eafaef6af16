// What exporters tell us in options data: sampling configuration (per sampler id when they
// have several) and, for IPFIX, the system init time that sysUpTime-relative fields need.
// Keyed by exporter + observation domain / source id, like templates.

import { DomainMap } from './domain-map';
import type { TemplateField } from './template-compiler';

export interface SamplingInfo {
  /** Rate for records that name no sampler (or the only sampler when there is just one). */
  defaultRate: number;
  bySampler: Map<number, number>;
}

export class ExporterOptions {
  private readonly sampling = new DomainMap<SamplingInfo>();
  private readonly initMs = new DomainMap<number>();
  /** Bumped whenever a kept value changes (not on repeats): tells the state keeper to save. */
  changes = 0;

  samplingFor(exporterKey: string, domain: number): SamplingInfo | undefined {
    return this.sampling.get(exporterKey, domain);
  }

  systemInitMs(exporterKey: string, domain: number): number | undefined {
    return this.initMs.get(exporterKey, domain);
  }


  /**
   * Applies one decoded options record. Values are keyed by IANA id (enterprise fields are
   * ignored here). Returns true if it carried something we keep.
   */
  apply(exporterKey: string, domain: number, values: ReadonlyMap<number, number>): boolean {
    let used = false;
    const init = values.get(160);
    if (init !== undefined && init > 0) {
      if (this.initMs.get(exporterKey, domain) !== init) this.changes++;
      this.initMs.set(exporterKey, domain, init);
      used = true;
    }
    const rate = rateOf(values);
    if (rate > 0) {
      const s = this.ensure(exporterKey, domain);
      const sampler = values.get(48) ?? values.get(302);
      const before = sampler !== undefined ? s.bySampler.get(sampler) : s.defaultRate;
      if (before !== rate) this.changes++;
      if (sampler !== undefined) s.bySampler.set(sampler, rate);
      else s.defaultRate = rate;
      used = true;
    }
    return used;
  }

  snapshot(): {
    sampling: Array<[string, number, number, Array<[number, number]>]>;
    initMs: Array<[string, number, number]>;
  } {
    return {
      sampling: [...this.sampling.entries()].map(([k, d, v]) => [k, d, v.defaultRate, [...v.bySampler]]),
      initMs: [...this.initMs.entries()],
    };
  }

  restore(s: ReturnType<ExporterOptions['snapshot']>): void {
    for (const [k, d, rate, by] of s.sampling) this.sampling.set(k, d, { defaultRate: rate, bySampler: new Map(by) });
    for (const [k, d, v] of s.initMs) this.initMs.set(k, d, v);
  }

  private ensure(exporterKey: string, domain: number): SamplingInfo {
    let s = this.sampling.get(exporterKey, domain);
    if (!s) {
      s = { defaultRate: 0, bySampler: new Map() };
      this.sampling.set(exporterKey, domain, s);
    }
    return s;
  }
}

/** 1-in-N from whichever sampling IEs the record has (RFC 7012 / RFC 5477 / RFC 3954). */
function rateOf(v: ReadonlyMap<number, number>): number {
  const interval = v.get(34) ?? v.get(50);
  if (interval !== undefined && interval > 0) return interval;
  const pInterval = v.get(305);
  const pSpace = v.get(306);
  if (pInterval !== undefined && pInterval > 0 && pSpace !== undefined) return Math.round((pInterval + pSpace) / pInterval);
  const size = v.get(309);
  const population = v.get(310);
  if (size !== undefined && size > 0 && population !== undefined && population > 0) return Math.round(population / size);
  return 0;
}

/** Rate for a record: its sampler's, else the default, else the only sampler's. */
export function lookupRate(s: SamplingInfo, samplerId: number): number {
  if (samplerId !== 0) {
    const r = s.bySampler.get(samplerId);
    if (r !== undefined) return r;
  }
  if (s.defaultRate > 0) return s.defaultRate;
  if (s.bySampler.size === 1) return s.bySampler.values().next().value ?? 0;
  return 0;
}

/**
 * Reads one options data record generically into id → number (numeric fields of up to 8
 * bytes, option fields only; scope fields are skipped). Options records are rare, so this
 * interprets the field list instead of compiling it. Returns the next offset or -1.
 */
export function readOptionsRecord(
  b: Buffer,
  p: number,
  end: number,
  fields: readonly TemplateField[],
  scopeCount: number,
  out: Map<number, number>,
): number {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    let len = f.length;
    if (len === 65535) {
      if (p >= end) return -1;
      len = b[p++];
      if (len === 255) {
        if (p + 2 > end) return -1;
        len = (b[p] << 8) | b[p + 1];
        p += 2;
      }
    }
    if (p + len > end) return -1;
    if (i >= scopeCount && f.enterprise === 0 && len >= 1 && len <= 8) {
      let v = 0;
      for (let k = 0; k < len; k++) v = v * 256 + b[p + k];
      out.set(f.id, v);
    }
    p += len;
  }
  return p;
}
