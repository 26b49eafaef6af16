// Builders of VALID flow-export datagrams, written from the specifications rather than from
// the decoders, so that tests check the decoders against the formats and not against
// themselves:
//
// - NetFlow v5: Cisco's export format (24-byte header, 48-byte records).
// - NetFlow v9: RFC 3954 (20-byte header; flowset 0 templates, 1 options templates, >= 256
//   data; flowsets padded to 4 bytes; header count = all records of the packet).
// - IPFIX: RFC 7011 (16-byte message header with total length; set 2 templates, 3 options
//   templates, >= 256 data; enterprise bit + PEN; variable-length encoding 1 byte or 255 +
//   2 bytes; withdrawal = template record with field count 0, RFC 7011 §8.1).
// - sFlow v5: sflow_version_5.txt (XDR, 32-bit big-endian words, opaque<> padded to 4; flow
//   sample 1, counter sample 2, expanded flow sample 3, expanded counter sample 4).
//
// Every builder returns the bytes together with where their length and count fields are and
// where each set / flowset / sample / record sits, so fuzz tests can mutate exactly those.

export const VARIABLE_LENGTH = 65535;

/** A length or count field of a built datagram: the place to write absurd values into. */
export interface LengthField {
  offset: number;
  size: 1 | 2 | 4;
  what: string;
}

/** A contiguous unit after the header: v9 flowset, IPFIX set, sFlow sample or v5 record. */
export interface Span {
  offset: number;
  length: number;
  what: string;
}

export type BuiltProtocol = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow';

export interface BuiltDatagram {
  protocol: BuiltProtocol;
  bytes: Buffer;
  /** Bytes before the first span (the datagram / message header). */
  headerLength: number;
  lengthFields: LengthField[];
  /** In order and contiguous from headerLength; bytes after the last span are trailing padding. */
  spans: Span[];
  /**
   * Flow records a decoder with fresh state should produce from this datagram alone: v5
   * records, v9/IPFIX records of data-template data sets (options data gives none), sFlow
   * (expanded) flow samples. Assumes every data set's template is in the same datagram.
   */
  flows: number;
  /** sFlow generic interface counter records. */
  counters: number;
  /** v9/IPFIX: ids of the (options) templates the datagram defines. */
  templateIds: number[];
}

// ---------------------------------------------------------------------------------------------
// Byte writer

export type FieldValue = number | bigint | Uint8Array | readonly number[];

/** Growable big-endian writer that remembers the length fields it was told about. */
export class ByteWriter {
  private buf = Buffer.alloc(512);
  private n = 0;
  readonly lengthFields: LengthField[] = [];

  get length(): number {
    return this.n;
  }

  private ensure(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const nb = Buffer.alloc(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(nb, 0, 0, this.n);
    this.buf = nb;
  }

  private mark(offset: number, size: 1 | 2 | 4, what: string | undefined): number {
    if (what !== undefined) this.lengthFields.push({ offset, size, what });
    return offset;
  }

  u8(v: number, what?: string): number {
    this.ensure(1);
    const at = this.n;
    this.buf.writeUInt8(v & 0xff, at);
    this.n += 1;
    return this.mark(at, 1, what);
  }

  u16(v: number, what?: string): number {
    this.ensure(2);
    const at = this.n;
    this.buf.writeUInt16BE(v & 0xffff, at);
    this.n += 2;
    return this.mark(at, 2, what);
  }

  u32(v: number, what?: string): number {
    this.ensure(4);
    const at = this.n;
    this.buf.writeUInt32BE(v >>> 0, at);
    this.n += 4;
    return this.mark(at, 4, what);
  }

  u64(v: number | bigint): void {
    this.ensure(8);
    this.buf.writeBigUInt64BE(BigInt.asUintN(64, BigInt(v)), this.n);
    this.n += 8;
  }

  /** Unsigned big-endian integer in exactly `size` bytes (reduced-size encoding). */
  uintN(v: number | bigint, size: number): void {
    let x = BigInt.asUintN(Math.max(8 * size, 1), BigInt(v));
    this.ensure(size);
    for (let i = size - 1; i >= 0; i--) {
      this.buf[this.n + i] = Number(x & 0xffn);
      x >>= 8n;
    }
    this.n += size;
  }

  bytes(b: Uint8Array | readonly number[]): void {
    this.ensure(b.length);
    for (let i = 0; i < b.length; i++) this.buf[this.n + i] = b[i] & 0xff;
    this.n += b.length;
  }

  zeros(k: number): void {
    this.ensure(k);
    this.buf.fill(0, this.n, this.n + k);
    this.n += k;
  }

  pad4(): void {
    this.zeros((4 - (this.n % 4)) % 4);
  }

  set16(offset: number, v: number): void {
    this.buf.writeUInt16BE(v & 0xffff, offset);
  }

  set32(offset: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, offset);
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.n));
  }
}

function toBytes(v: FieldValue): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return Uint8Array.from(v as readonly number[]);
  throw new Error('a variable-length field needs a byte value (Uint8Array or number[])');
}

// ---------------------------------------------------------------------------------------------
// NetFlow v5

export interface Nf5Record {
  srcAddr: readonly number[];
  dstAddr: readonly number[];
  nextHop: readonly number[];
  input: number;
  output: number;
  packets: number;
  octets: number;
  /** sysUptime ms at the first / last packet. */
  first: number;
  last: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  proto: number;
  tos: number;
  srcAs: number;
  dstAs: number;
  srcMask: number;
  dstMask: number;
}

export const NF5_DEFAULT_RECORD: Nf5Record = {
  srcAddr: [192, 0, 2, 10],
  dstAddr: [198, 51, 100, 20],
  nextHop: [192, 0, 2, 1],
  input: 1,
  output: 2,
  packets: 10,
  octets: 1500,
  first: 1000,
  last: 2000,
  srcPort: 40000,
  dstPort: 443,
  tcpFlags: 0x1b,
  proto: 6,
  tos: 0,
  srcAs: 64500,
  dstAs: 64501,
  srcMask: 24,
  dstMask: 16,
};

export interface Nf5Datagram {
  /** Header count; defaults to the number of records. */
  count?: number;
  uptimeMs?: number;
  unixSecs?: number;
  unixNsecs?: number;
  sequence?: number;
  engineType?: number;
  engineId?: number;
  /** 2-bit sampling mode and 14-bit interval, as in the header's last 16 bits. */
  samplingMode?: number;
  samplingInterval?: number;
  records: ReadonlyArray<Partial<Nf5Record>>;
}

export function netflow5(d: Nf5Datagram): BuiltDatagram {
  const w = new ByteWriter();
  w.u16(5);
  w.u16(d.count ?? d.records.length, 'v5 header count');
  w.u32(d.uptimeMs ?? 3_600_000);
  w.u32(d.unixSecs ?? 1_700_000_000);
  w.u32(d.unixNsecs ?? 0);
  w.u32(d.sequence ?? 0);
  w.u8(d.engineType ?? 0);
  w.u8(d.engineId ?? 0);
  w.u16(((d.samplingMode ?? 0) << 14) | ((d.samplingInterval ?? 0) & 0x3fff));
  const spans: Span[] = [];
  for (const partial of d.records) {
    const r: Nf5Record = { ...NF5_DEFAULT_RECORD, ...partial };
    const at = w.length;
    w.bytes(r.srcAddr);
    w.bytes(r.dstAddr);
    w.bytes(r.nextHop);
    w.u16(r.input);
    w.u16(r.output);
    w.u32(r.packets);
    w.u32(r.octets);
    w.u32(r.first);
    w.u32(r.last);
    w.u16(r.srcPort);
    w.u16(r.dstPort);
    w.u8(0); // pad1
    w.u8(r.tcpFlags);
    w.u8(r.proto);
    w.u8(r.tos);
    w.u16(r.srcAs);
    w.u16(r.dstAs);
    w.u8(r.srcMask);
    w.u8(r.dstMask);
    w.u16(0); // pad2
    spans.push({ offset: at, length: 48, what: 'v5 record' });
  }
  return {
    protocol: 'netflow5',
    bytes: w.finish(),
    headerLength: 24,
    lengthFields: w.lengthFields,
    spans,
    flows: d.records.length,
    counters: 0,
    templateIds: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Templates (NetFlow v9 and IPFIX)

export interface FieldSpec {
  /** Field type (v9) / Information Element id (IPFIX, without the enterprise bit). */
  id: number;
  /** Octets; VARIABLE_LENGTH (65535) for IPFIX variable-length encoding. */
  length: number;
  /** IPFIX Private Enterprise Number; absent or 0 for IANA elements and for v9. */
  enterprise?: number;
}

export interface TemplateDef {
  id: number;
  fields: readonly FieldSpec[];
}

export interface OptionsTemplateDef {
  id: number;
  scope: readonly FieldSpec[];
  options: readonly FieldSpec[];
}

/** A data set / data flowset: records in the template's field order. */
export interface DataSetDef {
  kind: 'data';
  id: number;
  fields: readonly FieldSpec[];
  records: ReadonlyArray<readonly FieldValue[]>;
  /** Whether its records become flows (data template) or not (options data). */
  flows: boolean;
}

/** Raw set: any id and body, for tests that need a set the builders do not model. */
export interface RawSetDef {
  kind: 'raw';
  id: number;
  body: Uint8Array;
}

export function dataSet(t: TemplateDef, records: ReadonlyArray<readonly FieldValue[]>): DataSetDef {
  return { kind: 'data', id: t.id, fields: t.fields, records, flows: true };
}

export function optionsDataSet(t: OptionsTemplateDef, records: ReadonlyArray<readonly FieldValue[]>): DataSetDef {
  return { kind: 'data', id: t.id, fields: [...t.scope, ...t.options], records, flows: false };
}

/** Smallest record of a template: fixed lengths plus one prefix byte per variable-length field. */
export function minRecordLength(fields: readonly FieldSpec[]): number {
  let n = 0;
  for (const f of fields) n += f.length === VARIABLE_LENGTH ? 1 : f.length;
  return n;
}

function writeFieldValue(w: ByteWriter, f: FieldSpec, v: FieldValue): void {
  if (f.length === VARIABLE_LENGTH) {
    const b = toBytes(v);
    if (b.length > 0xffff) throw new Error(`variable-length value of ${b.length} bytes`);
    if (b.length < 255) {
      w.u8(b.length, 'IPFIX variable-length prefix');
    } else {
      w.u8(255, 'IPFIX variable-length escape (255)');
      w.u16(b.length, 'IPFIX variable-length 16-bit length');
    }
    w.bytes(b);
    return;
  }
  if (typeof v === 'number' || typeof v === 'bigint') {
    w.uintN(v, f.length);
    return;
  }
  const b = toBytes(v);
  if (b.length !== f.length) throw new Error(`field ${f.id} is ${f.length} bytes, value has ${b.length}`);
  w.bytes(b);
}

function writeRecords(w: ByteWriter, s: DataSetDef): void {
  for (const rec of s.records) {
    if (rec.length !== s.fields.length) throw new Error(`record of ${rec.length} values for ${s.fields.length} fields`);
    for (let i = 0; i < rec.length; i++) writeFieldValue(w, s.fields[i], rec[i]);
  }
}

// ---------------------------------------------------------------------------------------------
// NetFlow v9 (RFC 3954)

export type V9FlowSet =
  | { kind: 'template'; templates: readonly TemplateDef[] }
  | { kind: 'options_template'; templates: readonly OptionsTemplateDef[] }
  | DataSetDef
  | RawSetDef;

export interface V9Datagram {
  /** Header count; defaults to all template, options template and data records (RFC 3954 §5.1). */
  count?: number;
  uptimeMs?: number;
  unixSecs?: number;
  sequence?: number;
  sourceId?: number;
  flowsets: readonly V9FlowSet[];
  /** Pad every flowset to a 4-byte boundary (RFC 3954 §5.3: SHOULD); default true. */
  pad?: boolean;
}

export function netflow9(d: V9Datagram): BuiltDatagram {
  const w = new ByteWriter();
  w.u16(9);
  const countAt = w.u16(0, 'v9 header count');
  w.u32(d.uptimeMs ?? 3_600_000);
  w.u32(d.unixSecs ?? 1_700_000_000);
  w.u32(d.sequence ?? 0);
  w.u32(d.sourceId ?? 0);
  const spans: Span[] = [];
  const templateIds: number[] = [];
  let records = 0;
  let flows = 0;
  for (const fs of d.flowsets) {
    const at = w.length;
    const id = fs.kind === 'template' ? 0 : fs.kind === 'options_template' ? 1 : fs.id;
    w.u16(id);
    const lenAt = w.u16(0, 'v9 flowset length');
    switch (fs.kind) {
      case 'template':
        for (const t of fs.templates) {
          w.u16(t.id);
          w.u16(t.fields.length, 'v9 template field count');
          for (const f of t.fields) {
            w.u16(f.id);
            w.u16(f.length, 'v9 template field length');
          }
          templateIds.push(t.id);
          records++;
        }
        break;
      case 'options_template':
        for (const t of fs.templates) {
          w.u16(t.id);
          w.u16(t.scope.length * 4, 'v9 option scope length');
          w.u16(t.options.length * 4, 'v9 option length');
          for (const f of [...t.scope, ...t.options]) {
            w.u16(f.id);
            w.u16(f.length, 'v9 options template field length');
          }
          templateIds.push(t.id);
          records++;
        }
        break;
      case 'data':
        writeRecords(w, fs);
        records += fs.records.length;
        if (fs.flows) flows += fs.records.length;
        break;
      case 'raw':
        w.bytes(fs.body);
        break;
    }
    if (d.pad ?? true) w.pad4();
    w.set16(lenAt, w.length - at);
    spans.push({ offset: at, length: w.length - at, what: `v9 ${fs.kind} flowset ${id}` });
  }
  w.set16(countAt, d.count ?? records);
  return { protocol: 'netflow9', bytes: w.finish(), headerLength: 20, lengthFields: w.lengthFields, spans, flows, counters: 0, templateIds };
}

// ---------------------------------------------------------------------------------------------
// IPFIX (RFC 7011)

export const IPFIX_TEMPLATE_SET = 2;
export const IPFIX_OPTIONS_TEMPLATE_SET = 3;

export type IpfixSet =
  | { kind: 'template'; templates: readonly TemplateDef[] }
  | { kind: 'options_template'; templates: readonly OptionsTemplateDef[] }
  /**
   * Template Withdrawal (RFC 7011 §8.1): one 4-byte record (id, field count 0) per id, in set
   * 2 (templates) or 3 (options templates). Id 2 / 3 withdraws all templates of that kind.
   */
  | { kind: 'withdrawal'; options?: boolean; ids: readonly number[] }
  | DataSetDef
  | RawSetDef;

export interface IpfixMessage {
  exportSecs?: number;
  sequence?: number;
  domain?: number;
  sets: readonly IpfixSet[];
  /** Pad every set to a 4-byte boundary (RFC 7011 §3.3.1: MAY); default false. */
  pad?: boolean;
  /** Override of the message length field (defaults to the real length). */
  length?: number;
}

function writeIpfixField(w: ByteWriter, f: FieldSpec, what: string): void {
  const ent = f.enterprise ?? 0;
  w.u16(ent !== 0 ? (f.id & 0x7fff) | 0x8000 : f.id & 0x7fff);
  w.u16(f.length, what);
  if (ent !== 0) w.u32(ent);
}

export function ipfix(m: IpfixMessage): BuiltDatagram {
  const w = new ByteWriter();
  w.u16(10);
  const lengthAt = w.u16(0, 'IPFIX message length');
  w.u32(m.exportSecs ?? 1_700_000_000);
  w.u32(m.sequence ?? 0);
  w.u32(m.domain ?? 0);
  const spans: Span[] = [];
  const templateIds: number[] = [];
  let flows = 0;
  for (const s of m.sets) {
    const at = w.length;
    const id =
      s.kind === 'template' ? IPFIX_TEMPLATE_SET
      : s.kind === 'options_template' ? IPFIX_OPTIONS_TEMPLATE_SET
      : s.kind === 'withdrawal' ? (s.options ? IPFIX_OPTIONS_TEMPLATE_SET : IPFIX_TEMPLATE_SET)
      : s.id;
    w.u16(id);
    const lenAt = w.u16(0, 'IPFIX set length');
    switch (s.kind) {
      case 'template':
        for (const t of s.templates) {
          w.u16(t.id);
          w.u16(t.fields.length, 'IPFIX template field count');
          for (const f of t.fields) writeIpfixField(w, f, 'IPFIX template field length');
          templateIds.push(t.id);
        }
        break;
      case 'options_template':
        for (const t of s.templates) {
          w.u16(t.id);
          w.u16(t.scope.length + t.options.length, 'IPFIX options template field count');
          w.u16(t.scope.length, 'IPFIX options template scope field count');
          for (const f of [...t.scope, ...t.options]) writeIpfixField(w, f, 'IPFIX options template field length');
          templateIds.push(t.id);
        }
        break;
      case 'withdrawal':
        for (const tid of s.ids) {
          w.u16(tid);
          w.u16(0, 'IPFIX withdrawal field count');
        }
        break;
      case 'data':
        writeRecords(w, s);
        if (s.flows) flows += s.records.length;
        break;
      case 'raw':
        w.bytes(s.body);
        break;
    }
    if (m.pad ?? false) w.pad4();
    w.set16(lenAt, w.length - at);
    spans.push({ offset: at, length: w.length - at, what: `IPFIX ${s.kind} set ${id}` });
  }
  w.set16(lengthAt, m.length ?? w.length);
  return { protocol: 'ipfix', bytes: w.finish(), headerLength: 16, lengthFields: w.lengthFields, spans, flows, counters: 0, templateIds };
}

// ---------------------------------------------------------------------------------------------
// sFlow v5 (sflow_version_5.txt)

export type SflowAddress = readonly number[]; // 4 bytes (IPv4, type 1) or 16 bytes (IPv6, type 2)

export type SflowFlowRecord =
  /** sampled_header (format 1): header_protocol 1 Ethernet, 11 IPv4, 12 IPv6, 13 MPLS, ... */
  | { kind: 'raw_header'; protocol: number; frameLength: number; stripped?: number; header: Uint8Array }
  /** sampled_ethernet (format 2). */
  | { kind: 'sampled_ethernet'; length: number; srcMac: readonly number[]; dstMac: readonly number[]; etype: number }
  /** sampled_ipv4 (3) / sampled_ipv6 (4), chosen by the address size. */
  | {
      kind: 'sampled_ip';
      length: number;
      protocol: number;
      src: SflowAddress;
      dst: SflowAddress;
      srcPort: number;
      dstPort: number;
      tcpFlags: number;
      tos: number;
    }
  /** extended_switch (1001). */
  | { kind: 'extended_switch'; srcVlan: number; srcPriority: number; dstVlan: number; dstPriority: number }
  /** extended_router (1002). */
  | { kind: 'extended_router'; nextHop: SflowAddress; srcMask: number; dstMask: number }
  /** extended_gateway (1003). */
  | {
      kind: 'extended_gateway';
      nextHop: SflowAddress;
      as: number;
      srcAs: number;
      srcPeerAs: number;
      asPath: ReadonlyArray<{ type: 1 | 2; asns: readonly number[] }>;
      communities: readonly number[];
      localPref: number;
    }
  /** Any other record (enterprise << 12 | format): collectors skip it by its length. */
  | { kind: 'opaque'; enterprise: number; format: number; data: Uint8Array };

export interface SflowGenericIf {
  ifIndex: number;
  ifType: number;
  ifSpeed: bigint;
  ifDirection: number;
  ifStatus: number;
  ifInOctets: bigint;
  ifInUcastPkts: number;
  ifInMulticastPkts: number;
  ifInBroadcastPkts: number;
  ifInDiscards: number;
  ifInErrors: number;
  ifInUnknownProtos: number;
  ifOutOctets: bigint;
  ifOutUcastPkts: number;
  ifOutMulticastPkts: number;
  ifOutBroadcastPkts: number;
  ifOutDiscards: number;
  ifOutErrors: number;
  ifPromiscuousMode: number;
}

export const SFLOW_DEFAULT_GENERIC_IF: SflowGenericIf = {
  ifIndex: 3,
  ifType: 6,
  ifSpeed: 10_000_000_000n,
  ifDirection: 1,
  ifStatus: 3,
  ifInOctets: 123_456_789_012n,
  ifInUcastPkts: 1000,
  ifInMulticastPkts: 20,
  ifInBroadcastPkts: 3,
  ifInDiscards: 0,
  ifInErrors: 1,
  ifInUnknownProtos: 0,
  ifOutOctets: 98_765_432_109n,
  ifOutUcastPkts: 900,
  ifOutMulticastPkts: 10,
  ifOutBroadcastPkts: 2,
  ifOutDiscards: 4,
  ifOutErrors: 0,
  ifPromiscuousMode: 0,
};

export type SflowCounterRecord =
  | ({ kind: 'generic_if' } & Partial<SflowGenericIf>)
  | { kind: 'opaque'; enterprise: number; format: number; data: Uint8Array };

/** Interface of a flow sample: format 0 = ifIndex, 1 = discarded (reason), 2 = several (count). */
export interface SflowInterface {
  format: number;
  value: number;
}

export interface SflowFlowSample {
  kind: 'flow';
  expanded?: boolean;
  sequence: number;
  sourceType?: number;
  sourceIndex: number;
  samplingRate: number;
  samplePool?: number;
  drops?: number;
  input: SflowInterface;
  output: SflowInterface;
  records: readonly SflowFlowRecord[];
}

export interface SflowCounterSample {
  kind: 'counters';
  expanded?: boolean;
  sequence: number;
  sourceType?: number;
  sourceIndex: number;
  records: readonly SflowCounterRecord[];
}

export type SflowSample =
  | SflowFlowSample
  | SflowCounterSample
  | { kind: 'opaque'; enterprise: number; format: number; data: Uint8Array };

export interface SflowDatagram {
  agent: SflowAddress;
  subAgent?: number;
  sequence?: number;
  uptimeMs?: number;
  samples: readonly SflowSample[];
  /** Override of the sample count (defaults to samples.length). */
  sampleCount?: number;
}

function writeSflowAddress(w: ByteWriter, a: SflowAddress): void {
  if (a.length !== 4 && a.length !== 16) throw new Error(`sFlow address of ${a.length} bytes`);
  w.u32(a.length === 4 ? 1 : 2);
  w.bytes(a);
}

/** XDR opaque<>: 32-bit length, bytes, zero padding to 4. */
function writeOpaque(w: ByteWriter, b: Uint8Array, what: string): void {
  w.u32(b.length, what);
  w.bytes(b);
  w.pad4();
}

/** Writes `format, length, body()`: the shape of every sFlow sample and record. */
function writeTlv(w: ByteWriter, format: number, what: string, body: () => void): void {
  w.u32(format);
  const lenAt = w.u32(0, `${what} length`);
  const start = w.length;
  body();
  w.pad4();
  w.set32(lenAt, w.length - start);
}

function writeFlowRecord(w: ByteWriter, r: SflowFlowRecord): void {
  switch (r.kind) {
    case 'raw_header':
      writeTlv(w, 1, 'sFlow flow record', () => {
        w.u32(r.protocol);
        w.u32(r.frameLength);
        w.u32(r.stripped ?? 4);
        writeOpaque(w, r.header, 'sFlow raw header length');
      });
      return;
    case 'sampled_ethernet':
      writeTlv(w, 2, 'sFlow flow record', () => {
        w.u32(r.length);
        w.bytes(r.srcMac);
        w.zeros(2); // mac is opaque[6], padded to 8
        w.bytes(r.dstMac);
        w.zeros(2);
        w.u32(r.etype);
      });
      return;
    case 'sampled_ip':
      if (r.src.length !== r.dst.length || (r.src.length !== 4 && r.src.length !== 16)) throw new Error('sampled_ip needs two IPv4 or two IPv6 addresses');
      writeTlv(w, r.src.length === 4 ? 3 : 4, 'sFlow flow record', () => {
        w.u32(r.length);
        w.u32(r.protocol);
        w.bytes(r.src);
        w.bytes(r.dst);
        w.u32(r.srcPort);
        w.u32(r.dstPort);
        w.u32(r.tcpFlags);
        w.u32(r.tos);
      });
      return;
    case 'extended_switch':
      writeTlv(w, 1001, 'sFlow flow record', () => {
        w.u32(r.srcVlan);
        w.u32(r.srcPriority);
        w.u32(r.dstVlan);
        w.u32(r.dstPriority);
      });
      return;
    case 'extended_router':
      writeTlv(w, 1002, 'sFlow flow record', () => {
        writeSflowAddress(w, r.nextHop);
        w.u32(r.srcMask);
        w.u32(r.dstMask);
      });
      return;
    case 'extended_gateway':
      writeTlv(w, 1003, 'sFlow flow record', () => {
        writeSflowAddress(w, r.nextHop);
        w.u32(r.as);
        w.u32(r.srcAs);
        w.u32(r.srcPeerAs);
        w.u32(r.asPath.length, 'sFlow AS path segment count');
        for (const seg of r.asPath) {
          w.u32(seg.type);
          w.u32(seg.asns.length, 'sFlow AS path segment ASN count');
          for (const a of seg.asns) w.u32(a);
        }
        w.u32(r.communities.length, 'sFlow community count');
        for (const c of r.communities) w.u32(c);
        w.u32(r.localPref);
      });
      return;
    case 'opaque':
      writeTlv(w, ((r.enterprise << 12) | (r.format & 0xfff)) >>> 0, 'sFlow flow record', () => w.bytes(r.data));
      return;
  }
}

function writeCounterRecord(w: ByteWriter, r: SflowCounterRecord): void {
  if (r.kind === 'opaque') {
    writeTlv(w, ((r.enterprise << 12) | (r.format & 0xfff)) >>> 0, 'sFlow counter record', () => w.bytes(r.data));
    return;
  }
  const c: SflowGenericIf = { ...SFLOW_DEFAULT_GENERIC_IF, ...stripKind(r) };
  writeTlv(w, 1, 'sFlow counter record', () => {
    w.u32(c.ifIndex);
    w.u32(c.ifType);
    w.u64(c.ifSpeed);
    w.u32(c.ifDirection);
    w.u32(c.ifStatus);
    w.u64(c.ifInOctets);
    w.u32(c.ifInUcastPkts);
    w.u32(c.ifInMulticastPkts);
    w.u32(c.ifInBroadcastPkts);
    w.u32(c.ifInDiscards);
    w.u32(c.ifInErrors);
    w.u32(c.ifInUnknownProtos);
    w.u64(c.ifOutOctets);
    w.u32(c.ifOutUcastPkts);
    w.u32(c.ifOutMulticastPkts);
    w.u32(c.ifOutBroadcastPkts);
    w.u32(c.ifOutDiscards);
    w.u32(c.ifOutErrors);
    w.u32(c.ifPromiscuousMode);
  });
}

function stripKind(r: { kind: 'generic_if' } & Partial<SflowGenericIf>): Partial<SflowGenericIf> {
  const { kind: _kind, ...rest } = r;
  void _kind;
  return rest;
}

export function sflow(d: SflowDatagram): BuiltDatagram {
  const w = new ByteWriter();
  w.u32(5);
  writeSflowAddress(w, d.agent);
  w.u32(d.subAgent ?? 0);
  w.u32(d.sequence ?? 1);
  w.u32(d.uptimeMs ?? 3_600_000);
  w.u32(d.sampleCount ?? d.samples.length, 'sFlow sample count');
  const headerLength = w.length;
  const spans: Span[] = [];
  let flows = 0;
  let counters = 0;
  for (const s of d.samples) {
    const at = w.length;
    switch (s.kind) {
      case 'flow':
        flows++;
        writeTlv(w, s.expanded ? 3 : 1, 'sFlow sample', () => {
          w.u32(s.sequence);
          if (s.expanded) {
            w.u32(s.sourceType ?? 0);
            w.u32(s.sourceIndex);
          } else {
            w.u32((((s.sourceType ?? 0) & 0xff) << 24) | (s.sourceIndex & 0xffffff));
          }
          w.u32(s.samplingRate);
          w.u32(s.samplePool ?? 0);
          w.u32(s.drops ?? 0);
          if (s.expanded) {
            w.u32(s.input.format);
            w.u32(s.input.value);
            w.u32(s.output.format);
            w.u32(s.output.value);
          } else {
            w.u32(((s.input.format & 3) << 30) | (s.input.value & 0x3fffffff));
            w.u32(((s.output.format & 3) << 30) | (s.output.value & 0x3fffffff));
          }
          w.u32(s.records.length, 'sFlow flow record count');
          for (const r of s.records) writeFlowRecord(w, r);
        });
        break;
      case 'counters':
        writeTlv(w, s.expanded ? 4 : 2, 'sFlow sample', () => {
          w.u32(s.sequence);
          if (s.expanded) {
            w.u32(s.sourceType ?? 0);
            w.u32(s.sourceIndex);
          } else {
            w.u32((((s.sourceType ?? 0) & 0xff) << 24) | (s.sourceIndex & 0xffffff));
          }
          w.u32(s.records.length, 'sFlow counter record count');
          for (const r of s.records) {
            writeCounterRecord(w, r);
            if (r.kind === 'generic_if') counters++;
          }
        });
        break;
      case 'opaque':
        writeTlv(w, ((s.enterprise << 12) | (s.format & 0xfff)) >>> 0, 'sFlow sample', () => w.bytes(s.data));
        break;
    }
    spans.push({ offset: at, length: w.length - at, what: `sFlow ${s.kind} sample` });
  }
  return { protocol: 'sflow', bytes: w.finish(), headerLength, lengthFields: w.lengthFields, spans, flows, counters, templateIds: [] };
}

// ---------------------------------------------------------------------------------------------
// Sampled packets (for sFlow raw header records)

export interface Ipv4TcpSpec {
  src: readonly number[];
  dst: readonly number[];
  srcPort: number;
  dstPort: number;
  /** TCP flags byte (CWR..FIN). */
  flags: number;
  ttl?: number;
  tos?: number;
  id?: number;
  /** Bytes of TCP payload the IPv4 total length accounts for (not included in the output). */
  payloadLength?: number;
}

/** A 20-byte IPv4 header (RFC 791, checksum filled in) followed by a 20-byte TCP header (RFC 9293). */
export function ipv4TcpHeader(s: Ipv4TcpSpec): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x45;
  b[1] = s.tos ?? 0;
  b.writeUInt16BE(40 + (s.payloadLength ?? 0), 2);
  b.writeUInt16BE(s.id ?? 0x1234, 4);
  b.writeUInt16BE(0x4000, 6); // DF, offset 0
  b[8] = s.ttl ?? 64;
  b[9] = 6;
  Buffer.from(s.src).copy(b, 12);
  Buffer.from(s.dst).copy(b, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  b.writeUInt16BE(~sum & 0xffff, 10);
  b.writeUInt16BE(s.srcPort, 20);
  b.writeUInt16BE(s.dstPort, 22);
  b.writeUInt32BE(1, 24); // seq
  b.writeUInt32BE(0, 28); // ack
  b[32] = 5 << 4; // data offset 5 words
  b[33] = s.flags;
  b.writeUInt16BE(65535, 34); // window
  return b;
}

/** An Ethernet II header (optionally one 802.1Q tag) in front of `payload`. */
export function ethernetFrame(dst: readonly number[], src: readonly number[], etype: number, payload: Uint8Array, vlan?: number): Buffer {
  const tag = vlan === undefined ? 0 : 4;
  const b = Buffer.alloc(14 + tag + payload.length);
  Buffer.from(dst).copy(b, 0);
  Buffer.from(src).copy(b, 6);
  if (vlan !== undefined) {
    b.writeUInt16BE(0x8100, 12);
    b.writeUInt16BE(vlan & 0x0fff, 14);
  }
  b.writeUInt16BE(etype, 12 + tag);
  Buffer.from(payload).copy(b, 14 + tag);
  return b;
}
