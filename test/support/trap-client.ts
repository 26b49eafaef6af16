// An independent TRAP input interface + UniRec reader for tests, written from the protocol facts
// in ../shared/DESIGN.md §5 alone. It shares no code with src/ on purpose: a test that encodes and
// decodes with the same code proves nothing about the wire format.
//
//   hello:      [u8 data type][3 zero bytes][u32 BE spec length][spec]
//   container:  [u32 BE payload length][u64 LE sequence][u16 LE message count][payload]
//   legacy:     [u32 BE payload length][payload]
//   file:       hello, then [u32 BE payload length][payload] blocks
//   payload:    [u16 BE record length][record] ...; a 1-byte record 00 ends the stream
//   record:     fixed fields (size descending, then name), 4-byte slots of variable fields
//               (u16 LE offset from the end of the fixed part, u16 LE length), variable data

import { readFileSync } from 'node:fs';
import * as net from 'node:net';

export type FieldValue = string | number | bigint;
export type DecodedRecord = Record<string, FieldValue>;

interface SpecField {
  type: string;
  name: string;
  size: number;
  offset: number;
}

export interface SpecLayout {
  fields: SpecField[];
  fixedSize: number;
}

const SIZES: Record<string, number> = {
  ipaddr: 16, macaddr: 6, time: 8, uint64: 8, int64: 8, double: 8, uint32: 4, int32: 4, float: 4,
  uint16: 2, int16: 2, uint8: 1, int8: 1, char: 1, string: -1, bytes: -1,
};

/** Layout as UniRec defines it, computed here from the facts, independently of the server. */
export function layoutOf(spec: string): SpecLayout {
  const raw = spec.split(',').map((p) => {
    const [type, name] = p.split(' ');
    const size = SIZES[type];
    if (size === undefined || !name) throw new Error(`bad spec item ${JSON.stringify(p)}`);
    return { type, name, size };
  });
  const cmpName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const fixed = raw.filter((f) => f.size > 0).sort((a, b) => b.size - a.size || cmpName(a, b));
  const varLen = raw.filter((f) => f.size < 0).sort(cmpName);
  let off = 0;
  const fields: SpecField[] = [];
  for (const f of fixed) { fields.push({ ...f, offset: off }); off += f.size; }
  for (const f of varLen) { fields.push({ ...f, offset: off }); off += 4; }
  return { fields, fixedSize: off };
}

function ipText(b: Buffer): string {
  const v4 = b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt32BE(12) === 0xffffffff;
  if (v4) return `${b[8]}.${b[9]}.${b[10]}.${b[11]}`;
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(b.readUInt16BE(i).toString(16).padStart(4, '0'));
  return g.join(':');
}

/** `time` → integer microseconds since 1970 (rounded from the 2^-32 s fraction). */
export function timeToMicros(lo: number, hi: number): number {
  return hi * 1e6 + Math.round((lo * 1e6) / 4294967296);
}

export function decodeRecord(layout: SpecLayout, r: Buffer): DecodedRecord {
  if (r.length < layout.fixedSize) throw new Error(`record of ${r.length} bytes is shorter than the fixed part ${layout.fixedSize}`);
  const out: DecodedRecord = {};
  for (const f of layout.fields) {
    const o = f.offset;
    switch (f.type) {
      case 'ipaddr': out[f.name] = ipText(r.subarray(o, o + 16)); break;
      case 'macaddr': out[f.name] = [...r.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':'); break;
      case 'time': out[f.name] = timeToMicros(r.readUInt32LE(o), r.readUInt32LE(o + 4)); break;
      case 'uint64': out[f.name] = r.readBigUInt64LE(o); break;
      case 'uint32': out[f.name] = r.readUInt32LE(o); break;
      case 'uint16': out[f.name] = r.readUInt16LE(o); break;
      case 'uint8': out[f.name] = r[o]; break;
      case 'string':
      case 'bytes': {
        const start = layout.fixedSize + r.readUInt16LE(o);
        const len = r.readUInt16LE(o + 2);
        if (start + len > r.length) throw new Error(`${f.name}: variable data past the record end`);
        const d = r.subarray(start, start + len);
        out[f.name] = f.type === 'string' ? d.toString('utf8') : d.toString('hex');
        break;
      }
      default: throw new Error(`type ${f.type} not decoded by the test client`);
    }
  }
  return out;
}

export interface Container {
  sequence: number;
  count: number;
  records: Buffer[];
}

/** Splits a payload into its records; checks every length prefix stays inside it. */
export function splitPayload(p: Buffer): Buffer[] {
  const recs: Buffer[] = [];
  let i = 0;
  while (i < p.length) {
    if (i + 2 > p.length) throw new Error('torn record length prefix');
    const n = p.readUInt16BE(i);
    if (i + 2 + n > p.length) throw new Error('record runs past its container');
    recs.push(p.subarray(i + 2, i + 2 + n));
    i += 2 + n;
  }
  return recs;
}

export interface Hello {
  dataType: number;
  spec: string;
}

export type Framing = 'container' | 'legacy';

/** Incremental TRAP stream parser: feed bytes, get the hello, containers and end of stream. */
export class TrapStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  hello?: Hello;
  layout?: SpecLayout;
  readonly containers: Container[] = [];
  readonly records: DecodedRecord[] = [];
  eos = false;
  recordCount = 0;

  constructor(private readonly framing: Framing = 'container', private readonly keepRecords = true) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (!this.hello) {
        if (this.buf.length < 8) return;
        if (this.buf[1] !== 0 || this.buf[2] !== 0 || this.buf[3] !== 0) throw new Error('hello: bytes 1-3 not zero');
        const len = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + len) return;
        const spec = this.buf.subarray(8, 8 + len).toString('utf8');
        if (spec.includes('\0')) throw new Error('hello: spec carries a NUL');
        this.hello = { dataType: this.buf[0], spec };
        this.layout = layoutOf(spec);
        this.buf = this.buf.subarray(8 + len);
        continue;
      }
      const hdr = this.framing === 'container' ? 14 : 4;
      if (this.buf.length < hdr) return;
      const len = this.buf.readUInt32BE(0);
      if (len > 99_986) throw new Error(`payload of ${len} bytes exceeds 99,986`);
      if (this.buf.length < hdr + len) return;
      const seq = this.framing === 'container' ? Number(this.buf.readBigUInt64LE(4)) : -1;
      const count = this.framing === 'container' ? this.buf.readUInt16LE(12) : -1;
      const recs = splitPayload(Buffer.from(this.buf.subarray(hdr, hdr + len)));
      this.buf = this.buf.subarray(hdr + len);
      if (count >= 0 && recs.length !== count) throw new Error(`container says ${count} messages, holds ${recs.length}`);
      if (recs.length === 1 && recs[0].length === 1 && recs[0][0] === 0) {
        this.eos = true;
        continue;
      }
      if (this.eos) throw new Error('data after end of stream');
      this.containers.push({ sequence: seq, count: recs.length, records: this.keepRecords ? recs : [] });
      this.recordCount += recs.length;
      if (this.keepRecords) for (const r of recs) this.records.push(decodeRecord(this.layout as SpecLayout, r));
    }
  }

  /** Bytes received but not yet a complete unit. */
  get pending(): number {
    return this.buf.length;
  }
}

/** A module's input interface: connects (TCP or UNIX socket) and parses what the server sends. */
export class TrapTestClient {
  readonly parser: TrapStreamParser;
  readonly socket: net.Socket;
  closed = false;
  error?: Error;

  private constructor(socket: net.Socket, framing: Framing, keepRecords: boolean) {
    this.socket = socket;
    this.parser = new TrapStreamParser(framing, keepRecords);
    socket.on('data', (d: Buffer) => {
      try {
        this.parser.push(d);
      } catch (e) {
        this.error = e as Error;
        socket.destroy();
      }
    });
    socket.on('error', (e) => { this.error ??= e; });
    socket.on('close', () => { this.closed = true; });
  }

  static connect(to: { host: string; port: number } | { path: string }, opts: { framing?: Framing; keepRecords?: boolean } = {}): Promise<TrapTestClient> {
    return new Promise((res, rej) => {
      const s = 'path' in to ? net.connect(to.path) : net.connect(to.port, to.host);
      s.once('error', rej);
      s.once('connect', () => {
        s.off('error', rej);
        res(new TrapTestClient(s, opts.framing ?? 'container', opts.keepRecords ?? true));
      });
    });
  }

  /** Stops reading: the kernel buffers fill and the server's queue for this client grows. */
  stall(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Reads TRAP files (each with its own hello), returns the spec and every record in order. */
export function readTrapFiles(paths: readonly string[]): { spec: string; records: DecodedRecord[]; eos: boolean } {
  let spec = '';
  const records: DecodedRecord[] = [];
  let eos = false;
  for (const p of paths) {
    const b = readFileSync(p);
    if (b.length < 8) throw new Error(`${p}: no hello`);
    const len = b.readUInt32BE(4);
    const s = b.subarray(8, 8 + len).toString('utf8');
    if (spec && s !== spec) throw new Error(`${p}: spec differs from the previous file's`);
    spec = s;
    const layout = layoutOf(s);
    let i = 8 + len;
    while (i < b.length) {
      if (i + 4 > b.length) throw new Error(`${p}: torn block header`);
      const n = b.readUInt32BE(i);
      if (i + 4 + n > b.length) throw new Error(`${p}: torn block`);
      for (const r of splitPayload(b.subarray(i + 4, i + 4 + n))) {
        if (r.length === 1 && r[0] === 0) eos = true;
        else records.push(decodeRecord(layout, r));
      }
      i += 4 + n;
    }
  }
  return { spec, records, eos };
}
