// Generators of hostile flow datagrams, shared by the in-process decoder property tests
// (test/unit/fuzz-decoders.test.ts) and the fuzz run against a running gateway
// (test/hardening/fuzz-gateway.test.ts): a seeded PRNG, random VALID datagrams of every
// protocol built from the specifications (datagram-builders.ts), mutations of built
// datagrams (length-field lies, zero-length/duplicated/moved/dropped sets, template
// redefinition loops, truncations, bit flips) and random bytes behind a forced version prefix.

import {
  dataSet,
  ethernetFrame,
  ipfix,
  ipv4TcpHeader,
  minRecordLength,
  netflow5,
  netflow9,
  optionsDataSet,
  sflow,
  VARIABLE_LENGTH,
  type BuiltDatagram,
  type FieldSpec,
  type FieldValue,
  type IpfixSet,
  type OptionsTemplateDef,
  type SflowCounterRecord,
  type SflowFlowRecord,
  type SflowSample,
  type TemplateDef,
  type V9FlowSet,
} from './datagram-builders';
import type { Protocol } from '../../src/decode/types';

/** Largest UDP payload. */
export const MAX_DATAGRAM = 65535;

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG: arbitraries draw a seed and content is derived from it, which is far
// cheaper than drawing every byte through fast-check (64 KiB datagrams).

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** mulberry32 */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor((this.next() / 0x100000000) * (max - min + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(0, a.length - 1)];
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.next(), i);
    for (; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }

  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}


// ---------------------------------------------------------------------------------------------
// Random VALID datagrams (from the builders). `heavy` = many templates, big fields lists,
// colliding ids and data for unknown templates: meant for the limits property, not for
// exact record counts.

/** v9 field types with their usual lengths (RFC 3954 §8), plus NSEL and padding. */
export const V9_FIELDS: ReadonlyArray<readonly [number, number]> = [
  [8, 4], [12, 4], [15, 4], [7, 2], [11, 2], [4, 1], [5, 1], [6, 1], [1, 4], [2, 4], [1, 8], [2, 8],
  [10, 2], [14, 2], [10, 4], [14, 4], [16, 2], [17, 4], [9, 1], [13, 1], [21, 4], [22, 4], [27, 16],
  [28, 16], [62, 16], [56, 6], [80, 6], [58, 2], [59, 2], [32, 2], [60, 1], [61, 1], [70, 3], [71, 3],
  [47, 4], [48, 1], [34, 4], [152, 8], [153, 8], [150, 4], [151, 4], [154, 8], [156, 8], [158, 4],
  [88, 2], [89, 1], [54, 4], [225, 4], [227, 2], [40001, 4], [40005, 1], [210, 3], [243, 2], [256, 2],
];

export function genField(r: Rng, ipfixFields: boolean): FieldSpec {
  const roll = r.int(0, 99);
  if (roll < 70) {
    const [id, length] = r.pick(V9_FIELDS);
    return { id, length };
  }
  if (roll < 80) return { id: r.int(1, ipfixFields ? 0x7fff : 0xffff), length: r.pick([0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17]) };
  if (!ipfixFields) return { id: r.int(1, 0xffff), length: r.int(1, 12) };
  if (roll < 88) {
    // IPFIX variable-length (RFC 7011 §7): strings, addresses, numbers, vendor fields.
    return r.pick<FieldSpec>([
      { id: 82, length: VARIABLE_LENGTH },
      { id: 83, length: VARIABLE_LENGTH },
      { id: 8, length: VARIABLE_LENGTH },
      { id: 1, length: VARIABLE_LENGTH },
      { id: 34, length: VARIABLE_LENGTH },
      { id: 14, length: VARIABLE_LENGTH, enterprise: 6871 },
    ]);
  }
  // Enterprise-specific (RFC 7011 §3.2): reverse elements (RFC 5103), YAF, random PENs.
  return r.pick<FieldSpec>([
    { id: 1, length: 8, enterprise: 29305 },
    { id: 2, length: 8, enterprise: 29305 },
    { id: 14, length: 4, enterprise: 6871 },
    { id: r.int(1, 0x7fff), length: r.int(1, 8), enterprise: r.int(1, 0xffffffff) },
  ]);
}

export function genFields(r: Rng, n: number, ipfixFields: boolean): FieldSpec[] {
  const fields: FieldSpec[] = [];
  for (let i = 0; i < n; i++) fields.push(genField(r, ipfixFields));
  // >= 4 bytes per record: v9 pads flowsets with up to 3 zero bytes, which a shorter record
  // layout could not tell from data (RFC 3954 §5.3).
  if (minRecordLength(fields) < 4) fields.push({ id: 1, length: 4 });
  return fields;
}

export function genValue(r: Rng, f: FieldSpec): FieldValue {
  if (f.length !== VARIABLE_LENGTH) return r.bytes(f.length);
  const roll = r.int(0, 9);
  // 0 and >= 255 (3-byte prefix, RFC 7011 §7) both matter.
  const n = roll === 0 ? 0 : roll === 1 ? r.pick([254, 255, 256, 300]) : roll === 2 ? 4 : r.int(1, 24);
  return r.bytes(n);
}

export function genRecords(r: Rng, fields: readonly FieldSpec[], n: number): FieldValue[][] {
  const out: FieldValue[][] = [];
  for (let i = 0; i < n; i++) out.push(fields.map((f) => genValue(r, f)));
  return out;
}

export function uniqueIds(r: Rng, n: number, lo: number, hi: number): number[] {
  const s = new Set<number>();
  while (s.size < n) s.add(r.int(lo, hi));
  return [...s];
}

export function genV9OptionsTemplate(r: Rng, id: number): OptionsTemplateDef {
  // Scope: System (1) or Interface (2), RFC 3954 §6.1; options: sampling (34/35, 48-50).
  const scope: FieldSpec[] = [{ id: r.pick([1, 2]), length: 4 }];
  const options: FieldSpec[] = r.bool() ? [{ id: 34, length: 4 }, { id: 35, length: 1 }] : [{ id: 48, length: 1 }, { id: 49, length: 1 }, { id: 50, length: 4 }];
  return { id, scope, options };
}

export function optionsRecord(r: Rng, t: OptionsTemplateDef): FieldValue[] {
  return [...t.scope, ...t.options].map((f) => (f.id === 34 || f.id === 50 || f.id === 305 ? r.int(1, 4096) : r.bytes(f.length)));
}

export function genNetflow5(r: Rng): BuiltDatagram {
  const n = r.int(0, 30);
  const records = [];
  for (let i = 0; i < n; i++) {
    records.push({
      srcAddr: [...r.bytes(4)],
      dstAddr: [...r.bytes(4)],
      nextHop: [...r.bytes(4)],
      input: r.int(0, 0xffff),
      output: r.int(0, 0xffff),
      packets: r.next(),
      octets: r.next(),
      first: r.next(),
      last: r.next(),
      srcPort: r.int(0, 0xffff),
      dstPort: r.int(0, 0xffff),
      tcpFlags: r.int(0, 255),
      proto: r.pick([6, 17, 1, r.int(0, 255)]),
      tos: r.int(0, 255),
      srcAs: r.int(0, 0xffff),
      dstAs: r.int(0, 0xffff),
      srcMask: r.int(0, 32),
      dstMask: r.int(0, 32),
    });
  }
  return netflow5({
    uptimeMs: r.next(),
    unixSecs: r.next(),
    unixNsecs: r.int(0, 999_999_999),
    sequence: r.next(),
    engineType: r.int(0, 255),
    engineId: r.int(0, 255),
    samplingMode: r.int(0, 3),
    samplingInterval: r.int(0, 0x3fff),
    records,
  });
}

export function genNetflow9(r: Rng, heavy: boolean): BuiltDatagram {
  const nT = heavy ? r.int(1, 12) : r.int(1, 3);
  const ids = heavy ? Array.from({ length: nT + 1 }, () => r.int(256, 271)) : uniqueIds(r, nT + 1, 256, 1200);
  const templates: TemplateDef[] = [];
  for (let i = 0; i < nT; i++) templates.push({ id: ids[i], fields: genFields(r, heavy ? r.int(1, 40) : r.int(1, 10), false) });
  const opts = r.bool() ? genV9OptionsTemplate(r, ids[nT]) : undefined;

  const flowsets: V9FlowSet[] = [];
  const split = r.int(1, templates.length);
  flowsets.push({ kind: 'template', templates: templates.slice(0, split) });
  if (split < templates.length) flowsets.push({ kind: 'template', templates: templates.slice(split) });
  if (opts) {
    flowsets.push({ kind: 'options_template', templates: [opts] });
    flowsets.push(optionsDataSet(opts, [optionsRecord(r, opts)]));
  }
  for (const t of templates) flowsets.push(dataSet(t, genRecords(r, t.fields, r.int(0, heavy ? 3 : 5))));
  if (heavy) {
    // Data for templates that never come: fills the pending queue.
    for (let i = r.int(0, 4); i > 0; i--) flowsets.push({ kind: 'raw', id: r.int(256, 400), body: r.bytes(r.int(0, 3000)) });
  }
  if (heavy || r.bool(0.3)) r.shuffle(flowsets); // data before its template is legal: held, then released
  return netflow9({ uptimeMs: r.next(), unixSecs: r.next(), sequence: r.next(), sourceId: heavy ? r.int(0, 2) : r.next(), flowsets });
}

export function genIpfixOptionsTemplate(r: Rng, id: number): OptionsTemplateDef {
  const scope: FieldSpec[] = [{ id: r.pick([149, 144, 10]), length: 4 }];
  const options: FieldSpec[] = r.pick<FieldSpec[]>([
    [{ id: 34, length: 4 }],
    [{ id: 305, length: 4 }, { id: 306, length: 4 }],
    [{ id: 302, length: 4 }, { id: 34, length: 4 }],
    [{ id: 160, length: 8 }],
  ]);
  return { id, scope, options };
}

export function genIpfix(r: Rng, heavy: boolean): BuiltDatagram {
  const nT = heavy ? r.int(1, 12) : r.int(1, 3);
  const ids = heavy ? Array.from({ length: nT + 1 }, () => r.int(256, 271)) : uniqueIds(r, nT + 1, 256, 1200);
  const templates: TemplateDef[] = [];
  for (let i = 0; i < nT; i++) templates.push({ id: ids[i], fields: genFields(r, heavy ? r.int(1, 40) : r.int(1, 10), true) });
  const opts = r.bool() ? genIpfixOptionsTemplate(r, ids[nT]) : undefined;

  const sets: IpfixSet[] = [];
  const split = r.int(1, templates.length);
  sets.push({ kind: 'template', templates: templates.slice(0, split) });
  if (split < templates.length) sets.push({ kind: 'template', templates: templates.slice(split) });
  if (opts) {
    sets.push({ kind: 'options_template', templates: [opts] });
    sets.push(optionsDataSet(opts, [optionsRecord(r, opts)]));
  }
  for (const t of templates) sets.push(dataSet(t, genRecords(r, t.fields, r.int(0, heavy ? 3 : 5))));
  if (heavy) {
    for (let i = r.int(0, 4); i > 0; i--) sets.push({ kind: 'raw', id: r.int(256, 400), body: r.bytes(r.int(0, 3000)) });
    if (r.bool(0.3)) sets.push({ kind: 'withdrawal', options: r.bool(), ids: [r.pick([2, 3, ...ids])] });
  }
  if (heavy || r.bool(0.3)) r.shuffle(sets);
  return ipfix({ exportSecs: r.next(), sequence: r.next(), domain: heavy ? r.int(0, 2) : r.next(), sets, pad: r.bool(0.3) });
}

export function genSflowFlowRecords(r: Rng): SflowFlowRecord[] {
  const src = [...r.bytes(4)];
  const dst = [...r.bytes(4)];
  const ip = ipv4TcpHeader({ src, dst, srcPort: r.int(0, 0xffff), dstPort: r.int(0, 0xffff), flags: r.int(0, 255), ttl: r.int(1, 255), tos: r.int(0, 255) });
  const recs: SflowFlowRecord[] = [];
  if (r.bool(0.5)) recs.push({ kind: 'raw_header', protocol: 11, frameLength: r.int(40, 9000), header: ip });
  else {
    const frame = ethernetFrame([...r.bytes(6)], [...r.bytes(6)], 0x0800, ip, r.bool() ? r.int(1, 4094) : undefined);
    recs.push({ kind: 'raw_header', protocol: 1, frameLength: r.int(54, 9000), header: frame.subarray(0, r.int(14, frame.length)) });
  }
  if (r.bool(0.3)) recs.push({ kind: 'sampled_ip', length: r.int(40, 1500), protocol: 6, src, dst, srcPort: 1, dstPort: 2, tcpFlags: 0x12, tos: 0 });
  if (r.bool(0.3)) recs.push({ kind: 'extended_switch', srcVlan: r.int(0, 4095), srcPriority: r.int(0, 7), dstVlan: r.int(0, 4095), dstPriority: r.int(0, 7) });
  if (r.bool(0.3)) recs.push({ kind: 'extended_router', nextHop: r.bool() ? [...r.bytes(4)] : [...r.bytes(16)], srcMask: r.int(0, 32), dstMask: r.int(0, 32) });
  if (r.bool(0.3)) {
    const asPath = [];
    for (let i = r.int(0, 3); i > 0; i--) asPath.push({ type: r.pick<1 | 2>([1, 2]), asns: Array.from({ length: r.int(0, 5) }, () => r.next()) });
    recs.push({
      kind: 'extended_gateway',
      nextHop: [...r.bytes(4)],
      as: r.next(),
      srcAs: r.next(),
      srcPeerAs: r.next(),
      asPath,
      communities: Array.from({ length: r.int(0, 4) }, () => r.next()),
      localPref: r.next(),
    });
  }
  if (r.bool(0.2)) recs.push({ kind: 'opaque', enterprise: r.pick([0, 4413, r.int(1, 0xfffff)]), format: r.int(1010, 2000), data: r.bytes(r.int(0, 40)) });
  return r.shuffle(recs);
}

export function genSflowSample(r: Rng): SflowSample {
  const roll = r.int(0, 9);
  if (roll < 5) {
    return {
      kind: 'flow',
      expanded: r.bool(0.3),
      sequence: r.next(),
      sourceType: r.int(0, 2),
      sourceIndex: r.int(0, 0xffffff),
      samplingRate: r.int(1, 100_000),
      samplePool: r.next(),
      drops: r.int(0, 10),
      input: { format: r.pick([0, 0, 1, 2]), value: r.int(0, 0x3fffffff) },
      output: { format: r.pick([0, 0, 1, 2]), value: r.int(0, 0x3fffffff) },
      records: genSflowFlowRecords(r),
    };
  }
  if (roll < 8) {
    const records: SflowCounterRecord[] = [];
    for (let i = r.int(0, 3); i > 0; i--) {
      if (r.bool(0.7)) records.push({ kind: 'generic_if', ifIndex: r.next(), ifInOctets: BigInt(r.next()) * 65536n, ifOutErrors: r.next() });
      else records.push({ kind: 'opaque', enterprise: 0, format: r.pick([2, 3, 1001, 2000]), data: r.bytes(r.int(0, 60)) });
    }
    return { kind: 'counters', expanded: r.bool(0.3), sequence: r.next(), sourceType: 0, sourceIndex: r.int(0, 0xffffff), records };
  }
  return { kind: 'opaque', enterprise: r.int(1, 0xfffff), format: r.int(1, 4095), data: r.bytes(r.int(0, 64)) };
}

export function genSflow(r: Rng): BuiltDatagram {
  const samples: SflowSample[] = [];
  for (let i = r.int(0, 6); i > 0; i--) samples.push(genSflowSample(r));
  return sflow({ agent: r.bool(0.8) ? [...r.bytes(4)] : [...r.bytes(16)], subAgent: r.int(0, 3), sequence: r.next(), uptimeMs: r.next(), samples });
}

export function genValid(p: Protocol, r: Rng, heavy = false): BuiltDatagram {
  switch (p) {
    case 'netflow5': return genNetflow5(r);
    case 'netflow9': return genNetflow9(r, heavy);
    case 'ipfix': return genIpfix(r, heavy);
    case 'sflow': return genSflow(r);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations of valid datagrams. Positions and choices are drawn as integers and reduced
// modulo what the datagram has, so they always apply.

/** Values written over length / count fields (masked to the field's size). */
export const ABSURD = [0, 1, 2, 3, 4, 0x7fff, 0x8000, 0xfffe, 0xffff, 0xffffffff] as const;

export type Mutation =
  | { op: 'length'; which: number; value: number }
  | { op: 'zeroSet'; at: number; id: number }
  | { op: 'dupSet'; which: number; times: number }
  | { op: 'moveSet'; from: number; to: number }
  | { op: 'dropSet'; which: number }
  | { op: 'redefine'; at: number; which: number; times: number; seed: number }
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'overwrite'; at: number; value: number };


export function maskTo(size: 1 | 2 | 4, v: number): number {
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v >>> 0;
}

/** A zero-length set / flowset / sample (or, for v5, an all-zero record). */
export function zeroUnit(p: Protocol, built: BuiltDatagram, id: number): Buffer {
  const ids = built.templateIds;
  switch (p) {
    case 'netflow5':
      return Buffer.alloc(48);
    case 'netflow9': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE([0, 1, 256, ids.length ? ids[id % ids.length] : 300, id][id % 5], 0);
      return b;
    }
    case 'ipfix': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE([2, 3, 256, ids.length ? ids[id % ids.length] : 300, id][id % 5], 0);
      return b;
    }
    case 'sflow': {
      const b = Buffer.alloc(8);
      b.writeUInt32BE([1, 2, 3, 4, id][id % 5], 0);
      return b;
    }
  }
}

/**
 * Units that redefine an existing template in the middle of the datagram, `times` times,
 * alternating between two different layouts (and between data and options kind): a
 * template "loop". For sFlow the equivalent is a sample re-labelled compact <-> expanded; for
 * v5 a record copy.
 */
export function redefinition(p: Protocol, built: BuiltDatagram, units: Buffer[], m: Extract<Mutation, { op: 'redefine' }>): Buffer[] {
  const r = new Rng(m.seed);
  const out: Buffer[] = [];
  if (p === 'netflow5' || p === 'sflow') {
    if (units.length === 0) return out;
    const u = Buffer.from(units[m.which % units.length]);
    if (p === 'sflow' && u.length >= 4) {
      const f = u.readUInt32BE(0);
      u.writeUInt32BE(f === 1 ? 3 : f === 3 ? 1 : f === 2 ? 4 : f === 4 ? 2 : f, 0);
    }
    for (let i = 0; i < m.times; i++) out.push(u);
    return out;
  }
  const id = built.templateIds.length ? built.templateIds[m.which % built.templateIds.length] : 256;
  const isIpfix = p === 'ipfix';
  const layouts: Buffer[] = [];
  for (let k = 0; k < 2; k++) {
    const asOptions = r.bool(0.3);
    let one: BuiltDatagram;
    if (isIpfix) {
      one = asOptions
        ? ipfix({ sets: [{ kind: 'options_template', templates: [genIpfixOptionsTemplate(r, id)] }] })
        : ipfix({ sets: [{ kind: 'template', templates: [{ id, fields: genFields(r, r.int(1, 12), true) }] }] });
    } else {
      one = asOptions
        ? netflow9({ flowsets: [{ kind: 'options_template', templates: [genV9OptionsTemplate(r, id)] }] })
        : netflow9({ flowsets: [{ kind: 'template', templates: [{ id, fields: genFields(r, r.int(1, 12), false) }] }] });
    }
    const s = one.spans[0];
    layouts.push(one.bytes.subarray(s.offset, s.offset + s.length));
  }
  const data = units.length ? units[r.int(0, units.length - 1)] : undefined;
  for (let i = 0; i < m.times; i++) {
    out.push(layouts[i % 2]);
    if (data && r.bool()) out.push(data);
  }
  return out;
}

/** Applies the mutations: length fields first (original offsets), then structure, then bytes. */
export function mutate(p: Protocol, built: BuiltDatagram, muts: readonly Mutation[]): Buffer {
  const bytes = Buffer.from(built.bytes);
  let headerTouched = false;
  for (const m of muts) {
    if (m.op !== 'length' || built.lengthFields.length === 0) continue;
    const f = built.lengthFields[m.which % built.lengthFields.length];
    const v = maskTo(f.size, m.value);
    if (f.size === 1) bytes.writeUInt8(v, f.offset);
    else if (f.size === 2) bytes.writeUInt16BE(v, f.offset);
    else bytes.writeUInt32BE(v, f.offset);
    if (f.offset < built.headerLength) headerTouched = true;
  }

  const header = Buffer.from(bytes.subarray(0, built.headerLength));
  const lastEnd = built.spans.length ? built.spans[built.spans.length - 1].offset + built.spans[built.spans.length - 1].length : built.headerLength;
  const trailer = bytes.subarray(lastEnd);
  let units: Buffer[] = built.spans.map((s) => bytes.subarray(s.offset, s.offset + s.length));
  let structural = false;
  for (const m of muts) {
    const n = units.length;
    switch (m.op) {
      case 'zeroSet':
        units.splice(m.at % (n + 1), 0, zeroUnit(p, built, m.id));
        structural = true;
        break;
      case 'dupSet':
        if (n) {
          const i = m.which % n;
          units.splice(i, 0, ...new Array<Buffer>(m.times).fill(units[i]));
          structural = true;
        }
        break;
      case 'moveSet':
        if (n) {
          const [u] = units.splice(m.from % n, 1);
          units.splice(m.to % n, 0, u);
          structural = true;
        }
        break;
      case 'dropSet':
        if (n) {
          units.splice(m.which % n, 1);
          structural = true;
        }
        break;
      case 'redefine':
        units.splice(m.at % (n + 1), 0, ...redefinition(p, built, units, m));
        structural = true;
        break;
      default:
        break;
    }
  }
  let out = bytes;
  if (structural) {
    // Keep the total under 64 KiB before concatenating (a dupSet of 40 big sets could not be sent).
    let total = header.length + trailer.length;
    const kept: Buffer[] = [];
    for (const u of units) {
      if (total + u.length > MAX_DATAGRAM) break;
      kept.push(u);
      total += u.length;
    }
    units = kept;
    out = Buffer.concat([header, ...units, trailer]);
    if (!headerTouched) {
      // Keep the header consistent with the new structure, so the change is seen inside.
      if (p === 'ipfix' && out.length >= 4) out.writeUInt16BE(out.length, 2);
      if (p === 'netflow5' && out.length >= 4) out.writeUInt16BE(units.length, 2);
      if (p === 'sflow' && built.headerLength >= 4) out.writeUInt32BE(units.length, built.headerLength - 4);
    }
  }
  for (const m of muts) {
    if (out.length === 0) break;
    switch (m.op) {
      case 'truncate':
        out = out.subarray(0, m.at % (out.length + 1));
        break;
      case 'flip': {
        const i = m.at % out.length;
        out[i] ^= 1 << m.bit;
        break;
      }
      case 'overwrite':
        out[m.at % out.length] = m.value;
        break;
      default:
        break;
    }
  }
  return out.length > MAX_DATAGRAM ? out.subarray(0, MAX_DATAGRAM) : out;
}

// ---------------------------------------------------------------------------------------------
// Random datagrams with the protocol's version prefix forced

export const PREFIX: Record<Protocol, readonly number[]> = {
  netflow5: [0x00, 0x05],
  netflow9: [0x00, 0x09],
  ipfix: [0x00, 0x0a],
  sflow: [0x00, 0x00, 0x00, 0x05],
};

export function forcePrefix(p: Protocol, b: Buffer): Buffer {
  const pre = PREFIX[p];
  const out = b.length >= pre.length ? b : Buffer.concat([b, Buffer.alloc(pre.length - b.length)]);
  for (let i = 0; i < pre.length; i++) out[i] = pre[i];
  return out;
}

/** Random sets with consistent set headers but random ids and bodies: gets past set framing. */
export function randomSets(p: Protocol, r: Rng, size: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  const setIds = p === 'ipfix' ? [2, 3, 256, 257, 258, r.int(0, 0xffff)] : [0, 1, 256, 257, 258, r.int(0, 0xffff)];
  while (total < size) {
    const body = r.bytes(r.int(0, Math.min(400, size)));
    if (p === 'sflow') {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(r.pick([1, 2, 3, 4, r.next()]), 0);
      h.writeUInt32BE(r.bool(0.9) ? body.length : r.next(), 4);
      parts.push(h, body);
    } else {
      const h = Buffer.alloc(4);
      h.writeUInt16BE(r.pick(setIds), 0);
      h.writeUInt16BE(r.bool(0.9) ? (body.length + 4) & 0xffff : r.int(0, 0xffff), 2);
      parts.push(h, body);
    }
    total += body.length + 4;
  }
  return Buffer.concat(parts);
}

export function randomDatagram(p: Protocol, seed: number, len: number, mode: number): Buffer {
  const r = new Rng(seed);
  let b = r.bytes(len);
  if (mode === 1 && p !== 'netflow5') {
    // A plausible header, then framed random sets / samples.
    const hdr = p === 'netflow9' ? 20 : p === 'ipfix' ? 16 : 28;
    b = Buffer.concat([b.subarray(0, Math.min(hdr, len)), randomSets(p, r, Math.max(0, len - hdr))]).subarray(0, Math.max(len, 4));
  }
  b = forcePrefix(p, b);
  if (p === 'ipfix' && b.length >= 4 && r.bool(0.7)) b.writeUInt16BE(Math.min(b.length, 0xffff), 2);
  if (p === 'sflow' && b.length >= 8 && r.bool(0.8)) b.writeUInt32BE(r.bool(0.8) ? 1 : 2, 4);
  if (p === 'sflow' && b.length >= 28 && r.bool(0.5)) b.writeUInt32BE(r.int(0, 64), 24);
  if (p === 'netflow5' && b.length >= 4 && r.bool(0.5)) b.writeUInt16BE(r.int(0, 40), 2);
  return b;
}

/** Random bytes: small shrinkable arrays, and PRNG-filled ones up to 64 KiB. */

// ---------------------------------------------------------------------------------------------
// The same mutations drawn from the seeded PRNG (for runs outside fast-check), and applied to
// captured datagrams, whose structure is read back from their bytes.

/** One to five mutations, weighted as the fast-check arbitrary in fuzz-decoders.test.ts. */
export function randomMutations(r: Rng): Mutation[] {
  const out: Mutation[] = [];
  const idx = (): number => r.int(0, 0xffff);
  for (let k = r.int(1, 5); k > 0; k--) {
    const w = r.int(0, 15);
    if (w < 4) out.push({ op: 'length', which: idx(), value: r.pick(ABSURD) });
    else if (w < 5) out.push({ op: 'zeroSet', at: idx(), id: idx() });
    else if (w < 6) out.push({ op: 'dupSet', which: idx(), times: r.int(1, 40) });
    else if (w < 7) out.push({ op: 'moveSet', from: idx(), to: idx() });
    else if (w < 8) out.push({ op: 'dropSet', which: idx() });
    else if (w < 10) out.push({ op: 'redefine', at: idx(), which: idx(), times: r.int(1, 12), seed: r.next() | 0 });
    else if (w < 12) out.push({ op: 'truncate', at: idx() });
    else if (w < 15) out.push({ op: 'flip', at: idx(), bit: r.int(0, 7) });
    else out.push({ op: 'overwrite', at: idx(), value: r.int(0, 255) });
  }
  return out;
}

/**
 * A captured datagram described as the builders describe theirs (header, length fields,
 * sets/samples/records as spans, template ids), so mutate() can lie in its length fields and
 * move its sets. Undefined when the bytes are no flow protocol or their framing is already broken.
 */
export function describeCaptured(b: Buffer): BuiltDatagram | undefined {
  if (b.length < 4) return undefined;
  const v16 = b.readUInt16BE(0);
  const lengthFields: BuiltDatagram['lengthFields'] = [];
  const spans: BuiltDatagram['spans'] = [];
  const templateIds: number[] = [];
  const base = (protocol: BuiltDatagram['protocol'], headerLength: number): BuiltDatagram =>
    ({ protocol, bytes: b, headerLength, lengthFields, spans, flows: 0, counters: 0, templateIds });
  if (v16 === 9 || v16 === 10) {
    const hl = v16 === 9 ? 20 : 16;
    if (b.length < hl) return undefined;
    lengthFields.push({ offset: 2, size: 2, what: v16 === 9 ? 'v9 header count' : 'IPFIX message length' });
    for (let p = hl; p + 4 <= b.length; ) {
      const id = b.readUInt16BE(p);
      const len = b.readUInt16BE(p + 2);
      if (len < 4 || p + len > b.length) break;
      lengthFields.push({ offset: p + 2, size: 2, what: 'set length' });
      if (id === (v16 === 9 ? 0 : 2) && len >= 8) {
        templateIds.push(b.readUInt16BE(p + 4));
        lengthFields.push({ offset: p + 6, size: 2, what: 'template field count' });
      }
      spans.push({ offset: p, length: len, what: `set ${id}` });
      p += len;
    }
    return base(v16 === 9 ? 'netflow9' : 'ipfix', hl);
  }
  if (v16 === 5) {
    if (b.length < 24) return undefined;
    lengthFields.push({ offset: 2, size: 2, what: 'v5 count' });
    for (let p = 24; p + 48 <= b.length; p += 48) spans.push({ offset: p, length: 48, what: 'v5 record' });
    return base('netflow5', 24);
  }
  if (v16 === 0 && b.length >= 28 && b.readUInt32BE(0) === 5) {
    const hl = b.readUInt32BE(4) === 2 ? 40 : 28;
    if (b.length < hl) return undefined;
    lengthFields.push({ offset: hl - 4, size: 4, what: 'sFlow sample count' });
    for (let p = hl; p + 8 <= b.length; ) {
      const len = b.readUInt32BE(p + 4);
      if (p + 8 + len > b.length) break;
      lengthFields.push({ offset: p + 4, size: 4, what: 'sFlow sample length' });
      spans.push({ offset: p, length: 8 + len, what: 'sFlow sample' });
      p += 8 + len;
    }
    return base('sflow', hl);
  }
  return undefined;
}
