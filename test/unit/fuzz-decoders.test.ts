// Property tests of the four decoders against hostile input. The acceptance criterion:
//
//   random and mutated datagrams (truncations, bit flips, absurd lengths, zero-length sets,
//   template loops) never throw out of a decoder, never hang, never allocate more than the
//   configured limits; at least 10,000 cases per protocol in CI.
//
// How each part is checked:
// - "never throws": DatagramDecoder catches any exception at its boundary and reports it as an
//   error with reason 'internal_error', so no output may ever carry that reason; the
//   per-protocol functions are also called directly (no safety net) in one property each.
// - "never hangs": every decode of a datagram of at most 64 KiB is timed and must return
//   within HANG_MS (a hang detector, not a benchmark); no amplification: records out <= bytes
//   in (plus bytes of held data that a template may release).
// - "limits": a decoder with small template / pending limits is fed sequences of
//   template-heavy garbage from several exporters; the template cache and the pending queue
//   are inspected after every datagram, and a fresh exporter's valid datagram must still
//   decode completely afterwards.
//
// Seeds are not fixed: every run explores new inputs; fast-check prints the seed and the
// counterexample of a failure so it can be replayed with { seed, path }.
// FLOWGATE_FUZZ_SCALE=<n> multiplies every numRuns (nightly / local soak); it never lowers them.

import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import * as fc from 'fast-check';
import { flowToJson } from '../../src/canonical/flow-json';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import { SamplingRateSource, type FlowRecord } from '../../src/canonical/flow-record';
import { WireBatch } from '../../src/canonical/wire-batch';
import { DatagramDecoder, detectProtocol } from '../../src/decode/datagram-decoder';
import { decodeIpfix } from '../../src/decode/ipfix';
import { defaultIeRegistry } from '../../src/decode/information-elements';
import { decodeNetflow5 } from '../../src/decode/netflow5';
import { decodeNetflow9 } from '../../src/decode/netflow9';
import { decodeSflow } from '../../src/decode/sflow';
import type { TemplateLimits } from '../../src/decode/template-cache';
import type { PendingLimits } from '../../src/decode/pending-queue';
import { TemplateState } from '../../src/decode/template-state';
import { PROTOCOLS, type DecodeOutput, type ErrorReason, type Exporter, type Protocol } from '../../src/decode/types';
import { makeExporter } from '../../src/util/ip';
import {
  dataSet,
  ethernetFrame,
  ipfix,
  ipv4TcpHeader,
  netflow5,
  netflow9,
  optionsDataSet,
  sflow,
  VARIABLE_LENGTH,
  type BuiltDatagram,
  type FieldValue,
  type OptionsTemplateDef,
  type SflowSample,
  type TemplateDef,
} from '../support/datagram-builders';
import { ABSURD, MAX_DATAGRAM, Rng, forcePrefix, genValid, mutate, randomDatagram, type Mutation } from '../support/fuzz-generators';

// ---------------------------------------------------------------------------------------------
// Budget

const SCALE = Math.max(1, Math.floor(Number(process.env.FLOWGATE_FUZZ_SCALE ?? '1')) || 1);

/** numRuns per property kind; their sum per protocol must stay >= 10,000 (asserted below). */
const RUNS = {
  random: 3000 * SCALE,
  direct: 1000 * SCALE,
  mutated: 4000 * SCALE,
  truncation: 200 * SCALE,
  limits: 1300 * SCALE,
  valid: 500 * SCALE,
} as const;

/** A decode of <= 64 KiB that takes longer than this is treated as a hang. */
const HANG_MS = 250;

const SMALL_TEMPLATE_LIMITS: Partial<TemplateLimits> = { maxTemplatesPerExporter: 8, maxFieldsPerTemplate: 32, maxFieldsPerExporter: 64 };
const SMALL_PENDING_LIMITS: PendingLimits = { maxBytesPerExporter: 4096, maxBytesTotal: 16384, maxAgeUs: 1e6 };

function smallDecoder(): DatagramDecoder {
  return new DatagramDecoder({ templateLimits: SMALL_TEMPLATE_LIMITS, pendingLimits: SMALL_PENDING_LIMITS });
}

// ---------------------------------------------------------------------------------------------
// Exporters

function exporter(i: number): Exporter {
  return makeExporter(Uint8Array.from([192, 0, 2, i & 0xff]), 2055 + (i >> 8));
}

const FRESH_EXPORTER = makeExporter(Uint8Array.from([203, 0, 113, 99]), 9995);

const idx = fc.integer({ min: 0, max: 0xffff });

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('length' as const), which: idx, value: fc.constantFrom(...ABSURD) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('zeroSet' as const), at: idx, id: idx }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('dupSet' as const), which: idx, times: fc.integer({ min: 1, max: 40 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('moveSet' as const), from: idx, to: idx }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('dropSet' as const), which: idx }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('redefine' as const), at: idx, which: idx, times: fc.integer({ min: 1, max: 12 }), seed: fc.integer() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('truncate' as const), at: idx }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('flip' as const), at: idx, bit: fc.integer({ min: 0, max: 7 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('overwrite' as const), at: idx, value: fc.integer({ min: 0, max: 255 }) }), weight: 1 },
);

function randomArb(p: Protocol): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => forcePrefix(p, Buffer.from(a))), weight: 3 },
    {
      arbitrary: fc
        .record({ seed: fc.integer(), len: fc.integer({ min: 0, max: 2048 }), mode: fc.integer({ min: 0, max: 1 }) })
        .map(({ seed, len, mode }) => randomDatagram(p, seed, len, mode)),
      weight: 5,
    },
    {
      arbitrary: fc
        .record({ seed: fc.integer(), len: fc.integer({ min: 2049, max: MAX_DATAGRAM }), mode: fc.integer({ min: 0, max: 1 }) })
        .map(({ seed, len, mode }) => randomDatagram(p, seed, len, mode)),
      weight: 1,
    },
  );
}

interface MutatedCase {
  built: BuiltDatagram;
  muts: Mutation[];
  bytes: Buffer;
}

function mutatedArb(p: Protocol, heavy = false): fc.Arbitrary<MutatedCase> {
  return fc.record({ seed: fc.integer(), muts: fc.array(mutationArb, { minLength: 1, maxLength: 5 }) }).map(({ seed, muts }) => {
    const built = genValid(p, new Rng(seed), heavy);
    return { built, muts, bytes: mutate(p, built, muts) };
  });
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Per property: how hard the inputs pushed (printed after the run, to see the fuzzing reaches deep). */
interface Stats {
  calls: number;
  maxMs: number;
  maxFlowsPerByte: number;
  withFlows: number;
  reasons: Map<string, number>;
}

const stats = new Map<string, Stats>();

function note(label: string, ms: number, out: DecodeOutput, bytes: number): void {
  let s = stats.get(label);
  if (!s) {
    s = { calls: 0, maxMs: 0, maxFlowsPerByte: 0, withFlows: 0, reasons: new Map() };
    stats.set(label, s);
  }
  s.calls++;
  s.maxMs = Math.max(s.maxMs, ms);
  if (out.flows.length + out.counters.length > 0) s.withFlows++;
  if (bytes > 0) s.maxFlowsPerByte = Math.max(s.maxFlowsPerByte, out.flows.length / bytes);
  for (const e of out.errors) s.reasons.set(e.reason, (s.reasons.get(e.reason) ?? 0) + 1);
}

function hexOf(b: Uint8Array): string {
  const max = 65536;
  const h = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${h}... (${b.length} bytes, first ${max} shown)` : h;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.stack ?? e.message : String(e);
}

function isDecodeOutput(u: unknown): u is DecodeOutput {
  if (typeof u !== 'object' || u === null) return false;
  const o = u as Record<string, unknown>;
  return (
    Array.isArray(o.flows) &&
    Array.isArray(o.counters) &&
    Array.isArray(o.errors) &&
    typeof o.sequenceGap === 'number' &&
    Number.isFinite(o.sequenceGap) &&
    (o.protocol === undefined || (typeof o.protocol === 'string' && (PROTOCOLS as readonly string[]).includes(o.protocol)))
  );
}

/**
 * What every decode must satisfy. `extraBytes` = bytes of held data that this decode may
 * release (records of it may come out too).
 */
/** Reasons that mean "this input was malformed" (or worse): a valid datagram must never get them. */
const DEFECT_REASONS: readonly ErrorReason[] = [
  'unknown_protocol', 'short_datagram', 'bad_header', 'bad_set', 'truncated', 'bad_template', 'template_limit',
  'pending_overflow', 'pending_expired', 'bad_record', 'internal_error',
];

function checkOutput(label: string, p: Protocol, b: Buffer, out: unknown, ms: number, extraBytes: number, direct = false): DecodeOutput {
  if (!isDecodeOutput(out)) throw new Error(`${label}: not a DecodeOutput for ${hexOf(b)}`);
  const internal = out.errors.filter((e) => e.reason === 'internal_error');
  if (internal.length > 0) {
    throw new Error(`${label}: internal_error (a decoder threw) on ${p} datagram of ${b.length} bytes\n  input: ${hexOf(b)}\n  ${internal.map((e) => e.detail).join('\n  ')}`);
  }
  for (const e of out.errors) {
    if (!(Number.isFinite(e.count) && e.count >= 0 && typeof e.detail === 'string')) {
      throw new Error(`${label}: malformed error entry ${JSON.stringify(e)} for ${hexOf(b)}`);
    }
  }
  // A mutation may hit the version field itself: then the datagram is (legitimately) another protocol or none.
  const expected = direct ? p : detectProtocol(b);
  if (expected !== undefined && out.protocol !== undefined && out.protocol !== expected) {
    throw new Error(`${label}: decoded as ${out.protocol}, the version field says ${expected} (fuzzing ${p})`);
  }
  if (ms >= HANG_MS) throw new Error(`${label}: decode took ${ms.toFixed(1)} ms (>= ${HANG_MS} ms) on ${b.length} bytes: ${hexOf(b)}`);
  if (out.flows.length > b.length + extraBytes) {
    throw new Error(`${label}: ${out.flows.length} flows out of ${b.length} bytes (+${extraBytes} held): amplification on ${hexOf(b)}`);
  }
  if (out.counters.length > b.length) throw new Error(`${label}: ${out.counters.length} counter records out of ${b.length} bytes on ${hexOf(b)}`);
  note(label, ms, out, b.length);
  return out;
}

/**
 * A decode slower than the hang bound is timed twice more and the fastest counts: a garbage
 * collection or a deoptimisation can stall one call on a loaded CI machine, a real hang or
 * blow-up is slow every time.
 */
function confirmSlow(ms: number, again: () => void): number {
  let best = ms;
  for (let i = 0; i < 2 && best >= HANG_MS; i++) {
    const t0 = performance.now();
    again();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** One decode through DatagramDecoder, with every check. Throws (property fails) on violation. */
function decodeChecked(label: string, dec: DatagramDecoder, p: Protocol, b: Buffer, ex: Exporter, us: number): DecodeOutput {
  const held = dec.state.pending.bytes;
  const t0 = performance.now();
  let out: unknown;
  try {
    out = dec.decode(b, ex, us);
  } catch (e) {
    throw new Error(`${label}: DatagramDecoder.decode threw on ${hexOf(b)}\n${errorText(e)}`);
  }
  const ms = confirmSlow(performance.now() - t0, () => dec.decode(b, ex, us));
  return checkOutput(label, p, b, out, ms, held);
}

/** Per-protocol function called directly: no DatagramDecoder boundary to catch a throw. */
function decodeDirect(label: string, p: Protocol, b: Buffer, ex: Exporter, us: number, st: TemplateState): DecodeOutput {
  const held = st.pending.bytes;
  const t0 = performance.now();
  const run = (): DecodeOutput => {
    switch (p) {
      case 'netflow5': return decodeNetflow5(b, ex, us, st.seq);
      case 'netflow9': return decodeNetflow9(b, ex, us, st);
      case 'ipfix': return decodeIpfix(b, ex, us, st);
      case 'sflow': return decodeSflow(b, ex, us, st.seq);
    }
  };
  let out: unknown;
  try {
    out = run();
  } catch (e) {
    throw new Error(`${label}: ${p} decoder threw on ${b.length} bytes\n  input: ${hexOf(b)}\n${errorText(e)}`);
  }
  const ms = confirmSlow(performance.now() - t0, run);
  return checkOutput(label, p, b, out, ms, held, true);
}

const DIRECT_NAME: Record<Protocol, string> = { netflow5: 'decodeNetflow5', netflow9: 'decodeNetflow9', ipfix: 'decodeIpfix', sflow: 'decodeSflow' };

/** Template cache and pending queue within the configured limits. */
function checkLimits(dec: DatagramDecoder, exporters: number, context: () => string): void {
  const tl = dec.state.templates.limits;
  const snap = dec.state.templates.snapshot();
  const per = new Map<string, { templates: number; fields: number }>();
  for (const t of snap) {
    if (t.fields.length > tl.maxFieldsPerTemplate) throw new Error(`template ${t.exporterKey}/${t.domain}/${t.id} has ${t.fields.length} fields > ${tl.maxFieldsPerTemplate}; ${context()}`);
    const u = per.get(t.exporterKey) ?? { templates: 0, fields: 0 };
    u.templates++;
    u.fields += t.fields.length;
    per.set(t.exporterKey, u);
  }
  for (const [k, u] of per) {
    if (u.templates > tl.maxTemplatesPerExporter) throw new Error(`exporter ${k} holds ${u.templates} templates > ${tl.maxTemplatesPerExporter}; ${context()}`);
    if (u.fields > tl.maxFieldsPerExporter) throw new Error(`exporter ${k} holds ${u.fields} template fields > ${tl.maxFieldsPerExporter}; ${context()}`);
  }
  if (dec.state.templates.size !== snap.length) throw new Error(`templates.size ${dec.state.templates.size} != snapshot ${snap.length}`);
  if (dec.state.templates.size > tl.maxTemplatesPerExporter * exporters) {
    throw new Error(`${dec.state.templates.size} templates > ${tl.maxTemplatesPerExporter} x ${exporters} exporters; ${context()}`);
  }
  const pl = dec.state.pending.limits;
  if (dec.state.pending.bytes > pl.maxBytesTotal || dec.state.pending.bytes < 0) {
    throw new Error(`pending queue holds ${dec.state.pending.bytes} bytes (limit ${pl.maxBytesTotal}); ${context()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Known-good datagrams for "state is not poisoned" and the round-trip tests

const ADDR_A = [10, 1, 2, 3];
const ADDR_B = [172, 16, 5, 6];

/** Template 300 used by the v9 / IPFIX known-good datagrams. */
const GOOD_TEMPLATE: TemplateDef = {
  id: 300,
  fields: [
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 12, length: 4 }, // destinationIPv4Address
    { id: 7, length: 2 }, // sourceTransportPort
    { id: 11, length: 2 }, // destinationTransportPort
    { id: 4, length: 1 }, // protocolIdentifier
    { id: 2, length: 4 }, // packetDeltaCount
    { id: 1, length: 4 }, // octetDeltaCount
  ],
};

function goodRecords(n: number): FieldValue[][] {
  return Array.from({ length: n }, (_, i) => [ADDR_A, ADDR_B, 1000 + i, 443, 6, 10 + i, 1500 * (i + 1)]);
}

function goodDatagram(p: Protocol): { bytes: Buffer; flows: number; counters: number } {
  switch (p) {
    case 'netflow5': {
      const b = netflow5({ records: [0, 1, 2].map((i) => ({ srcAddr: ADDR_A, dstAddr: ADDR_B, srcPort: 1000 + i, dstPort: 443, proto: 6, packets: 10 + i, octets: 1500 * (i + 1) })) });
      return { bytes: b.bytes, flows: 3, counters: 0 };
    }
    case 'netflow9': {
      const b = netflow9({ sourceId: 7, flowsets: [{ kind: 'template', templates: [GOOD_TEMPLATE] }, dataSet(GOOD_TEMPLATE, goodRecords(3))] });
      return { bytes: b.bytes, flows: 3, counters: 0 };
    }
    case 'ipfix': {
      const b = ipfix({ domain: 7, sets: [{ kind: 'template', templates: [GOOD_TEMPLATE] }, dataSet(GOOD_TEMPLATE, goodRecords(3))] });
      return { bytes: b.bytes, flows: 3, counters: 0 };
    }
    case 'sflow': {
      const samples: SflowSample[] = [0, 1, 2].map((i) => ({
        kind: 'flow',
        sequence: 1 + i,
        sourceIndex: 5,
        samplingRate: 512,
        input: { format: 0, value: 1 },
        output: { format: 0, value: 2 },
        records: [{ kind: 'raw_header', protocol: 11, frameLength: 1500, header: ipv4TcpHeader({ src: ADDR_A, dst: ADDR_B, srcPort: 1000 + i, dstPort: 443, flags: 0x18 }) }],
      }));
      samples.push({ kind: 'counters', sequence: 1, sourceIndex: 5, records: [{ kind: 'generic_if', ifIndex: 5 }] });
      const b = sflow({ agent: [192, 0, 2, 200], samples });
      return { bytes: b.bytes, flows: 3, counters: 1 };
    }
  }
}

function expectGoodFlows(flows: readonly FlowRecord[]): void {
  expect(flows.map((f) => [...f.src_addr])).to.deep.equal([ADDR_A, ADDR_A, ADDR_A]);
  expect(flows.map((f) => [...f.dst_addr])).to.deep.equal([ADDR_B, ADDR_B, ADDR_B]);
  expect(flows.map((f) => f.src_port)).to.deep.equal([1000, 1001, 1002]);
  expect(flows.map((f) => f.dst_port)).to.deep.equal([443, 443, 443]);
  expect(flows.map((f) => f.proto)).to.deep.equal([6, 6, 6]);
}

// ---------------------------------------------------------------------------------------------

describe('decoder fuzzing (fast-check)', function () {
  this.timeout(180_000);

  after(() => {
    const lines = [...stats].map(([k, s]) => {
      const top = [...s.reasons].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([r, n]) => `${r} ${n}`).join(', ');
      return `${k.padEnd(20)} ${String(s.calls).padStart(7)} decodes (${String(s.withFlows).padStart(6)} with records), max ${s.maxMs.toFixed(1)} ms, max ${s.maxFlowsPerByte.toFixed(2)} flows/byte; ${top}`;
    });
    if (lines.length) console.log(`      fuzz summary (hang bound ${HANG_MS} ms):\n      ${lines.join('\n      ')}`);
  });

  it('runs at least 10,000 cases per protocol', () => {
    const perProtocol = RUNS.random + RUNS.direct + RUNS.mutated + RUNS.truncation + RUNS.limits + RUNS.valid;
    expect(perProtocol).to.be.at.least(10_000);
  });

  for (const p of PROTOCOLS) {
    describe(p, () => {
      it(`random bytes with the ${p} version prefix: no throw, no internal_error, no hang, no amplification`, () => {
        const dec = smallDecoder();
        let us = 1e12;
        fc.assert(
          fc.property(randomArb(p), fc.integer({ min: 0, max: 5 }), (b, ex) => {
            us += 1000;
            decodeChecked(`${p} random`, dec, p, b, exporter(ex), us);
            checkLimits(dec, 6, () => `after random ${hexOf(b)}`);
          }),
          { numRuns: RUNS.random },
        );
      });

      it(`${DIRECT_NAME[p]} called directly never throws on random and mutated input`, () => {
        const st = new TemplateState({ registry: defaultIeRegistry(), templateLimits: SMALL_TEMPLATE_LIMITS, pendingLimits: SMALL_PENDING_LIMITS });
        let us = 1e12;
        fc.assert(
          fc.property(fc.oneof(randomArb(p), mutatedArb(p).map((c) => c.bytes)), fc.integer({ min: 0, max: 3 }), (b, ex) => {
            us += 1000;
            decodeDirect(`${p} direct`, p, b, exporter(ex), us, st);
          }),
          { numRuns: RUNS.direct },
        );
      });

      const shared = smallDecoder();
      let usShared = 1e12;
      it(`mutated valid ${p} datagrams (absurd lengths, zero-length/duplicated/moved sets, redefinitions, truncation, bit flips)`, () => {
        fc.assert(
          fc.property(mutatedArb(p), fc.boolean(), ({ bytes, built }, freshState) => {
            // Fresh state (default limits) isolates the case and lets it reach the records; the
            // shared small-limit decoder lets garbage accumulate across cases.
            const dec = freshState ? new DatagramDecoder() : shared;
            decodeChecked(`${p} mutated`, dec, p, bytes, exporter(built.bytes.length % 4), (usShared += 1000));
            checkLimits(dec, 4, () => `after mutated ${hexOf(bytes)}`);
          }),
          { numRuns: RUNS.mutated },
        );
      });

      it(`valid ${p} datagrams truncated at every byte`, () => {
        fc.assert(
          fc.property(fc.integer(), (seed) => {
            const built = genValid(p, new Rng(seed));
            const dec = smallDecoder();
            let us = 1e12;
            for (let cut = 0; cut <= built.bytes.length; cut++) {
              const b = built.bytes.subarray(0, cut);
              decodeChecked(`${p} truncated`, dec, p, b, exporter(1), (us += 10));
              if (p === 'ipfix' && cut >= 4) {
                // Also with the message length agreeing with the cut (truncated inside a set).
                const c = Buffer.from(b);
                c.writeUInt16BE(cut, 2);
                decodeChecked(`${p} truncated`, dec, p, c, exporter(2), (us += 10));
              }
            }
          }),
          { numRuns: RUNS.truncation },
        );
      });

      it(`limits hold under sequences of template-heavy garbage from several exporters; a fresh exporter still decodes`, () => {
        const step = fc.record({
          seed: fc.integer(),
          muts: fc.array(mutationArb, { minLength: 0, maxLength: 3 }),
          exporter: fc.integer({ min: 0, max: 5 }),
          dtUs: fc.integer({ min: 0, max: 700_000 }),
        });
        fc.assert(
          fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
            const dec = smallDecoder();
            let us = 1e12;
            const seen = new Set<number>();
            steps.forEach((s, i) => {
              const built = genValid(p, new Rng(s.seed), true);
              const b = s.muts.length ? mutate(p, built, s.muts) : built.bytes;
              us += s.dtUs;
              seen.add(s.exporter);
              decodeChecked(`${p} limits`, dec, p, b, exporter(s.exporter), us);
              checkLimits(dec, seen.size, () => `after step ${i} (exporter ${s.exporter}): ${hexOf(b)}`);
            });
            const good = goodDatagram(p);
            const out = decodeChecked(`${p} limits`, dec, p, good.bytes, FRESH_EXPORTER, us + 1);
            checkLimits(dec, seen.size + 1, () => 'after the known-good datagram');
            expect(out.flows.length, `fresh exporter after garbage: errors ${JSON.stringify(out.errors.map((e) => e.reason))}`).to.equal(good.flows);
            expect(out.counters.length).to.equal(good.counters);
            expectGoodFlows(out.flows);
          }),
          { numRuns: RUNS.limits },
        );
      });

      it(`random valid ${p} datagrams from the builders decode to exactly their records`, () => {
        fc.assert(
          fc.property(fc.integer(), (seed) => {
            const built = genValid(p, new Rng(seed));
            const dec = new DatagramDecoder();
            const out = decodeChecked(`${p} valid`, dec, p, built.bytes, exporter(1), 1e12);
            // Informational entries (template_missing for data ahead of its template, unsupported
            // for sFlow samples of other enterprises, ...) are fine; defects are not.
            const unexpected = out.errors.filter((e) => DEFECT_REASONS.includes(e.reason));
            expect(unexpected, `errors on a valid datagram ${hexOf(built.bytes)}`).to.deep.equal([]);
            expect(out.flows.length, hexOf(built.bytes)).to.equal(built.flows);
            expect(out.counters.length, hexOf(built.bytes)).to.equal(built.counters);
            expect(dec.state.pending.count, 'nothing left held').to.equal(0);
          }),
          { numRuns: RUNS.valid },
        );
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Counterexamples the properties above found, shrunk by hand to the smallest datagram that
// shows them. Kept as fixed cases so they fail deterministically until the decoder is fixed
// (the properties find them too, but only after some hundreds of cases).

describe('decoder fuzzing: minimal counterexamples', () => {
  const ex = makeExporter(Uint8Array.from([192, 0, 2, 9]), 2055);

  /** Must be reported as a bad record: no throw, no record made of bytes outside the set. */
  function expectBadRecord(p: Protocol, hex: string): void {
    const b = Buffer.from(hex, 'hex');
    const out = checkOutput(`${p} counterexample`, p, b, new DatagramDecoder().decode(b, ex, 1), 0, 0);
    expect(out.flows.map((f) => ({ bytes: f.bytes, extra: f.extra_fields.map((e) => `${e.id}=${Buffer.from(e.value).toString('hex')}`) })), 'records decoded from a truncated record').to.deep.equal([]);
    expect(out.errors.map((e) => e.reason)).to.include('bad_record');
  }

  // Template 256 = [interfaceName (82) variable-length, octetDeltaCount (1) 4 bytes]; the data
  // record is 03 'abc' 00: the 4-byte field after the variable-length one is cut off.
  const TEMPLATE_VAR_THEN_FIXED = '00020010' + '01000002' + '0052ffff' + '00010004';

  it('IPFIX: fixed field after a variable-length field, cut at the end of the message (threw RangeError)', () => {
    expectBadRecord('ipfix', '000a0029' + '00000000'.repeat(3) + TEMPLATE_VAR_THEN_FIXED + '01000009' + '0361626300');
  });

  it('NetFlow v9: the same with a field length of 65535 (threw RangeError)', () => {
    expectBadRecord('netflow9', '00090002' + '00000000'.repeat(4) + '0000001001000002' + '0052ffff00010004' + '01000009' + '0361626300');
  });

  it('IPFIX: fixed field after a variable-length field, cut before another set (read the next set\'s bytes)', () => {
    // The 4-byte field would take 00 + the next set's header 01 01 00: octetDeltaCount 65792.
    expectBadRecord('ipfix', '000a002d' + '00000000'.repeat(3) + TEMPLATE_VAR_THEN_FIXED + '01000009' + '0361626300' + '01010004');
  });

  it('IPFIX: length byte of a variable-length field missing at the end of the set (phantom empty field)', () => {
    // Template 256 = [82 variable, 83 variable]; record 01 'a' and nothing for field 83.
    expectBadRecord('ipfix', '000a0026' + '00000000'.repeat(3) + '00020010' + '01000002' + '0052ffff0053ffff' + '01000006' + '0161');
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips of the builders themselves: specific values, not fuzz.

describe('datagram builders round-trip through the decoders', () => {
  const ex = makeExporter(Uint8Array.from([192, 0, 2, 7]), 2055);

  it('NetFlow v5: header and record fields', () => {
    const b = netflow5({
      uptimeMs: 100_000,
      unixSecs: 1_700_000_000,
      unixNsecs: 500_000_000,
      sequence: 42,
      samplingMode: 1,
      samplingInterval: 100,
      records: [
        { srcAddr: ADDR_A, dstAddr: ADDR_B, nextHop: [10, 0, 0, 1], input: 3, output: 4, packets: 7, octets: 7000, first: 90_000, last: 99_000, srcPort: 1234, dstPort: 80, tcpFlags: 0x1b, proto: 6, tos: 0x10, srcAs: 64500, dstAs: 64501, srcMask: 24, dstMask: 16 },
        { proto: 17, srcPort: 53, dstPort: 5353 },
      ],
    });
    expect(b.bytes.length).to.equal(24 + 2 * 48);
    const out = new DatagramDecoder().decode(b.bytes, ex, 1);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(2);
    const f = out.flows[0];
    expect([...f.src_addr]).to.deep.equal(ADDR_A);
    expect([...f.dst_addr]).to.deep.equal(ADDR_B);
    expect([...f.next_hop]).to.deep.equal([10, 0, 0, 1]);
    expect([f.in_if, f.out_if, f.packets, f.bytes]).to.deep.equal([3, 4, 7, 7000]);
    expect([f.src_port, f.dst_port, f.tcp_flags, f.proto, f.ip_tos]).to.deep.equal([1234, 80, 0x1b, 6, 0x10]);
    expect([f.src_as, f.dst_as, f.src_net, f.dst_net]).to.deep.equal([64500, 64501, 24, 16]);
    const exportUs = 1_700_000_000 * 1e6 + 500_000;
    expect(f.time_flow_start_us).to.equal(exportUs - 10_000_000);
    expect(f.time_flow_end_us).to.equal(exportUs - 1_000_000);
    expect(f.sampling_rate).to.equal(100);
    expect(f.sequence_num).to.equal(42);
    expect([out.flows[1].proto, out.flows[1].src_port, out.flows[1].dst_port]).to.deep.equal([17, 53, 5353]);
  });

  it('NetFlow v9: template, options template and options data (sampling), data flowset', () => {
    const opts: OptionsTemplateDef = { id: 400, scope: [{ id: 1, length: 4 }], options: [{ id: 34, length: 4 }, { id: 35, length: 1 }] };
    const t: TemplateDef = { id: 256, fields: [...GOOD_TEMPLATE.fields, { id: 22, length: 4 }, { id: 21, length: 4 }] };
    const b = netflow9({
      uptimeMs: 200_000,
      unixSecs: 1_700_000_000,
      sequence: 9,
      sourceId: 33,
      flowsets: [
        { kind: 'template', templates: [t] },
        { kind: 'options_template', templates: [opts] },
        optionsDataSet(opts, [[0, 1000, 2]]),
        dataSet(t, goodRecords(2).map((r) => [...r, 150_000, 190_000])),
      ],
    });
    // Header count: 1 template + 1 options template + 1 options record + 2 data records.
    expect(b.bytes.readUInt16BE(2)).to.equal(5);
    expect(b.bytes.length % 4).to.equal(0);
    expect(b.templateIds).to.deep.equal([256, 400]);
    const out = new DatagramDecoder().decode(b.bytes, ex, 1);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(2);
    const f = out.flows[0];
    expect([...f.src_addr]).to.deep.equal(ADDR_A);
    expect([f.src_port, f.dst_port, f.proto, f.packets, f.bytes]).to.deep.equal([1000, 443, 6, 10, 1500]);
    expect(f.sampling_rate).to.equal(1000);
    expect(f.sampling_rate_source).to.equal(SamplingRateSource.SAMPLING_OPTIONS);
    expect(f.observation_domain_id).to.equal(33);
    expect(f.time_flow_start_us).to.equal((1_700_000_000_000 - 50_000) * 1000);
    expect(f.time_flow_end_us).to.equal((1_700_000_000_000 - 10_000) * 1000);
  });

  it('NetFlow v9: data before its template (same datagram) is held, then decoded', () => {
    const b = netflow9({ flowsets: [dataSet(GOOD_TEMPLATE, goodRecords(3)), { kind: 'template', templates: [GOOD_TEMPLATE] }] });
    const dec = new DatagramDecoder();
    const out = dec.decode(b.bytes, ex, 1);
    expect(out.errors.map((e) => e.reason)).to.deep.equal(['template_missing']);
    expectGoodFlows(out.flows);
    expect(dec.state.pending.count).to.equal(0);
  });

  it('IPFIX: enterprise fields and variable-length fields (1- and 3-byte length prefixes)', () => {
    const t: TemplateDef = {
      id: 500,
      fields: [
        { id: 8, length: 4 },
        { id: 82, length: VARIABLE_LENGTH }, // interfaceName
        { id: 1, length: 8, enterprise: 29305 }, // reverseOctetDeltaCount (RFC 5103)
        { id: 7, length: 2 },
        { id: 14, length: VARIABLE_LENGTH, enterprise: 6871 },
      ],
    };
    const long = Buffer.alloc(300, 0x61);
    const b = ipfix({
      exportSecs: 1_700_000_000,
      sequence: 5,
      domain: 12,
      sets: [{ kind: 'template', templates: [t] }, dataSet(t, [[ADDR_A, Buffer.from('eth0'), 123456789n, 22, Buffer.alloc(0)], [ADDR_B, long, 1, 23, Buffer.from([1, 2])]])],
    });
    expect(b.bytes.readUInt16BE(2)).to.equal(b.bytes.length);
    // The 300-byte value uses 255 + 2-byte length (RFC 7011 §7).
    expect(b.lengthFields.filter((f) => f.what.includes('16-bit length'))).to.have.length(1);
    const out = new DatagramDecoder().decode(b.bytes, ex, 1);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(2);
    const [f0, f1] = out.flows;
    expect([...f0.src_addr]).to.deep.equal(ADDR_A);
    expect(f0.src_port).to.equal(22);
    expect(f0.observation_domain_id).to.equal(12);
    const extra = (f: FlowRecord, enterprise: number, id: number): string | undefined => {
      const e = f.extra_fields.find((x) => x.enterprise === enterprise && x.id === id);
      return e === undefined ? undefined : Buffer.from(e.value).toString('hex');
    };
    expect(extra(f0, 0, 82)).to.equal(Buffer.from('eth0').toString('hex'));
    expect(extra(f0, 29305, 1)).to.equal('00000000075bcd15');
    expect(extra(f0, 6871, 14)).to.equal('');
    expect(extra(f1, 0, 82)).to.equal(long.toString('hex'));
    expect(extra(f1, 6871, 14)).to.equal('0102');
    expect([...f1.src_addr]).to.deep.equal(ADDR_B);
    expect(f1.src_port).to.equal(23);
  });

  it('IPFIX: options template (scope observationDomainId) sets the sampling rate', () => {
    const opts: OptionsTemplateDef = { id: 600, scope: [{ id: 149, length: 4 }], options: [{ id: 305, length: 4 }, { id: 306, length: 4 }] };
    const b = ipfix({
      domain: 3,
      sets: [
        { kind: 'options_template', templates: [opts] },
        optionsDataSet(opts, [[3, 1, 99]]), // 1 packet sampled, 99 skipped: 1 in 100
        { kind: 'template', templates: [GOOD_TEMPLATE] },
        dataSet(GOOD_TEMPLATE, goodRecords(3)),
      ],
    });
    const out = new DatagramDecoder().decode(b.bytes, ex, 1);
    expect(out.errors).to.deep.equal([]);
    expectGoodFlows(out.flows);
    expect(out.flows.map((f) => f.sampling_rate)).to.deep.equal([100, 100, 100]);
  });

  it('IPFIX: template withdrawal (RFC 7011 §8.1) forgets the template; later data is held', () => {
    const dec = new DatagramDecoder();
    const define = ipfix({ sets: [{ kind: 'template', templates: [GOOD_TEMPLATE] }, dataSet(GOOD_TEMPLATE, goodRecords(3))] });
    expectGoodFlows(dec.decode(define.bytes, ex, 1).flows);
    const withdraw = ipfix({ sequence: 3, sets: [{ kind: 'withdrawal', ids: [300] }] });
    expect(withdraw.bytes.length).to.equal(16 + 8);
    expect(dec.decode(withdraw.bytes, ex, 2).errors).to.deep.equal([]);
    expect(dec.state.templates.size).to.equal(0);
    const again = dec.decode(ipfix({ sequence: 3, sets: [dataSet(GOOD_TEMPLATE, goodRecords(1))] }).bytes, ex, 3);
    expect(again.flows).to.have.length(0);
    expect(again.errors.map((e) => e.reason)).to.deep.equal(['template_missing']);
  });

  it('IPFIX: options template withdrawal (4-byte record in set 3, RFC 7011 §8.1) forgets the options template', () => {
    const dec = new DatagramDecoder();
    const opts: OptionsTemplateDef = { id: 600, scope: [{ id: 149, length: 4 }], options: [{ id: 34, length: 4 }] };
    dec.decode(ipfix({ sets: [{ kind: 'options_template', templates: [opts] }] }).bytes, ex, 1);
    expect(dec.state.templates.snapshot().map((s) => s.id)).to.deep.equal([600]);
    const withdraw = ipfix({ sets: [{ kind: 'withdrawal', options: true, ids: [600] }] });
    // Set ID 3, length 8: template id + field count 0, no scope field count.
    expect(withdraw.bytes.subarray(16).toString('hex')).to.equal('0003000802580000');
    dec.decode(withdraw.bytes, ex, 2);
    expect(dec.state.templates.snapshot().map((s) => s.id), 'options template still known after its withdrawal').to.deep.equal([]);
  });

  it('IPFIX: all-data-templates withdrawal (id 2) keeps options templates', () => {
    const dec = new DatagramDecoder();
    const opts: OptionsTemplateDef = { id: 600, scope: [{ id: 149, length: 4 }], options: [{ id: 34, length: 4 }] };
    dec.decode(ipfix({ sets: [{ kind: 'template', templates: [GOOD_TEMPLATE, { id: 301, fields: [{ id: 8, length: 4 }] }] }, { kind: 'options_template', templates: [opts] }] }).bytes, ex, 1);
    expect(dec.state.templates.size).to.equal(3);
    dec.decode(ipfix({ sets: [{ kind: 'withdrawal', ids: [2] }] }).bytes, ex, 2);
    expect(dec.state.templates.snapshot().map((s) => s.id)).to.deep.equal([600]);
  });

  it('sFlow v5: flow sample with a raw IPv4/TCP header, expanded flow sample, counter sample', () => {
    const ip = ipv4TcpHeader({ src: ADDR_A, dst: ADDR_B, srcPort: 40000, dstPort: 443, flags: 0x12, ttl: 60, tos: 0x20 });
    const frame = ethernetFrame([0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], 0x0800, ip, 42);
    const b = sflow({
      agent: [192, 0, 2, 250],
      subAgent: 1,
      sequence: 77,
      samples: [
        {
          kind: 'flow',
          sequence: 10,
          sourceType: 0,
          sourceIndex: 3,
          samplingRate: 2048,
          samplePool: 100_000,
          input: { format: 0, value: 3 },
          output: { format: 0, value: 4 },
          records: [{ kind: 'raw_header', protocol: 11, frameLength: 1514, header: ip }],
        },
        {
          kind: 'flow',
          expanded: true,
          sequence: 11,
          sourceType: 0,
          sourceIndex: 0x1000000, // beyond 24 bits: expanded form only
          samplingRate: 4096,
          input: { format: 0, value: 0x40000000 },
          output: { format: 1, value: 5 }, // discarded: no output interface
          records: [
            { kind: 'raw_header', protocol: 1, frameLength: 1518, header: frame },
            { kind: 'extended_switch', srcVlan: 42, srcPriority: 0, dstVlan: 43, dstPriority: 0 },
            { kind: 'extended_router', nextHop: [10, 0, 0, 254], srcMask: 24, dstMask: 16 },
            { kind: 'extended_gateway', nextHop: [10, 0, 0, 253], as: 64500, srcAs: 64501, srcPeerAs: 64502, asPath: [{ type: 2, asns: [64510, 64511] }], communities: [0xfde80001], localPref: 100 },
            { kind: 'opaque', enterprise: 0, format: 1010, data: Buffer.from([1, 2, 3]) },
          ],
        },
        { kind: 'counters', sequence: 5, sourceType: 0, sourceIndex: 3, records: [{ kind: 'generic_if', ifIndex: 3, ifSpeed: 1_000_000_000n, ifInOctets: 2n ** 40n }, { kind: 'opaque', enterprise: 0, format: 2, data: Buffer.alloc(52) }] },
      ],
    });
    expect(b.flows).to.equal(2);
    expect(b.counters).to.equal(1);
    const out = new DatagramDecoder().decode(b.bytes, ex, 5);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(2);
    const [f0, f1] = out.flows;
    expect([...f0.src_addr]).to.deep.equal(ADDR_A);
    expect([...f0.dst_addr]).to.deep.equal(ADDR_B);
    expect([f0.src_port, f0.dst_port, f0.proto, f0.tcp_flags, f0.ip_ttl, f0.ip_tos]).to.deep.equal([40000, 443, 6, 0x12, 60, 0x20]);
    expect([f0.sampling_rate, f0.sampling_rate_source, f0.bytes, f0.packets]).to.deep.equal([2048, SamplingRateSource.SAMPLING_SFLOW, 1514, 1]);
    expect([f0.in_if, f0.out_if, f0.sflow_sub_agent_id, f0.sequence_num]).to.deep.equal([3, 4, 1, 77]);
    expect([...f0.sampler_address]).to.deep.equal([192, 0, 2, 250]);
    expect([f1.vlan_id, f1.src_vlan, f1.dst_vlan, f1.etype]).to.deep.equal([42, 42, 43, 0x0800]);
    expect([f1.src_mac, f1.dst_mac]).to.deep.equal([0x060708090a0b, 0x000102030405]);
    expect([f1.in_if, f1.out_if, f1.sampling_rate, f1.bytes]).to.deep.equal([0x40000000, 0, 4096, 1518]);
    expect([...f1.next_hop]).to.deep.equal([10, 0, 0, 254]);
    expect([f1.src_net, f1.dst_net]).to.deep.equal([24, 16]);
    expect([...f1.bgp_next_hop]).to.deep.equal([10, 0, 0, 253]);
    expect([f1.src_as, f1.dst_as, f1.next_hop_as]).to.deep.equal([64501, 64511, 64510]);
    expect([...f1.as_path]).to.deep.equal([64510, 64511]);
    expect([...f1.bgp_communities]).to.deep.equal([0xfde80001]);
    expect(out.counters).to.have.length(1);
    const c = out.counters[0];
    expect([c.if_index, c.if_speed, c.if_in_octets, c.if_out_octets, c.if_in_ucast_pkts]).to.deep.equal([3, 1_000_000_000n, 2n ** 40n, 98_765_432_109n, 1000]);
    expect([c.sequence_num, c.source_id_index]).to.deep.equal([5, 3]);
  });

  it('sFlow v5: IPv6 agent address and sampled_ipv4 without a raw header', () => {
    const agent = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const b = sflow({
      agent,
      samples: [{
        kind: 'flow',
        sequence: 1,
        sourceIndex: 1,
        samplingRate: 10,
        input: { format: 0, value: 1 },
        output: { format: 0, value: 2 },
        records: [{ kind: 'sampled_ip', length: 60, protocol: 17, src: ADDR_A, dst: ADDR_B, srcPort: 53, dstPort: 4000, tcpFlags: 0, tos: 8 }],
      }],
    });
    const out = new DatagramDecoder().decode(b.bytes, ex, 1);
    expect(out.errors).to.deep.equal([]);
    const f = out.flows[0];
    expect([...f.sampler_address]).to.deep.equal(agent);
    expect([...f.src_addr, ...f.dst_addr]).to.deep.equal([...ADDR_A, ...ADDR_B]);
    expect([f.proto, f.src_port, f.dst_port, f.ip_tos, f.bytes, f.etype]).to.deep.equal([17, 53, 4000, 8, 60, 0x0800]);
  });

  it('every known-good datagram decodes fully on a fresh decoder', () => {
    for (const p of PROTOCOLS) {
      const g = goodDatagram(p);
      const out = new DatagramDecoder().decode(g.bytes, ex, 1);
      expect(out.errors, p).to.deep.equal([]);
      expect(out.flows, p).to.have.length(g.flows);
      expect(out.counters, p).to.have.length(g.counters);
      expectGoodFlows(out.flows);
    }
  });
});

describe('direct-to-wire path equals the record path (fast-check)', () => {
  it('a released held set between two sets of one datagram keeps the datagram prefix intact (found by the property below)', () => {
    // NetFlow v9: data for template 1077 (with samplerId) arrives before its template, so it
    // is released mid-datagram with its own prefix. That prefix build once overwrote the
    // cached prefix of the datagram's other sets (a Buffer#slice view, not a copy), which
    // dropped the options sampling rate from later records.
    const bytes = Buffer.from('000a011542aa1cacd37df70518b48ab104ac00104085ce6b00000d48825b7f6000020020043900040005000100e10004800e000400001ad7800e000400001ad7043500040003001604ac00030001000a0004013100040132000404390011511bce823ba473262dd85b91d50002004c0411000700200002a2e00004d0534dea1c410004009800080036000400960004002f000404350007654f00070001000800010008003600041c450001800effff00001ad7003000010411005ede1182a80f0d48bebb442cc1e2e018997e434850ac99870c34aaa918bea109761fce0fcd5161c91bfb6eb6ab324f5f560ec88740608b9ed0627e6d28a9313eb36f07673e1ee8019e1a1866aadd6bcff6abf5bbc81c0e6d451e48', 'hex');
    const ex = makeExporter(Uint8Array.from([192, 0, 2, 77]), 4739);
    const viaRecords = new DatagramDecoder().decode(bytes, ex, 1_700_000_000_000_000);
    const batch = new WireBatch();
    new DatagramDecoder().decodeWire(bytes, ex, 1_700_000_000_000_000, 'auto', batch);
    expect(viaRecords.flows.map((r) => r.sampling_rate)).to.deep.equal([643246, 643246, 643246, 643246]);
    expect(batch.messages().map((m) => JSON.stringify(flowToJson(decodeFlowMessage(m))))).to.deep.equal(viaRecords.flows.map((r) => JSON.stringify(flowToJson(r))));
  });

  // The ingest hot path (DatagramDecoder.decodeWire) writes protobuf straight from template
  // code; converters and `decode` build FlowRecords. Both come from one read phase, and this
  // property holds them to the same result on valid and mutated datagrams of every protocol.
  const json = (r: FlowRecord): string => JSON.stringify(flowToJson(r));
  for (const p of PROTOCOLS) {
    it(`${p}: decodeWire messages decode to exactly the records decode gives`, () => {
      fc.assert(
        fc.property(fc.oneof(mutatedArb(p).map((m) => m.bytes), fc.integer().map((seed) => genValid(p, new Rng(seed), false).bytes)), (bytes) => {
          const ex = makeExporter(Uint8Array.from([192, 0, 2, 77]), 4739);
          const viaRecords = new DatagramDecoder().decode(bytes, ex, 1_700_000_000_000_000);
          const batch = new WireBatch();
          const viaWire = new DatagramDecoder().decodeWire(bytes, ex, 1_700_000_000_000_000, 'auto', batch);
          expect(viaWire.flows).to.have.length(0);
          const wire = batch.messages().map((m) => json(decodeFlowMessage(m)));
          const recs = viaRecords.flows.map(json);
          expect(wire.length, JSON.stringify(viaWire.errors.filter((e) => e.reason === "internal_error").map((e) => e.detail.slice(0, 300)))).to.equal(recs.length);
          for (let i = 0; i < recs.length; i++) {
            if (wire[i] === recs[i]) continue;
            const a = JSON.parse(wire[i]) as Record<string, unknown>;
            const b = JSON.parse(recs[i]) as Record<string, unknown>;
            const diff = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
            expect.fail(`record ${i}: wire vs record differ in ${diff.map((k) => `${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`).join('; ')}`);
          }
          expect(viaWire.errors.map((e) => e.reason)).to.deep.equal(viaRecords.errors.map((e) => e.reason));
        }),
        { numRuns: 600 * SCALE },
      );
    });
  }
});
