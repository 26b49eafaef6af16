/**
 * Decodes canonical records with the real `protoc --decode` (Debian protobuf-compiler)
 * against codecs/flow.proto: an oracle for the bytes the gateway publishes that shares no
 * code with our decoder.
 *
 * One protoc process for any number of records: each value is wrapped as field 1 of
 * flowgate.test.FlowList (test/support/kafka/flow-list.proto: `repeated flowpb.FlowMessage
 * flows = 1`) — tag 0x0a, varint length, the bytes — and the concatenation goes to stdin of
 *
 *   protoc --decode=flowgate.test.FlowList -I codecs -I test/support/kafka flow-list.proto
 *
 * protoc prints text format: `name: value` lines, `name { ... }` for messages, fields at
 * their proto3 default omitted, enums by name, repeated fields as one line per element,
 * bytes as C-escaped quoted strings (printable ASCII verbatim; \n \r \t \" \' \\; octal
 * \NNN for everything else). The parser below turns that back into plain objects:
 * numbers and enums stay strings (uint64 exceeds 2^53), bytes become Buffers, and the
 * protobufjs reflection of flow.proto only says which fields are repeated or bytes — the
 * values all come from protoc.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { flowMessageType } from '../../src/canonical/schema';
import { ipToText } from '../../src/util/ip';
import { requireTool } from './tools';

// Compiled to dist/test/support/protoc.js: the repository root is three levels up.
const repoRoot = path.resolve(__dirname, '../../..');
const PROTO_DIR = path.join(repoRoot, 'codecs');
const HELPER_DIR = path.join(repoRoot, 'test', 'support', 'kafka');
const LIST_TYPE = 'flowgate.test.FlowList';
const PROTOC_TIMEOUT_MS = 60_000;

export type ProtocScalar = string | Buffer;
export type ProtocValue = ProtocScalar | ProtocMessage | Array<ProtocScalar | ProtocMessage>;
export interface ProtocMessage {
  [field: string]: ProtocValue;
}
/** One FlowMessage as protoc printed it: only fields protoc printed (non-default) are present. */
export type ProtocFlow = ProtocMessage;

// ---------------------------------------------------------------------------------------
// Text format → generic tree

type TextValue = { kind: 'scalar'; text: string } | { kind: 'bytes'; bytes: Buffer } | { kind: 'message'; fields: TextFields };
type TextFields = Map<string, TextValue[]>;

type Token =
  | { t: 'ident'; v: string }
  | { t: 'string'; v: Buffer }
  | { t: 'punct'; v: string };

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a, r: 0x0d, t: 0x09, '"': 0x22, "'": 0x27, '\\': 0x5c, a: 0x07, b: 0x08, f: 0x0c, v: 0x0b, '?': 0x3f,
};

/**
 * The quoted string starting at `text[start]` (a quote) → its bytes and the index after the
 * closing quote. `text` is protoc's output read as latin1, so each char is one output byte.
 */
export function unescapeProtocString(text: string, start: number): { bytes: Buffer; end: number } {
  const quote = text[start];
  const out: number[] = [];
  let i = start + 1;
  for (;;) {
    if (i >= text.length) throw new Error(`protoc text: unterminated string at ${start}`);
    const c = text[i];
    if (c === quote) return { bytes: Buffer.from(out), end: i + 1 };
    if (c === '\n') throw new Error(`protoc text: newline inside string at ${i}`);
    if (c !== '\\') {
      out.push(text.charCodeAt(i));
      i++;
      continue;
    }
    const e = text[i + 1];
    if (e === undefined) throw new Error(`protoc text: dangling backslash at ${i}`);
    if (e >= '0' && e <= '7') {
      // Up to three octal digits (CEscape always writes three; accept fewer as C does).
      let j = i + 1;
      let v = 0;
      while (j < i + 4 && text[j] >= '0' && text[j] <= '7') v = v * 8 + (text.charCodeAt(j++) - 48);
      if (v > 0xff) throw new Error(`protoc text: octal escape out of range at ${i}`);
      out.push(v);
      i = j;
    } else if (e === 'x' || e === 'X') {
      let j = i + 2;
      let v = 0;
      while (j < i + 4 && /[0-9a-fA-F]/.test(text[j] ?? '')) v = v * 16 + parseInt(text[j++], 16);
      if (j === i + 2) throw new Error(`protoc text: \\x without hex digits at ${i}`);
      out.push(v);
      i = j;
    } else if (e in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[e]);
      i += 2;
    } else {
      throw new Error(`protoc text: unknown escape \\${e} at ${i}`);
    }
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === ',' || c === ';') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      const { bytes, end } = unescapeProtocString(text, i);
      const prev = tokens[tokens.length - 1];
      // Adjacent literals concatenate, as in C and in the text-format grammar.
      if (prev && prev.t === 'string') prev.v = Buffer.concat([prev.v, bytes]);
      else tokens.push({ t: 'string', v: bytes });
      i = end;
    } else if (c === '{' || c === '}' || c === ':' || c === '<' || c === '>' || c === '[' || c === ']') {
      tokens.push({ t: 'punct', v: c });
      i++;
    } else {
      const m = /^[A-Za-z0-9_.+-]+/.exec(text.slice(i, i + 512));
      if (!m) throw new Error(`protoc text: unexpected character ${JSON.stringify(c)} at ${i}`);
      tokens.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

function add(fields: TextFields, name: string, v: TextValue): void {
  const list = fields.get(name);
  if (list) list.push(v);
  else fields.set(name, [v]);
}

/** Parses protoc's text format (the output of --decode) into a field → values tree. */
function parseTextFormat(text: string): TextFields {
  const tokens = tokenize(text);
  let p = 0;
  function message(close: string | null): TextFields {
    const fields: TextFields = new Map();
    for (;;) {
      const tok = tokens[p];
      if (tok === undefined) {
        if (close !== null) throw new Error(`protoc text: missing "${close}"`);
        return fields;
      }
      if (tok.t === 'punct' && tok.v === close) {
        p++;
        return fields;
      }
      if (tok.t !== 'ident') throw new Error(`protoc text: expected a field name, got ${JSON.stringify(tok)}`);
      const name = tok.v;
      p++;
      let next = tokens[p];
      if (next?.t === 'punct' && next.v === ':') {
        p++;
        next = tokens[p];
      }
      if (next === undefined) throw new Error(`protoc text: field ${name} without a value`);
      if (next.t === 'punct' && (next.v === '{' || next.v === '<')) {
        p++;
        add(fields, name, { kind: 'message', fields: message(next.v === '{' ? '}' : '>') });
      } else if (next.t === 'string') {
        p++;
        add(fields, name, { kind: 'bytes', bytes: next.v });
      } else if (next.t === 'ident') {
        p++;
        add(fields, name, { kind: 'scalar', text: next.v });
      } else {
        throw new Error(`protoc text: unexpected ${JSON.stringify(next)} after ${name}`);
      }
    }
  }
  return message(null);
}

// ---------------------------------------------------------------------------------------
// Generic tree → plain objects, shaped by the schema (repeated → array)

function shape(fields: TextFields, type: protobuf.Type | null): ProtocMessage {
  const o: ProtocMessage = {};
  for (const [name, values] of fields) {
    const field = type?.fields[name] ?? null;
    const sub = field?.resolvedType instanceof protobuf.Type ? field.resolvedType : null;
    const plain = values.map((v): ProtocScalar | ProtocMessage => {
      if (v.kind === 'message') return shape(v.fields, sub);
      if (v.kind === 'bytes') {
        // protoc quotes string fields too; flow.proto has none, but keep text for them.
        return field?.type === 'string' ? v.bytes.toString('utf8') : v.bytes;
      }
      return v.text;
    });
    // Unknown fields (numbers as names, schema skew) repeat only if printed more than once.
    if (field ? field.repeated : plain.length > 1) o[name] = plain;
    else o[name] = plain[plain.length - 1];
  }
  return o;
}

/** Text that `protoc --decode=flowgate.test.FlowList` printed → one object per flow. */
export function parseProtocFlowList(text: string): ProtocFlow[] {
  const top = parseTextFormat(text);
  for (const k of top.keys()) if (k !== 'flows') throw new Error(`protoc text: unexpected top-level field ${k}`);
  const type = flowMessageType();
  return (top.get('flows') ?? []).map((v) => {
    // An all-default record prints as "flows {\n}", still one message.
    if (v.kind !== 'message') throw new Error('protoc text: flows is not a message');
    return shape(v.fields, type);
  });
}

function varint(n: number): Buffer {
  const b: number[] = [];
  while (n > 0x7f) {
    b.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  b.push(n);
  return Buffer.from(b);
}

/** The values as one serialized FlowList: field 1, wire type 2, for each. */
export function wrapAsFlowList(values: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) parts.push(Buffer.from([0x0a]), varint(v.length), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  return Buffer.concat(parts);
}

/** Decodes canonical records (raw framing: one FlowMessage each) with one protoc call. */
export function decodeWithProtoc(values: readonly Uint8Array[]): Promise<ProtocFlow[]> {
  const protoc = requireTool('protoc', 'protobuf-compiler');
  const input = wrapAsFlowList(values);
  const args = [`--decode=${LIST_TYPE}`, `-I${PROTO_DIR}`, `-I${HELPER_DIR}`, 'flow-list.proto'];
  return new Promise<ProtocFlow[]>((resolve, reject) => {
    const child = spawn(protoc, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (err.length < 16_384) err += s;
    });
    // protoc exits on bad input before reading everything: EPIPE is reported by the exit code.
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), PROTOC_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`protoc ${args.join(' ')}: ${signal ? `killed by ${signal}` : `exit code ${code}`}: ${err.trim()}`));
        return;
      }
      try {
        const flows = parseProtocFlowList(Buffer.concat(out).toString('latin1'));
        if (flows.length !== values.length) {
          throw new Error(`protoc printed ${flows.length} flows for ${values.length} values`);
        }
        resolve(flows);
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.end(input);
  });
}

// ---------------------------------------------------------------------------------------
// Comparison with `flowgate decode` (flowToJson)

/** The subset of flowToJson's shape (src/canonical/flow-json.ts) that tests compare with protoc. */
export interface ComparableFlow {
  type: string;
  time_received_ns: string;
  sequence_num: number;
  sampling_rate: number;
  sampler_address: string;
  time_flow_start_ns: string;
  time_flow_end_ns: string;
  bytes: number;
  packets: number;
  src_addr: string;
  dst_addr: string;
  etype: number;
  proto: number;
  src_port: number;
  dst_port: number;
  in_if: number;
  out_if: number;
  ip_tos: number;
  tcp_flags: number;
  src_as: number;
  dst_as: number;
  observation_domain_id: number;
}

export const COMPARABLE_FIELDS: ReadonlyArray<keyof ComparableFlow> = [
  'type', 'time_received_ns', 'sequence_num', 'sampling_rate', 'sampler_address', 'time_flow_start_ns',
  'time_flow_end_ns', 'bytes', 'packets', 'src_addr', 'dst_addr', 'etype', 'proto', 'src_port', 'dst_port',
  'in_if', 'out_if', 'ip_tos', 'tcp_flags', 'src_as', 'dst_as', 'observation_domain_id',
];

function scalar(f: ProtocFlow, name: string): string | undefined {
  const v = f[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`protoc flow: ${name} is not a scalar`);
  return v;
}

function num(f: ProtocFlow, name: string): number {
  const s = scalar(f, name);
  if (s === undefined) return 0;
  const n = Number(s);
  // flowToJson holds these as JS numbers too; refuse to compare a value neither side can hold.
  if (!Number.isSafeInteger(n)) throw new Error(`protoc flow: ${name} = ${s} is not a safe integer`);
  return n;
}

function nsText(f: ProtocFlow, name: string): string {
  const s = scalar(f, name);
  if (s === undefined) return '0';
  if (!/^\d+$/.test(s)) throw new Error(`protoc flow: ${name} = ${s} is not an unsigned integer`);
  return s;
}

function addr(f: ProtocFlow, name: string): string {
  const v = f[name];
  if (v === undefined) return '';
  if (!Buffer.isBuffer(v)) throw new Error(`protoc flow: ${name} is not bytes`);
  return ipToText(v);
}

/** protoc's view of one flow in flowToJson's shape, defaults filled in as proto3 defines them. */
export function protocFlowToComparable(f: ProtocFlow): ComparableFlow {
  return {
    type: scalar(f, 'type') ?? 'FLOWUNKNOWN',
    time_received_ns: nsText(f, 'time_received_ns'),
    sequence_num: num(f, 'sequence_num'),
    sampling_rate: num(f, 'sampling_rate'),
    sampler_address: addr(f, 'sampler_address'),
    time_flow_start_ns: nsText(f, 'time_flow_start_ns'),
    time_flow_end_ns: nsText(f, 'time_flow_end_ns'),
    bytes: num(f, 'bytes'),
    packets: num(f, 'packets'),
    src_addr: addr(f, 'src_addr'),
    dst_addr: addr(f, 'dst_addr'),
    etype: num(f, 'etype'),
    proto: num(f, 'proto'),
    src_port: num(f, 'src_port'),
    dst_port: num(f, 'dst_port'),
    in_if: num(f, 'in_if'),
    out_if: num(f, 'out_if'),
    ip_tos: num(f, 'ip_tos'),
    tcp_flags: num(f, 'tcp_flags'),
    src_as: num(f, 'src_as'),
    dst_as: num(f, 'dst_as'),
    observation_domain_id: num(f, 'observation_domain_id'),
  };
}

/** The same subset picked from a flowToJson object (e.g. a `flowgate decode` JSON line). */
export function pickComparable(json: Record<string, unknown>): Record<keyof ComparableFlow, unknown> {
  const o = {} as Record<keyof ComparableFlow, unknown>;
  for (const k of COMPARABLE_FIELDS) o[k] = json[k];
  return o;
}
