// Turns a NetFlow v9 / IPFIX template (a field list) into straight-line JavaScript that reads
// a data record at fixed offsets: one function that fills a FlowRecord, one that writes the
// record's protobuf bytes directly. The field list is interpreted once, here, never per
// record.
//
// Generated source only ever interpolates numbers and names from field-targets.ts (never
// strings from the wire or from YAML), so `new Function` cannot be steered by an exporter.

import type { FlowRecord } from '../canonical/flow-record';
import { bytesAt, extraAt, packed, protoFields, vnum, vus } from '../canonical/flow-encoder';
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
  /** Export time of the message, ms since epoch (the header's seconds × 1000). */
  exportMs: number;
  /** The same in µs, for µs-relative elements (flowStart/EndDeltaMicroseconds). */
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
  /** The same record straight to protobuf bytes (no FlowRecord), for the ingest hot path. */
  readonly wire: WireDecoder;
  /** Upper bound of one record's protobuf bytes from `wire`, plus the record's own length
   * for variable-length templates (extras copy their bytes). */
  readonly wireBound: number;
  /** True when records carry their own sampling rate or sampler id: the rate from options
   * data must then be looked up per record, else it is the same for the whole set. */
  readonly perRecordSampling: boolean;
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
    case 'uint':
      return len >= 1 && len <= maxUintLength(t.field);
    default:
      return len >= 1 && len <= 8;
  }
}

/** A uint32 canonical field takes at most 4 bytes (reduced-size encoding only shrinks). */
function maxUintLength(field: string): number {
  return protoFields().get(field)?.kind === 'v32' ? 4 : 8;
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

/** All-zero (0.0.0.0 / ::) address at b[off, off+len). */
function zeroAt(b: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[off + i] !== 0) return false;
  return true;
}

/**
 * A time the record can hold: integer µs in (0, 2^53), i.e. 1970 to 2255. Anything else is
 * an exporter's garbage (or a clock before 1970) and becomes 0, "unknown", rather than a
 * number no consumer can use.
 */
function validTime(us: number): number {
  return us > 0 && us < 9007199254740992 ? Math.floor(us) : 0;
}

const HELPERS = { time: validTime, readUint, ntp: ntpToUs, zeroAt, ip4: copyIpv4, vnum, vus, bytesAt, packed, extraAt };

/** Scratch the wire backend reports through (one object per decoder, no allocation). */
export interface WireState {
  /** Output position after the record. */
  q: number;
  /** The record's sampler id (0 if none) and whether it carried its own sampling rate:
   * the caller then adds the rate from options data, as the record backend does. */
  samplerId: number;
  hasRate: boolean;
}

/** Writes one record's template fields as protobuf into `o` at `s.q`; returns the next input
 * offset or -1. Per-datagram fields (type, exporter, times received, ...) are the caller's. */
export type WireDecoder = (b: Buffer, p: number, end: number, o: Uint8Array, c: TimeContext, s: WireState) => number;

/**
 * The read phase, shared by both backends: generated statements that read every field of a
 * record at its offset into local variables (numbers; offset+length for byte fields), with
 * bounds checks, priorities and fallbacks applied. The backends only differ in what they do
 * with the locals: assign a FlowRecord, or write protobuf bytes.
 */
interface ReadPhase {
  code: string;
  /** Declarations of every local the code assigns. */
  decls: string[];
  /** Record fields this template can set, each with how its local is held. */
  numbers: Set<string>;
  addrs: Set<string>;
  mplsLabels: string[];
  mplsIps: Array<{ off: string; len: number }>;
  extras: Array<{ enterprise: number; id: number; off: string; len: string }>;
  hasSampling: boolean;
  minLen: number;
  variable: boolean;
  usesUptime: boolean;
  /** Upper bound of the protobuf bytes of one record, without extras' values. */
  wireBound: number;
}

function readPhase(fields: readonly TemplateField[], opts: CompileOptions): ReadPhase {
  const { mapped, dropped } = chooseMappings(fields, opts);
  const out: string[] = [];
  const rp: ReadPhase = {
    code: '', decls: ['L=0'], numbers: new Set(), addrs: new Set(), mplsLabels: [], mplsIps: [], extras: [],
    hasSampling: false, minLen: 0, variable: false, usesUptime: false, wireBound: 0,
  };
  let addrLen = 0;
  let hasEtype = false;
  let extraBytes = 0; // fixed-length unmapped fields: their bytes are copied into the output
  let fixedRun = 0; // offset within the current fixed segment
  let segmentStart = 0;
  let tmp = 0;
  const num = (f: string): string => {
    if (!rp.numbers.has(f)) {
      rp.numbers.add(f);
      rp.decls.push(`n_${f}=0`);
    }
    return `n_${f}`;
  };
  const addr = (f: string): void => {
    if (!rp.addrs.has(f)) {
      rp.addrs.add(f);
      rp.decls.push(`ao_${f}=-1`, `al_${f}=0`);
    }
  };

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
      rp.variable = true;
      rp.minLen += 1;
      out.push('if(p>=end)return -1;L=b[p];p++;if(L===255){if(p+2>end)return -1;L=(b[p]<<8)|b[p+1];p+=2;}if(p+L>end)return -1;');
      o = 'p';
      len = 'L';
    } else {
      o = `p+${fixedRun}`;
      len = String(field.length);
      rp.minLen += field.length;
    }
    const m = mapped.get(index);
    if (dropped.has(index)) {
      // padding / zero-length: nothing to read
    } else if (!m) {
      if (opts.keepUnmapped) {
        const v = `e${tmp++}`;
        rp.decls.push(`${v}o=0`, `${v}l=0`);
        out.push(`${v}o=${o};${v}l=${len};`);
        rp.extras.push({ enterprise: field.enterprise, id: field.id, off: `${v}o`, len: `${v}l` });
        if (!isVar) extraBytes += field.length;
      }
    } else {
      const t = m.target;
      const val = isVar ? `x.readUint(b,p,L)` : readExpr(o, field.length);
      switch (t.kind) {
        case 'uint':
          out.push(isVar ? `if(L>=1&&L<=${maxUintLength(t.field)})${num(t.field)}=${val};` : `${num(t.field)}=${val};`);
          if (t.field === 'etype') hasEtype = true;
          break;
        case 'addr': {
          addr(t.field);
          const guard = m.fallback ? `if(ao_${t.field}<0||x.zeroAt(b,ao_${t.field},al_${t.field}))` : '';
          const set = `{ao_${t.field}=${o};al_${t.field}=${len};}`;
          out.push(isVar ? `if(L===4||L===16)${guard}${set}` : `${guard}${set}`);
          if (t.field === 'src_addr' || t.field === 'dst_addr') {
            const l = isVar ? -1 : field.length;
            addrLen = m.fallback && l !== addrLen ? -1 : l;
          }
          break;
        }
        case 'mac':
          out.push(`${num(t.field)}=b.readUIntBE(${o},6);`);
          break;
        case 'sampling':
          rp.hasSampling = true;
          out.push(`{const v=${isVar ? `(L>=1&&L<=8?${val}:0)` : val};if(v!==0){${num('sampling_rate')}=v;${num('sampling_rate_source')}=1;}}`);
          break;
        case 'icmp_type_code':
          out.push(`{const v=${val};${num('icmp_type')}=v>>>8;${num('icmp_code')}=v&255;}`);
          break;
        case 'ip_version':
          out.push(`{const v=${val};${num('etype')}=v===4?2048:v===6?34525:0;}`);
          hasEtype = true;
          break;
        case 'flow_direction':
          out.push(`{const v=${val};${num('flow_direction')}=v===0?1:v===1?2:0;}`);
          break;
        case 'mpls_label': {
          const v = `ml${tmp++}`;
          rp.decls.push(`${v}=0`);
          out.push(`${v}=${val}>>>4;`);
          rp.mplsLabels.push(v);
          break;
        }
        case 'mpls_ip': {
          const v = `mi${tmp++}`;
          rp.decls.push(`${v}=0`);
          out.push(`${v}=${o};`);
          rp.mplsIps.push({ off: v, len: field.length });
          break;
        }
        case 'time': {
          const expr = t.time === 'ntp' ? ntpExpr(o) : timeExpr(t.time ?? 'milliseconds', val);
          if (t.time === 'sysuptime_ms') rp.usesUptime = true;
          out.push(`${num(t.field === 'start' ? 'time_flow_start_us' : 'time_flow_end_us')}=x.time(${expr});`);
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

  if (!hasEtype && addrLen === 4) out.push(`${num('etype')}=2048;`);
  if (!hasEtype && addrLen === 16) out.push(`${num('etype')}=34525;`);
  // Address family known only per record (both families in the template, or varlen).
  if (!hasEtype && addrLen === -1) {
    const a = rp.addrs.has('src_addr') ? 'al_src_addr' : 'al_dst_addr';
    out.push(`${num('etype')}=${a}===16?34525:${a}===4?2048:0;`);
  }
  rp.code = out.join('');
  rp.wireBound =
    (rp.numbers.size + rp.addrs.size) * 13 + rp.addrs.size * 16 + rp.mplsLabels.length * 5 + rp.mplsIps.length * 22 + 20 +
    rp.extras.length * 24 + extraBytes;
  return rp;
}

function recordBackend(rp: ReadPhase): RecordDecoder {
  const out: string[] = [];
  for (const f of rp.numbers) out.push(`r.${f}=n_${f};`);
  for (const f of rp.addrs) out.push(`if(ao_${f}>=0)r.${f}=al_${f}===4?x.ip4(b,ao_${f}):b.subarray(ao_${f},ao_${f}+al_${f});`);
  if (rp.mplsLabels.length) out.push(`r.mpls_label=[${rp.mplsLabels.join(',')}];`);
  if (rp.mplsIps.length) out.push(`r.mpls_ip=[${rp.mplsIps.map((m) => `b.subarray(${m.off},${m.off}+${m.len})`).join(',')}];`);
  if (rp.extras.length) out.push(`r.extra_fields=[${rp.extras.map((e) => `{enterprise:${e.enterprise},id:${e.id},value:b.subarray(${e.off},${e.off}+${e.len})}`).join(',')}];`);
  const body = `"use strict";let ${rp.decls.join(',')};${rp.code}${out.join('')}return p;`;
  // A closure over the helpers, so the compiled function is called directly per record.
  return (new Function('x', `return function decodeRecord(b,p,end,r,c){${body}};`) as (x: typeof HELPERS) => RecordDecoder)(HELPERS);
}

function wireBackend(rp: ReadPhase): WireDecoder {
  const table = protoFields();
  const tagCode = (f: string): string => {
    const info = table.get(f);
    if (!info) throw new Error(`template target ${f} has no flow.proto field`);
    return info.tag.map((t) => `o[q++]=${t};`).join('');
  };
  type Item = { id: number; code: string };
  const items: Item[] = [];
  const id = (f: string): number => table.get(f)?.id ?? 0;
  for (const f of rp.numbers) {
    const info = table.get(f);
    if (!info) throw new Error(`template target ${f} has no flow.proto field`);
    const writer = info.kind === 'vus' ? 'x.vus' : info.kind === 'vnum' ? 'x.vnum' : null;
    // 32-bit varints inline: V8 did not inline the helper here (seen in profiles).
    const value = writer ? `q=${writer}(o,q,n_${f});` : `{let v=n_${f}>>>0;while(v>127){o[q++]=(v&127)|128;v>>>=7;}o[q++]=v;}`;
    items.push({ id: info.id, code: `if(n_${f}${info.kind === 'vus' ? '>0' : '!==0'}){${tagCode(f)}${value}}` });
  }
  for (const f of rp.addrs) {
    items.push({
      id: id(f),
      code: `if(ao_${f}>=0&&al_${f}!==0){${tagCode(f)}o[q++]=al_${f};for(let i=0;i<al_${f};i++)o[q+i]=b[ao_${f}+i];q+=al_${f};}`,
    });
  }
  if (rp.mplsLabels.length) items.push({ id: id('mpls_label'), code: `${tagCode('mpls_label')}q=x.packed(o,q,[${rp.mplsLabels.join(',')}]);` });
  for (const m of rp.mplsIps) items.push({ id: id('mpls_ip'), code: `${tagCode('mpls_ip')}q=x.bytesAt(o,q,b,${m.off},${m.len});` });
  const extraTag = JSON.stringify(table.get('extra_fields')?.tag ?? []);
  for (const e of rp.extras) items.push({ id: id('extra_fields'), code: `q=x.extraAt(o,q,${extraTag},${e.enterprise},${e.id},b,${e.off},${e.len});` });
  items.sort((a, b) => a.id - b.id);
  const report = rp.numbers.has('sampler_id') ? 's.samplerId=n_sampler_id;' : 's.samplerId=0;';
  const rate = rp.hasSampling ? 's.hasRate=n_sampling_rate!==0;' : 's.hasRate=false;';
  const body = `"use strict";let ${rp.decls.join(',')};${rp.code}let q=s.q;${items.map((i) => i.code).join('')}s.q=q;${report}${rate}return p;`;
  return (new Function('x', `return function decodeWire(b,p,end,o,c,s){${body}};`) as (x: typeof HELPERS) => WireDecoder)(HELPERS);
}

export function compileTemplate(fields: readonly TemplateField[], opts: CompileOptions): CompiledTemplate {
  const rp = readPhase(fields, opts);
  if (!Number.isFinite(rp.wireBound)) throw new Error(`wire bound ${rp.wireBound} for ${JSON.stringify(fields)}`);
  return {
    fields,
    minRecordLength: rp.minLen,
    variableLength: rp.variable,
    usesUptime: rp.usesUptime,
    decode: recordBackend(rp),
    wire: wireBackend(rp),
    wireBound: rp.wireBound,
    perRecordSampling: rp.hasSampling || rp.numbers.has('sampler_id'),
  };
}
