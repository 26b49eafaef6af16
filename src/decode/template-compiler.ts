// Turns a NetFlow v9 / IPFIX template (a field list) into one straight-line JavaScript
// function that reads a data record at fixed offsets and assigns record properties. The field
// list is interpreted once, here, never per record: that is what makes v9/IPFIX decoding
// cost about as much as NetFlow v5's fixed layout.
//
// Generated source only ever interpolates numbers and names from field-targets.ts (never
// strings from the wire or from YAML), so `new Function` cannot be steered by an exporter.

import type { FlowRecord } from '../canonical/flow-record';
import { copyIpv4 } from '../util/ip';
import { target, type Target, type TimeEncoding } from './field-targets';
import type { IeRegistry, IeInfo } from './information-elements';

export const VARIABLE_LENGTH = 65535;

export interface TemplateField {
  id: number;
  length: number;
  /** IPFIX private enterprise number; 0 for IANA and for every NetFlow v9 field. */
  enterprise: number;
}

/** Per-message facts the time conversions need. */
export interface TimeContext {
  /** Export time of the message, ms since epoch (v5: incl. nsecs; v9/IPFIX: seconds·1000). */
  exportMs: number;
  /** Export time in µs (v5 has sub-second export time; others exportMs·1000). */
  exportUs: number;
  /** sysUptime at export (ms, mod 2^32); for IPFIX derived from systemInitTimeMilliseconds. */
  uptimeMs: number;
  /** False when sysUpTime-relative fields cannot be placed (IPFIX without systemInitTime). */
  hasUptime: boolean;
}

/** Returns the offset after the record, or -1 when the record overruns `end`. */
export type RecordDecoder = (b: Buffer, p: number, end: number, r: FlowRecord, c: TimeContext) => number;

export interface CompiledTemplate {
  readonly fields: readonly TemplateField[];
  /** Sum of fixed field lengths plus 1 per variable-length field: the smallest record. */
  readonly minRecordLength: number;
  readonly variableLength: boolean;
  /** True if sysUpTime-relative times are used (the caller warns when it cannot place them). */
  readonly usesUptime: boolean;
  readonly decode: RecordDecoder;
}

export interface CompileOptions {
  netflow9: boolean;
  keepUnmapped: boolean;
  registry: IeRegistry;
}

interface Mapped {
  index: number;
  field: TemplateField;
  info: IeInfo;
  target: Target;
  /** A second address field for the same target (IPv4 + IPv6 in one template, as Cisco
   * sends): it fills the target only where the first one is absent or unspecified. */
  fallback?: boolean;
}

const NTP_EPOCH_OFFSET = 2208988800;

/** Reads an unsigned big-endian integer of 1-8 bytes (variable-length fields only). */
function readUint(b: Buffer, p: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[p + i];
  return v;
}

function readExpr(o: string, len: number): string {
  switch (len) {
    case 1: return `b[${o}]`;
    case 2: return `((b[${o}]<<8)|b[${o}+1])`;
    case 3: return `((b[${o}]<<16)|(b[${o}+1]<<8)|b[${o}+2])`;
    // Inline byte arithmetic: Buffer#readUInt32BE costs a call and a bounds check per field.
    case 4: return `(b[${o}]*16777216+((b[${o}+1]<<16)|(b[${o}+2]<<8)|b[${o}+3]))`;
    default: return `(${readExpr(o, len - 4)}*4294967296+${readExpr(`${o}+${len - 4}`, 4)})`;
  }
}

/** Which fields go where: the highest priority per target slot wins; the rest are unmapped. */
function chooseMappings(fields: readonly TemplateField[], opts: CompileOptions): { mapped: Map<number, Mapped>; dropped: Set<number> } {
  const bySlot = new Map<string, Mapped>();
  const mapped = new Map<number, Mapped>();
  const dropped = new Set<number>();
  fields.forEach((field, index) => {
    if (field.length === 0) { dropped.add(index); return; }
    const info = opts.registry.lookup(field.enterprise, field.id, opts.netflow9);
    if (!info) return;
    if (info.drop) { dropped.add(index); return; }
    if (!info.to) return;
    const t = target(info.to);
    if (!lengthFits(t, info, field.length)) return;
    const m: Mapped = { index, field, info, target: t };
    if (t.kind === 'mpls_label' || t.kind === 'mpls_ip') { mapped.set(index, m); return; }
    const slot = t.kind === 'time' ? `time_${t.field}` : t.field;
    const prev = bySlot.get(slot);
    if (prev && t.kind === 'addr' && info.priority === prev.info.priority) {
      mapped.set(index, { ...m, fallback: true });
      return;
    }
    if (!prev || info.priority > prev.info.priority) {
      if (prev) mapped.delete(prev.index);
      bySlot.set(slot, m);
      mapped.set(index, m);
    }
  });
  return { mapped, dropped };
}

function lengthFits(t: Target, info: IeInfo, len: number): boolean {
  if (len === VARIABLE_LENGTH) return t.kind === 'addr' || t.kind === 'uint' || t.kind === 'sampling';
  switch (t.kind) {
    case 'addr':
    case 'mpls_ip':
      return len === 4 || len === 16;
    case 'mac':
      return len === 6;
    case 'mpls_label':
      return len === 3;
    case 'time':
      if (t.time === 'ntp') return len === 8;
      if (t.time === 'milliseconds') return len >= 1 && len <= 8;
      return len >= 1 && len <= 4 || (info.type === 'unsigned64' && len <= 8);
    default:
      return len >= 1 && len <= 8;
  }
}

/**
 * A fixed-length address. IPv4 is copied into its own 4 bytes: creating a Buffer view
 * (subarray) costs about twice as much as a small copy in V8 (measured ~60 vs ~36 ns), and a
 * copy does not keep the whole datagram alive. IPv6 stays a view (the two cost the same).
 */
function addrExpr(o: string, len: number): string {
  if (len !== 4) return `b.subarray(${o},${o}+${len})`;
  return `x.ip4(b,${o})`;
}

function timeExpr(enc: TimeEncoding, v: string): string {
  switch (enc) {
    case 'sysuptime_ms': return `(c.hasUptime?(c.exportMs-((c.uptimeMs-${v})|0))*1000:0)`;
    case 'seconds': return `(${v})*1000000`;
    case 'milliseconds': return `(${v})*1000`;
    case 'delta_us': return `(c.exportUs-(${v}))`;
    case 'ntp': return v; // handled by ntpExpr
  }
}

function ntpExpr(o: string): string {
  // NTP era 0 ends in 2036: seconds below the Unix offset belong to era 1.
  return `x.ntp(b.readUInt32BE(${o}),b.readUInt32BE(${o}+4))`;
}

function ntpToUs(secs: number, frac: number): number {
  const s = secs >= NTP_EPOCH_OFFSET ? secs - NTP_EPOCH_OFFSET : secs + 4294967296 - NTP_EPOCH_OFFSET;
  return s * 1000000 + Math.floor((frac * 1000000) / 4294967296);
}

/** Absent or all-zero (0.0.0.0 / ::) address. */
function unset(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

const HELPERS = { readUint, ntp: ntpToUs, unset, ip4: copyIpv4 };

export function compileTemplate(fields: readonly TemplateField[], opts: CompileOptions): CompiledTemplate {
  const { mapped, dropped } = chooseMappings(fields, opts);
  const out: string[] = [];
  const after: string[] = [];
  const extras: string[] = [];
  const mplsLabels: string[] = [];
  const mplsIps: string[] = [];
  let startExpr = '';
  let endExpr = '';
  let usesUptime = false;
  let addrLen = 0;
  let hasEtype = false;
  let minLen = 0;
  let variable = false;
  let fixedRun = 0; // offset within the current fixed segment
  let segmentStart = out.length;
  let tmp = 0;

  const closeSegment = (): void => {
    if (fixedRun > 0) {
      out.splice(segmentStart, 0, `if(p+${fixedRun}>end)return -1;`);
      out.push(`p+=${fixedRun};`);
    }
    fixedRun = 0;
    segmentStart = out.length;
  };

  fields.forEach((field, index) => {
    const isVar = field.length === VARIABLE_LENGTH;
    let o: string;
    let len: string;
    if (isVar) {
      closeSegment();
      variable = true;
      minLen += 1;
      out.push('if(p>=end)return -1;L=b[p];p++;if(L===255){if(p+2>end)return -1;L=(b[p]<<8)|b[p+1];p+=2;}if(p+L>end)return -1;');
      o = 'p';
      len = 'L';
    } else {
      o = `p+${fixedRun}`;
      len = String(field.length);
      minLen += field.length;
    }
    const m = mapped.get(index);
    if (dropped.has(index)) {
      // padding / zero-length: nothing to read
    } else if (!m) {
      if (opts.keepUnmapped) {
        const v = `v${tmp++}`;
        out.push(`const ${v}=b.subarray(${o},${o}+${len});`);
        extras.push(`{enterprise:${field.enterprise},id:${field.id},value:${v}}`);
      }
    } else {
      const t = m.target;
      const num = isVar ? `x.readUint(b,p,L)` : readExpr(o, field.length);
      switch (t.kind) {
        case 'uint':
          if (isVar) out.push(`if(L>=1&&L<=8)r.${t.field}=${num};`);
          else out.push(`r.${t.field}=${num};`);
          if (t.field === 'etype') hasEtype = true;
          break;
        case 'addr': {
          const guard = m.fallback ? `if(x.unset(r.${t.field}))` : '';
          if (isVar) out.push(`if(L===4||L===16)${guard}r.${t.field}=b.subarray(p,p+L);`);
          else out.push(`${guard}r.${t.field}=${addrExpr(o, field.length)};`);
          if (t.field === 'src_addr' || t.field === 'dst_addr') {
            const len = isVar ? -1 : field.length;
            addrLen = m.fallback && len !== addrLen ? -1 : len;
          }
          break;
        }
        case 'mac':
          out.push(`r.${t.field}=b.readUIntBE(${o},6);`);
          break;
        case 'sampling': {
          const v = `v${tmp++}`;
          out.push(`const ${v}=${isVar ? `(L>=1&&L<=8?${num}:0)` : num};if(${v}!==0){r.sampling_rate=${v};r.sampling_rate_source=1;}`);
          break;
        }
        case 'icmp_type_code': {
          const v = `v${tmp++}`;
          out.push(`const ${v}=${num};r.icmp_type=${v}>>>8;r.icmp_code=${v}&255;`);
          break;
        }
        case 'ip_version': {
          const v = `v${tmp++}`;
          out.push(`const ${v}=${num};r.etype=${v}===4?2048:${v}===6?34525:0;`);
          hasEtype = true;
          break;
        }
        case 'flow_direction': {
          const v = `v${tmp++}`;
          out.push(`const ${v}=${num};r.flow_direction=${v}===0?1:${v}===1?2:0;`);
          break;
        }
        case 'mpls_label': {
          const v = `v${tmp++}`;
          out.push(`const ${v}=${num}>>>4;`);
          mplsLabels.push(v);
          break;
        }
        case 'mpls_ip': {
          const v = `v${tmp++}`;
          out.push(`const ${v}=b.subarray(${o},${o}+${field.length});`);
          mplsIps.push(v);
          break;
        }
        case 'time': {
          const v = `v${tmp++}`;
          const expr = t.time === 'ntp' ? ntpExpr(o) : timeExpr(t.time ?? 'milliseconds', num);
          if (t.time === 'sysuptime_ms') usesUptime = true;
          out.push(`const ${v}=${expr};`);
          if (t.field === 'start') startExpr = v;
          else endExpr = v;
          break;
        }
      }
    }
    if (isVar) {
      out.push('p+=L;');
      // The next fixed run starts after this field: its bounds check must go here, not
      // before the variable-length read.
      segmentStart = out.length;
    } else fixedRun += field.length;
  });
  closeSegment();

  if (mplsLabels.length) after.push(`r.mpls_label=[${mplsLabels.join(',')}];`);
  if (startExpr) after.push(`r.time_flow_start_us=${startExpr};`);
  if (endExpr) after.push(`r.time_flow_end_us=${endExpr};`);
  if (!hasEtype && addrLen === 4) after.push('r.etype=2048;');
  if (!hasEtype && addrLen === 16) after.push('r.etype=34525;');
  // Address family known only per record (both families in the template, or varlen).
  if (!hasEtype && addrLen === -1) after.push('r.etype=r.src_addr.length===16?34525:r.src_addr.length===4?2048:0;');
  if (mplsIps.length) after.push(`r.mpls_ip=[${mplsIps.join(',')}];`);
  if (extras.length) after.push(`r.extra_fields=[${extras.join(',')}];`);

  const body = `"use strict";let L=0;${out.join('')}${after.join('')}return p;`;
  // A closure over the helpers, so the compiled function is called directly per record.
  const make = new Function('x', `return function decodeRecord(b,p,end,r,c){${body}};`) as (x: typeof HELPERS) => RecordDecoder;
  return {
    fields,
    minRecordLength: minLen,
    variableLength: variable,
    usesUptime,
    decode: make(HELPERS),
  };
}
