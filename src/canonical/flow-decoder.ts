// flowpb.FlowMessage bytes → FlowRecord, fast. decodeFlowMessage (flow-message.ts) goes
// through protobufjs reflection: a message object with a Long per 64-bit field, then a pass
// over Object.entries. That is ~5 µs per record on this machine (~200,000 records/s), half the
// whole budget of `flowgate dump` at its aim of 100,000 records/s with Kafka and CSV on top.
//
// Like the encoder (flow-encoder.ts), the decoder is generated at start-up FROM the .proto: one
// function with a `switch` on the field number whose cases read straight into a
// newFlowRecord(), 64-bit varints as two 32-bit halves (no Long, no BigInt). The schema of
// record stays the .proto; no second hand-kept list of field numbers.
//
// It returns what decodeFlowMessage returns for every well-formed message (property-tested in
// test/dump/flow-decoder.test.ts), with these deliberate differences, all on malformed input:
//   - a known field with the wrong wire type, field number 0, an unexpected end-group or a
//     varint longer than 10 bytes throw FlowDecodeError (protobufjs reads on and returns
//     garbage for the first two). Being strict is what lets `dump` tell raw from delimited
//     framing when a message carries no framing header (src/canonical/framed-records.ts);
//   - bytes fields of up to 16 bytes (addresses) are copies, not views into the input, so a
//     record does not pin a whole Kafka fetch buffer in memory and a copy is cheaper than a
//     Buffer view in V8 (see copyIpv4 in util/ip.ts). Longer values are views.

import { flowMessageType } from './schema';
import { newFlowRecord, NO_BYTES, NO_BYTE_LISTS, NO_NUMBERS, type ExtraField, type FlowRecord } from './flow-record';

/** The input is not a well-formed FlowMessage. */
export class FlowDecodeError extends RangeError {
  override readonly name = 'FlowDecodeError';
}

function fail(what: string): never {
  throw new FlowDecodeError(`FlowMessage: ${what}`);
}

// ---- helpers for the rare paths (unknown fields, extra_fields); the hot ones are inlined

/** Reads a varint of up to 64 bits, keeping the low 32 (uint32 semantics); sets `at.p`. */
function varint32(b: Uint8Array, at: { p: number }): number {
  let p = at.p;
  let v = 0;
  let s = 0;
  let c: number;
  do {
    c = b[p++];
    if (s < 32) v |= (c & 127) << s;
    s += 7;
  } while (c > 127 && s < 70);
  if (c > 127) fail('varint longer than 10 bytes');
  at.p = p;
  return v >>> 0;
}

/** Position after the field of wire type `w` whose tag ended at p. */
function skip(b: Uint8Array, p: number, end: number, w: number): number {
  const at = { p };
  switch (w) {
    case 0: varint32(b, at); return at.p;
    case 1: return p + 8;
    case 2: { const n = varint32(b, at); if (n > end - at.p) fail('field runs past the end'); return at.p + n; }
    case 5: return p + 4;
    case 3:
      // A group (proto2 leftovers): skip fields up to its end-group tag, as protobufjs does.
      for (;;) {
        if (at.p >= end) fail('unterminated group');
        const t = varint32(b, at);
        if ((t & 7) === 4) return at.p;
        at.p = skip(b, at.p, end, t & 7);
      }
    default: return fail(`wire type ${w}`);
  }
}

/** One ExtraField submessage in b[p, stop). */
function extra(b: Uint8Array, p: number, stop: number): ExtraField {
  const x: ExtraField = { enterprise: 0, id: 0, value: NO_BYTES };
  const at = { p };
  while (at.p < stop) {
    const t = varint32(b, at);
    const w = t & 7;
    switch (t >>> 3) {
      case 0: return fail('field number 0 in extra_fields');
      case 1: if (w !== 0) fail('extra_fields.enterprise wire type'); x.enterprise = varint32(b, at); break;
      case 2: if (w !== 0) fail('extra_fields.id wire type'); x.id = varint32(b, at); break;
      case 3: {
        if (w !== 2) fail('extra_fields.value wire type');
        const n = varint32(b, at);
        if (n > stop - at.p) fail('extra_fields.value runs past the end');
        x.value = bytesOf(b, at.p, n);
        at.p += n;
        break;
      }
      default: at.p = skip(b, at.p, stop, w);
    }
  }
  if (at.p !== stop) fail('extra_fields runs past its length');
  return x;
}

/** Copy of b[p, p+n): small values copied byte by byte, larger ones as a view. */
function bytesOf(b: Uint8Array, p: number, n: number): Uint8Array {
  if (n === 0) return NO_BYTES;
  if (n > 16) return b.subarray(p, p + n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = b[p + i];
  return out;
}

const HELPERS = { newFlowRecord, fail, skip, extra, bytesOf, NO_NUMBERS, NO_BYTE_LISTS };

// ---- code generation

/**
 * Source that reads a varint at b[p] into `name` (low 32 bits, signed int32 view: callers
 * apply >>> 0 or | 0). A byte past the end of `b` reads as undefined, which ends the loop
 * (undefined > 127 is false) and leaves p past `end`, caught after the field.
 */
function readV32(name: string): string {
  return `let ${name}=b[p++];if(${name}>127){${name}&=127;let s=7,c;do{c=b[p++];if(s<32)${name}|=(c&127)<<s;s+=7;}while(c>127&&s<70);if(c>127)x.fail('varint longer than 10 bytes');}`;
}

/** Source that reads a 64-bit varint into `lo` and `hi` (unsigned 32-bit halves). */
const READ_V64 =
  'let lo=0,hi=0;{let s=0,c;do{c=b[p++];const d=c&127;if(s<28)lo|=d<<s;else if(s===28){lo|=d<<28;hi=d>>>4;}else hi|=d<<(s-32);s+=7;}while(c>127&&s<70);' +
  "if(c>127)x.fail('varint longer than 10 bytes');lo>>>=0;hi>>>=0;}";

type Decoder = (b: Uint8Array, p: number, end: number) => FlowRecord;

function wireCheck(field: string, want: number): string {
  return `if(w!==${want})x.fail(${JSON.stringify(`${field}: wire type `)}+w);`;
}

/** Generates the decoder from the schema; fails loudly if the schema and record disagree. */
function compileDecoder(): Decoder {
  const sample = new Set(Object.keys(newFlowRecord()));
  const cases: string[] = [];
  for (const f of flowMessageType().fieldsArray) {
    f.resolve();
    const rec = f.name.endsWith('_ns') ? `${f.name.slice(0, -3)}_us` : f.name;
    if (!sample.has(rec)) throw new Error(`flow.proto field #${f.id} has no FlowRecord field ${rec}`);
    const isEnum = f.resolvedType !== null && 'values' in (f.resolvedType as object);
    const isMessage = f.resolvedType !== null && !isEnum;
    // protobufjs reads enums as int32 and uint32 as unsigned; keep both views identical.
    const u32 = isEnum ? '|0' : '>>>0';
    const v = `r.${rec}`;
    let body: string;
    if (f.repeated && isMessage) {
      // Only extra_fields: ExtraField submessages.
      body = `${wireCheck(f.name, 2)}${readV32('n')}n>>>=0;if(n>end-p)x.fail('${f.name} runs past the end');` +
        `let a=${v};if(a.length===0){a=[];${v}=a;}a.push(x.extra(b,p,p+n));p+=n;`;
    } else if (f.repeated && f.type === 'bytes') {
      body = `${wireCheck(f.name, 2)}${readV32('n')}n>>>=0;if(n>end-p)x.fail('${f.name} runs past the end');` +
        `let a=${v};if(a===x.NO_BYTE_LISTS){a=[];${v}=a;}a.push(x.bytesOf(b,p,n));p+=n;`;
    } else if (f.repeated) {
      // Packed (wire type 2, what proto3 writers emit) or one unpacked value (wire type 0).
      if (f.type !== 'uint32' && !isEnum) throw new Error(`flow.proto field ${f.name}: repeated ${f.type} has no decoder`);
      body = `let a=${v};if(a===x.NO_NUMBERS){a=[];${v}=a;}` +
        `if(w===2){${readV32('n')}n>>>=0;if(n>end-p)x.fail('${f.name} runs past the end');const stop=p+n;` +
        `while(p<stop){${readV32('e')}a.push(e${u32});}if(p!==stop)x.fail('${f.name}: packed value runs past its length');}` +
        `else if(w===0){${readV32('e')}a.push(e${u32});}else x.fail('${f.name}: wire type '+w);`;
    } else if (f.type === 'bytes') {
      body = `${wireCheck(f.name, 2)}${readV32('n')}n>>>=0;if(n>end-p)x.fail('${f.name} runs past the end');${v}=x.bytesOf(b,p,n);p+=n;`;
    } else if (f.name.endsWith('_ns')) {
      // ns → integer µs exactly: (hi·2^32 + lo) / 1000 with 2^32 = 4294967·1000 + 296, the
      // same expression flow-message.ts uses, so both decoders agree to the last digit.
      body = `${wireCheck(f.name, 0)}${READ_V64}${v}=hi*4294967+Math.floor((hi*296+lo)/1000);`;
    } else if (f.type === 'uint64') {
      body = `${wireCheck(f.name, 0)}${READ_V64}${v}=hi!==0?hi*4294967296+lo:lo;`;
    } else if (f.type === 'uint32' || isEnum) {
      body = `${wireCheck(f.name, 0)}${readV32('e')}${v}=e${u32};`;
    } else {
      throw new Error(`flow.proto field ${f.name}: type ${f.type} has no decoder`);
    }
    cases.push(`case ${f.id}:{${body}break;}`);
  }
  const src =
    '"use strict";return function decodeFlow(b,p,end){const r=x.newFlowRecord();' +
    'while(p<end){' +
    // Tags of fields < 16 are one byte; ours go up to 250 (two bytes).
    `${readV32('t')}t>>>=0;const w=t&7;` +
    `switch(t>>>3){${cases.join('')}` +
    "case 0:x.fail('field number 0');" +
    'default:p=x.skip(b,p,end,w);}' +
    '}' +
    "if(p!==end)x.fail('last field runs past the end');" +
    'return r;};';
  return (new Function('x', src) as (x: typeof HELPERS) => Decoder)(HELPERS);
}

let compiled: Decoder | undefined;

/**
 * Decodes the FlowMessage in b[start, end) (default: all of b). Throws FlowDecodeError on
 * malformed input. Byte fields longer than 16 bytes are views into `b`.
 */
export function decodeFlowRecord(b: Uint8Array, start = 0, end = b.length): FlowRecord {
  compiled ??= compileDecoder();
  if (start < 0 || end > b.length || start > end) throw new RangeError(`decodeFlowRecord: bad range [${start}, ${end}) of ${b.length} bytes`);
  return compiled(b, start, end);
}
