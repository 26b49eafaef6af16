// FlowRecord → flowpb.FlowMessage wire bytes. The encoder is generated at start-up FROM the
// .proto (via protobufjs reflection): one straight-line function with each field's tag bytes
// as constants, writing into one reused buffer. So the schema of record stays the .proto;
// there is no second hand-kept list of field numbers, and no per-field method calls or
// capacity checks on the hot path (one bound per record).
//
// Record fields map to proto fields by name; the three `*_ns` times are `*_us` in memory and
// are written ×1000 exactly. Fields are written in field-number order, as protobufjs and
// protoc do; proto3 defaults (0, empty) are omitted.

import { newFlowRecord, type FlowRecord } from './flow-record';
import type { WireBatch } from './wire-batch';
import { flowMessageType } from './schema';

const TWO_32 = 4294967296;

/** Unsigned varint of v in [0, 2^32). */
export function v32(b: Uint8Array, p: number, v: number): number {
  while (v > 127) {
    b[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

export function v64(b: Uint8Array, p: number, lo: number, hi: number): number {
  while (hi !== 0) {
    b[p++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  return v32(b, p, lo);
}

/** Varint of a non-negative number up to 2^64 (saturating; negatives and NaN → 0). */
export function vnum(b: Uint8Array, p: number, v: number): number {
  if (!(v > 0)) return v32(b, p, 0);
  if (v < TWO_32) return v32(b, p, v >>> 0);
  if (!(v < 18446744073709551616)) return v64(b, p, 0xffffffff, 0xffffffff);
  const hi = Math.floor(v / TWO_32);
  return v64(b, p, (v - hi * TWO_32) >>> 0, hi >>> 0);
}

/** Integer µs → varint of ns, exact for any µs < 2^53. */
export function vus(b: Uint8Array, p: number, us: number): number {
  if (!(us > 0)) return v32(b, p, 0);
  if (us < 4294967) return v32(b, p, us * 1000);
  const hi = Math.floor(us / TWO_32);
  const loNs = (us - hi * TWO_32) * 1000; // < 2^42: exact
  const carry = Math.floor(loNs / TWO_32);
  return v64(b, p, (loNs - carry * TWO_32) >>> 0, (hi * 1000 + carry) >>> 0);
}

export function bytes(b: Uint8Array, p: number, a: Uint8Array): number {
  return bytesAt(b, p, a, 0, a.length);
}

export function packed(b: Uint8Array, p: number, vs: readonly number[]): number {
  let len = 0;
  for (let i = 0; i < vs.length; i++) len += vsize(vs[i]);
  p = v32(b, p, len);
  for (let i = 0; i < vs.length; i++) p = vnum(b, p, vs[i]);
  return p;
}

export function vsize(v: number): number {
  if (!(v > 0)) return 1;
  let n = 1;
  while (v >= 128 && n < 10) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function extras(b: Uint8Array, p: number, tag: number[], xs: FlowRecord['extra_fields']): number {
  for (let i = 0; i < xs.length; i++) p = extraAt(b, p, tag, xs[i].enterprise, xs[i].id, xs[i].value, 0, xs[i].value.length);
  return p;
}

function hasLists(r: FlowRecord): boolean {
  return (r.extra_fields.length | r.as_path.length | r.bgp_communities.length | r.layer_stack.length | r.layer_size.length |
    r.mpls_label.length | r.mpls_ttl.length | r.mpls_ip.length | r.ipv6_routing_header_addresses.length) !== 0;
}

/** Bytes a record can need beyond the fixed bound: its lists and extra fields. */
function variableBound(r: FlowRecord): number {
  let n = 0;
  n += 16 + 11 * (r.bgp_communities.length + r.as_path.length + r.mpls_ttl.length + r.mpls_label.length + r.layer_stack.length + r.layer_size.length);
  // Index loops, entered only when non-empty: this runs for every sFlow record.
  const m = r.mpls_ip;
  for (let i = 0; i < m.length; i++) n += 8 + m[i].length;
  const h = r.ipv6_routing_header_addresses;
  for (let i = 0; i < h.length; i++) n += 8 + h[i].length;
  const x = r.extra_fields;
  for (let i = 0; i < x.length; i++) n += 32 + x[i].value.length;
  return n;
}

/** Copies b[off, off+len) as a length-delimited field body (tag written by the caller). */
export function bytesAt(o: Uint8Array, q: number, b: Uint8Array, off: number, len: number): number {
  q = v32(o, q, len);
  // Addresses are 4 or 16 bytes: a loop beats TypedArray#set's call for those.
  if (len <= 16) for (let i = 0; i < len; i++) o[q + i] = b[off + i];
  else o.set(b.subarray(off, off + len), q);
  return q + len;
}

/** One ExtraField submessage whose value is b[off, off+len). */
export function extraAt(o: Uint8Array, q: number, tag: readonly number[], enterprise: number, id: number, b: Uint8Array, off: number, len: number): number {
  const size = (enterprise ? 1 + vsize(enterprise) : 0) + (id ? 1 + vsize(id) : 0) + (len ? 1 + vsize(len) + len : 0);
  for (const t of tag) o[q++] = t;
  q = v32(o, q, size);
  if (enterprise) { o[q++] = 8; q = v32(o, q, enterprise >>> 0); }
  if (id) { o[q++] = 16; q = v32(o, q, id >>> 0); }
  if (len) { o[q++] = 26; q = bytesAt(o, q, b, off, len); }
  return q;
}

export type WireKind = 'v32' | 'vnum' | 'vus' | 'bytes' | 'packed' | 'bytes_list' | 'message';

export interface ProtoFieldInfo {
  id: number;
  kind: WireKind;
  /** Tag bytes (field number + wire type). */
  tag: number[];
}

/** How each FlowRecord field is written, read from the .proto: the one table both the
 * record encoder and the template compiler's direct-to-wire backend use. */
export function protoFields(): ReadonlyMap<string, ProtoFieldInfo> {
  if (fieldTable) return fieldTable;
  const m = new Map<string, ProtoFieldInfo>();
  for (const f of flowMessageType().fieldsArray) {
    f.resolve();
    const recName = f.name.endsWith('_ns') ? `${f.name.slice(0, -3)}_us` : f.name;
    const isEnum = f.resolvedType !== null && 'values' in (f.resolvedType as object);
    const isMessage = f.resolvedType !== null && !isEnum;
    let kind: WireKind;
    if (f.repeated) kind = isMessage ? 'message' : f.type === 'bytes' ? 'bytes_list' : 'packed';
    else if (f.type === 'bytes') kind = 'bytes';
    else if (f.name.endsWith('_ns')) kind = 'vus';
    else if (f.type === 'uint64') kind = 'vnum';
    else if (f.type === 'uint32' || isEnum) kind = 'v32';
    else throw new Error(`flow.proto field ${f.name}: type ${f.type} has no encoder`);
    m.set(recName, { id: f.id, kind, tag: tagBytes(f.id, kind === 'v32' || kind === 'vnum' || kind === 'vus' ? 0 : 2) });
  }
  fieldTable = m;
  return m;
}
let fieldTable: Map<string, ProtoFieldInfo> | undefined;

const HELPERS = { v32, vnum, vus, bytes, packed, extras, sameBytes };

export function tagBytes(id: number, wire: number): number[] {
  const out: number[] = [];
  let v = ((id << 3) | wire) >>> 0;
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function emitTag(t: number[]): string {
  return t.map((x) => `b[p++]=${x};`).join('');
}

type Writer = (b: Uint8Array, p: number, r: FlowRecord) => number;
type Bound = (r: FlowRecord) => number;

interface CompiledWriter {
  write: Writer;
  /** Upper bound of the bytes a record needs, excluding lists and extra fields. */
  bound: Bound;
  /** The per-datagram fields alone, and everything but them (see writeBatch). */
  writeCommon: Writer;
  writeRest: Writer;
  /** Whether two records agree on every per-datagram field. */
  sameCommon: (a: FlowRecord, r: FlowRecord) => boolean;
}

/**
 * Fields every record of one datagram (nearly always) shares: encoded once per batch and
 * copied. For sFlow that includes the three times, which are all the receive time.
 */
const COMMON_FIELDS = new Set([
  'type', 'sequence_num', 'sampler_address', 'time_received_us', 'time_flow_start_us', 'time_flow_end_us',
  'exporter_port', 'exporter_address', 'observation_domain_id', 'sflow_sub_agent_id', 'sampling_rate',
  'sampling_rate_source',
]);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Generates the writer from the schema; fails loudly if the schema and record disagree. */
function compileWriter(): CompiledWriter {
  const sample = new Set(Object.keys(newFlowRecord()));
  const code: string[] = [];
  const common: string[] = [];
  const rest: string[] = [];
  const compare: string[] = [];
  const bytesFields: string[] = [];
  let fixedBound = 0;
  const fields = [...protoFields()].sort((a, b) => a[1].id - b[1].id);
  for (const [recName, f] of fields) {
    const before = code.length;
    if (!sample.has(recName)) throw new Error(`flow.proto field #${f.id} has no FlowRecord field ${recName}`);
    const v = `r.${recName}`;
    const tag = emitTag(f.tag);
    switch (f.kind) {
      case 'message': code.push(`if(${v}.length!==0)p=x.extras(b,p,${JSON.stringify(f.tag)},${v});`); break;
      case 'bytes_list': code.push(`for(let i=0;i<${v}.length;i++){${tag}p=x.bytes(b,p,${v}[i]);}`); break;
      case 'packed': code.push(`if(${v}.length!==0){${tag}p=x.packed(b,p,${v});}`); break;
      case 'bytes':
        // Addresses (4/16 bytes) copied inline; anything longer goes through the helper.
        code.push(`{const a=${v};const n=a.length;if(n!==0){${tag}if(n<=16){b[p++]=n;for(let i=0;i<n;i++)b[p+i]=a[i];p+=n;}else p=x.bytes(b,p,a);}}`);
        fixedBound += 3 + 5;
        bytesFields.push(`${v}.length`);
        break;
      case 'vus': code.push(`if(${v}>0){${tag}p=x.vus(b,p,${v});}`); fixedBound += 13; break;
      case 'vnum':
        code.push(`{const u=${v};if(u!==0){${tag}if(u>0&&u<4294967296){let v=u>>>0;while(v>127){b[p++]=(v&127)|128;v>>>=7;}b[p++]=v;}else p=x.vnum(b,p,u);}}`);
        fixedBound += 13;
        break;
      // Inline: V8 does not inline the helper into this large function (seen in profiles).
      case 'v32': code.push(`if(${v}!==0){${tag}let v=${v}>>>0;while(v>127){b[p++]=(v&127)|128;v>>>=7;}b[p++]=v;}`); fixedBound += 8; break;
    }
    const emitted = code.slice(before).join('');
    if (COMMON_FIELDS.has(recName)) {
      common.push(emitted);
      compare.push(f.kind === 'bytes' ? `x.sameBytes(a.${recName},r.${recName})` : `a.${recName}===r.${recName}`);
    } else rest.push(emitted);
  }
  const make = new Function('x', `"use strict";return function writeFlow(b,p,r){${code.join('')}return p;};`) as (x: typeof HELPERS) => Writer;
  const bound = new Function(`"use strict";return function bound(r){return ${fixedBound}+${bytesFields.join('+')};};`)() as Bound;
  const makeCommon = new Function('x', `"use strict";return function writeCommon(b,p,r){${common.join('')}return p;};`) as (x: typeof HELPERS) => Writer;
  const makeRest = new Function('x', `"use strict";return function writeRest(b,p,r){${rest.join('')}return p;};`) as (x: typeof HELPERS) => Writer;
  const makeSame = new Function('x', `"use strict";return function sameCommon(a,r){return ${compare.join('&&')};};`) as (x: typeof HELPERS) => CompiledWriter['sameCommon'];
  return { write: make(HELPERS), bound, writeCommon: makeCommon(HELPERS), writeRest: makeRest(HELPERS), sameCommon: makeSame(HELPERS) };
}

let compiled: CompiledWriter | undefined;
function writer(): CompiledWriter {
  compiled ??= compileWriter();
  return compiled;
}

/** Encodes records one message each (raw framing) or delimited; reuses one scratch buffer. */
export class FlowEncoder {
  private buf = Buffer.allocUnsafe(1 << 16);
  private readonly w = writer();

  /** Appends one encoded FlowMessage at `p` of the scratch buffer; returns the end offset. */
  private put(p: number, r: FlowRecord): number {
    const need = p + this.w.bound(r) + (hasLists(r) ? variableBound(r) : 0);
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, p);
      this.buf = next;
    }
    return this.w.write(this.buf, p, r);
  }

  encode(r: FlowRecord): Buffer {
    const n = this.put(0, r);
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, 0, n);
    return out;
  }

  /**
   * Appends the records of one datagram to a batch (the wire path for v5 and sFlow): the
   * fields they share are encoded once and copied in front of each record's own fields.
   */
  writeBatch(batch: WireBatch, records: readonly FlowRecord[]): void {
    if (records.length < 2) {
      for (const r of records) this.writeInto(batch, r);
      return;
    }
    const w = this.w;
    const first = records[0];
    const plen = w.writeCommon(this.buf, 0, first);
    const prefix = this.buf.subarray(0, plen);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (i > 0 && !w.sameCommon(first, r)) {
        this.writeInto(batch, r);
        continue;
      }
      batch.ensure(w.bound(r) + (hasLists(r) ? variableBound(r) : 0));
      const o = batch.buf;
      const q = batch.pos;
      o.set(prefix, q);
      batch.pos = w.writeRest(o, q + plen, r);
      batch.endRecord();
    }
  }

  /**
   * The fields COMMON_FIELDS names (type, exporter, receive time, sequence, domain,
   * sampling), encoded alone: the per-datagram prefix the template compiler's wire back end
   * puts in front of each record.
   */
  commonBytes(r: FlowRecord): Uint8Array {
    const n = this.w.writeCommon(this.buf, 0, r);
    // A copy: Buffer#slice would be a view into the scratch buffer the next call overwrites.
    return new Uint8Array(this.buf.subarray(0, n));
  }

  /** Appends one record to a batch. */
  writeInto(batch: WireBatch, r: FlowRecord): void {
    batch.ensure(this.w.bound(r) + (hasLists(r) ? variableBound(r) : 0));
    batch.pos = this.w.write(batch.buf, batch.pos, r);
    batch.endRecord();
  }

  /** Varint length-delimited concatenation (goflow2's `bin` format), one buffer for many records. */
  encodeDelimited(records: readonly FlowRecord[]): Buffer {
    let p = 0;
    for (const r of records) {
      // The length prefix is known only afterwards: write the message 5 bytes on (the
      // longest uint32 varint), then close the gap if the prefix is shorter.
      const start = p + 5;
      const len = this.put(start, r) - start;
      const prefixEnd = v32(this.buf, p, len);
      if (prefixEnd !== start) this.buf.copyWithin(prefixEnd, start, start + len);
      p = prefixEnd + len;
    }
    const out = Buffer.allocUnsafe(p);
    this.buf.copy(out, 0, 0, p);
    return out;
  }
}
