// Acceptance 1: a bounded fuzz run against a running gateway's UDP port. At least 100,000
// random and mutated datagrams of every protocol (random bytes, random bytes behind valid
// version prefixes and framed sets, specification-built datagrams, their mutations, and
// mutations of every fixture and ../shared/captures datagram), with valid fixture traffic
// from other source addresses interleaved. Proven:
//
// - the gateway stays up and memory is bounded: the process RSS stays under RSS_BOUND_MB (the
//   gateway runs in this process, so the bound covers the mirror decoder and the generators as
//   well: an upper bound), and the heap after a full GC no longer grows once the decoder state
//   has reached its limits (heap at the end within HEAP_GROWTH_MB of the heap half way);
// - no datagram is lost on the way: sent = taken off the socket = flowgate_datagrams_received_total,
//   and the kernel dropped none (flowgate_socket_kernel_drops_total = 0; sends are paced in batches);
// - every bad datagram is counted by reason: a mirror decoder (same options, same datagrams, same
//   exporters, same order) says per datagram whether it decoded cleanly or with which problems,
//   and flowgate_decode_errors_total{reason} equals the mirror's count for every reason; clean +
//   bad = sent; records decoded equal the mirror's; no internal_error;
// - the valid traffic is fully decoded: the records from its sources equal what `flowgate decode`
//   prints for those captures.
//
// The seed is printed; FLOWGATE_FUZZ_SEED=<n> replays a run, FLOWGATE_FUZZ_DATAGRAMS=<n> makes it longer.

import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect } from 'chai';
import { flowToJson } from '../../src/canonical/flow-json';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import { EmbeddedBus } from '../../src/bus/embedded-bus';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { PROTOCOLS, type Exporter } from '../../src/decode/types';
import { readCaptureFile } from '../../src/pcap/reader';
import { Gateway } from '../../src/runtime/gateway';
import { makeExporter, textToIp } from '../../src/util/ip';
import { describeCaptured, genValid, MAX_DATAGRAM, mutate, randomDatagram, randomMutations, Rng } from '../support/fuzz-generators';
import { FIXTURES, FLOW_FIXTURES, REPO, decodeWithCli, liveComparable, metricSum } from '../support/gateway-harness';
import { Sender, settle, startRig, type Rig } from '../support/hardening-rig';

const GARBAGE = Math.max(100_000, Number(process.env.FLOWGATE_FUZZ_DATAGRAMS ?? '0') || 0);
const SEED = Number(process.env.FLOWGATE_FUZZ_SEED ?? '') || (Date.now() % 0x7fffffff);
/** Largest UDP payload over IPv4. */
const MAX_UDP = 65507;
const RSS_BOUND_MB = 800;
const HEAP_GROWTH_MB = 64;
/** Datagrams sent before waiting for the gateway to take them: well inside its receive buffer. */
const BATCH = 48;
/** Valid capture passes, each from its own source address (own template scopes). */
const VALID_SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const SHARED = path.resolve(REPO, '..', 'shared', 'captures');

const CONFIG = [
  'listeners: [{ listen: "127.0.0.1:0" }]',
  // Held data would otherwise age out by wall-clock time, which a mirror cannot reproduce.
  'decoder: { pending_max_age_seconds: 86400 }',
  'summary_interval_seconds: 0',
  'log: { level: warn }',
].join('\n');

/** Every datagram of the fixtures and the shared captures: the material for mutations. */
function captured(): Buffer[] {
  const out: Buffer[] = [];
  for (const f of FLOW_FIXTURES) for (const d of readCaptureFile(path.join(FIXTURES, f)).datagrams) out.push(d.payload);
  for (const f of readdirSync(SHARED).sort()) {
    if (f.endsWith('.pcap')) for (const d of readCaptureFile(path.join(SHARED, f)).datagrams) out.push(d.payload);
    else if (f.endsWith('.dat')) out.push(readFileSync(path.join(SHARED, f)));
  }
  return out;
}

type Kind = 'random' | 'framed' | 'built' | 'mutated' | 'capture-mutated' | 'capture-bytes' | 'empty';

/** One hostile datagram and what kind it is. */
function hostile(r: Rng, caps: readonly Buffer[]): { kind: Kind; bytes: Buffer } {
  const roll = r.int(0, 99);
  const p = r.pick(PROTOCOLS);
  const clip = (b: Buffer): Buffer => (b.length > MAX_UDP ? b.subarray(0, MAX_UDP) : b);
  if (roll < 15) {
    const len = r.bool(0.97) ? r.int(0, 2048) : r.int(2049, MAX_UDP);
    return { kind: 'random', bytes: r.bool(0.3) ? r.bytes(len) : randomDatagram(p, r.next() | 0, len, 0) };
  }
  if (roll < 27) return { kind: 'framed', bytes: clip(randomDatagram(p, r.next() | 0, r.int(16, r.bool(0.9) ? 2048 : 20_000), 1)) };
  if (roll < 37) return { kind: 'built', bytes: clip(genValid(p, r, r.bool(0.3)).bytes) };
  if (roll < 67) return { kind: 'mutated', bytes: clip(mutate(p, genValid(p, r, r.bool(0.3)), randomMutations(r))) };
  const raw = r.pick(caps);
  const built = describeCaptured(raw);
  if (roll < 93 && built) return { kind: 'capture-mutated', bytes: clip(mutate(built.protocol, built, randomMutations(r))) };
  if (roll < 99) {
    // Byte-level damage only: flips, a truncation, a copy of a piece appended.
    const b = Buffer.from(raw);
    for (let k = r.int(1, 8); k > 0 && b.length; k--) b[r.int(0, b.length - 1)] ^= 1 << r.int(0, 7);
    const cut = r.bool(0.5) ? b.subarray(0, r.int(0, b.length)) : b;
    return { kind: 'capture-bytes', bytes: clip(r.bool(0.2) ? Buffer.concat([cut, cut.subarray(0, r.int(0, cut.length))]) : cut) };
  }
  return { kind: 'empty', bytes: Buffer.alloc(0) };
}

/** A full GC between quarters makes heap figures comparable (mocha runs without --expose-gc). */
function fullGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('hardening: fuzz the running gateway over UDP (acceptance 1)', function () {
  this.timeout(900_000);
  let rig: Rig | undefined;
  const senders: Sender[] = [];
  after(async () => {
    for (const s of senders.splice(0)) await s.close();
    await rig?.stop();
  });

  it(`${GARBAGE} hostile datagrams + fixture traffic: up, bounded memory, valid traffic decoded, every bad datagram counted by reason`, async () => {
    console.log(`      seed ${SEED} (FLOWGATE_FUZZ_SEED=${SEED} replays this run)`);
    const r = new Rng(SEED);
    rig = await startRig(CONFIG, { keepRecords: false });
    const port = rig.port();
    // The mirror: a decoder built by the same Gateway constructor from the same config.
    const mirror: DatagramDecoder = new Gateway(rig.config, { bus: new EmbeddedBus(), log: { debug() {}, info() {}, warn() {}, error() {} } }).decoder;
    const mirrorErrors = new Map<string, number>();
    const badByFirstReason = new Map<string, number>();
    let mirrorRecords = 0;
    let clean = 0;
    let bad = 0;
    const mirrorDecode = (b: Buffer, ex: Exporter): void => {
      const out = mirror.decode(b, ex, Date.now() * 1000);
      mirrorRecords += out.flows.length;
      if (out.errors.length === 0) clean++;
      else {
        bad++;
        badByFirstReason.set(out.errors[0].reason, (badByFirstReason.get(out.errors[0].reason) ?? 0) + 1);
      }
      for (const e of out.errors) mirrorErrors.set(e.reason, (mirrorErrors.get(e.reason) ?? 0) + 1);
    };

    // Sources: hostile traffic from 127.0.0.1 (three ports: three exporters' template scopes),
    // valid captures from other addresses, one socket per capture per pass as a replay would.
    const hostileSenders = [];
    for (let i = 0; i < 3; i++) hostileSenders.push(await Sender.bind('127.0.0.1'));
    senders.push(...hostileSenders);
    const valid: Array<{ sender: Sender; bytes: Buffer; file: string }> = [];
    const validSenders = new Map<string, Sender>();
    for (const addr of VALID_SOURCES) {
      for (const f of FLOW_FIXTURES) {
        const s = await Sender.bind(addr);
        senders.push(s);
        validSenders.set(`${addr}|${f}`, s);
        for (const d of readCaptureFile(path.join(FIXTURES, f)).datagrams) valid.push({ sender: s, bytes: d.payload, file: f });
      }
    }
    // Records published by the valid sources must be exactly what `flowgate decode` prints for
    // their captures. Checked as they arrive against a multiset of the expected records, so
    // the test's own memory does not grow with the run (the heap is measured below).
    const expected = new Map<string, { file: string; addr: string; fields: string[]; remaining: Map<string, number>; want: number; got: number }>();
    for (const f of FLOW_FIXTURES) {
      const cli = decodeWithCli(f);
      const fields = Object.keys(cli[0] ?? {}).filter((k) => !['exporter_address', 'exporter_port', 'sampler_address'].includes(k));
      for (const addr of VALID_SOURCES) {
        const snd = validSenders.get(`${addr}|${f}`);
        if (!snd) throw new Error('no sender');
        const remaining = new Map<string, number>();
        for (const j of cli) {
          const k = liveComparable(j, fields);
          remaining.set(k, (remaining.get(k) ?? 0) + 1);
        }
        expected.set(`${snd.address}|${snd.port}`, { file: f, addr, fields, remaining, want: cli.length, got: 0 });
      }
    }
    const unexpected: string[] = [];
    rig.bus.subscribe((topic, msgs) => {
      if (topic !== 'flows') return;
      for (const msg of msgs) {
        const j = flowToJson(decodeFlowMessage(msg.value)) as Record<string, unknown>;
        const e = expected.get(`${String(j.exporter_address)}|${String(j.exporter_port)}`);
        if (!e) continue;
        e.got++;
        const k = liveComparable(j, e.fields);
        const n = e.remaining.get(k) ?? 0;
        if (n > 0) e.remaining.set(k, n - 1);
        else if (unexpected.length < 5) unexpected.push(`${e.file} from ${e.addr}: ${k}`);
      }
    });

    const caps = captured();
    const kinds = new Map<Kind, number>();
    const total = GARBAGE + valid.length;
    const validEvery = Math.floor(GARBAGE / valid.length);
    let sent = 0;
    let v = 0;
    let peakRss = process.memoryUsage().rss;
    let peakHeap = process.memoryUsage().heapUsed;
    const gc = fullGc();
    const heapAfterGc: number[] = [];
    for (let g = 0; g < GARBAGE; g++) {
      if ((g + 1) % Math.floor(GARBAGE / 4) === 0 && heapAfterGc.length < 4) {
        await settle(rig, sent);
        gc();
        heapAfterGc.push(process.memoryUsage().heapUsed);
      }
      const h = hostile(r, caps);
      kinds.set(h.kind, (kinds.get(h.kind) ?? 0) + 1);
      const s = hostileSenders[g % hostileSenders.length];
      mirrorDecode(h.bytes, makeExporter(textToIp(s.address), s.port));
      await s.send(h.bytes, port, '127.0.0.1');
      sent++;
      if (g % validEvery === validEvery - 1 && v < valid.length) {
        const d = valid[v++];
        mirrorDecode(d.bytes, makeExporter(textToIp(d.sender.address), d.sender.port));
        await d.sender.send(d.bytes, port, '127.0.0.1');
        sent++;
      }
      if (sent % BATCH === 0) {
        await settle(rig, sent);
        if (sent % (BATCH * 50) === 0) {
          const mu = process.memoryUsage();
          peakRss = Math.max(peakRss, mu.rss);
          peakHeap = Math.max(peakHeap, mu.heapUsed);
        }
      }
    }
    for (; v < valid.length; v++) {
      const d = valid[v];
      mirrorDecode(d.bytes, makeExporter(textToIp(d.sender.address), d.sender.port));
      await d.sender.send(d.bytes, port, '127.0.0.1');
      sent++;
    }
    await settle(rig, sent);
    await new Promise((res) => setImmediate(res)); // the embedded bus delivers on the next turn
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const text = await rig.metrics();
    const m = (name: string, labels: Record<string, string> = {}): number => metricSum(text, name, labels);
    const reasons = [...new Set([...mirrorErrors.keys(), ...text.split('\n').filter((l) => l.startsWith('flowgate_decode_errors_total{')).map((l) => /reason="([^"]+)"/.exec(l)?.[1] ?? '')])].filter(Boolean).sort();
    console.log(`      sent ${sent} datagrams (${GARBAGE} hostile: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; ${valid.length} valid fixture datagrams from ${VALID_SOURCES.join(', ')})`);
    console.log(`      received ${m('flowgate_datagrams_received_total')}, kernel drops ${m('flowgate_socket_kernel_drops_total')}, clean ${clean}, with problems ${bad}`);
    console.log(`      bad datagrams by first reason: ${[...badByFirstReason].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`      decode_errors_total by reason (gateway = mirror): ${reasons.map((k) => `${k} ${m('flowgate_decode_errors_total', { reason: k })}`).join(', ')}`);
    console.log(`      records decoded ${m('flowgate_records_decoded_total')} (mirror ${mirrorRecords}); templates active ${m('flowgate_templates_active')}; pending bytes ${m('flowgate_pending_bytes')}`);
    const mu = process.memoryUsage();
    console.log(`      peak RSS ${(peakRss / 1048576).toFixed(0)} MB (bound ${RSS_BOUND_MB} MB; gateway, mirror and generators in one process); peak heap used ${(peakHeap / 1048576).toFixed(0)} MB; at the end heap ${(mu.heapUsed / 1048576).toFixed(0)} MB, external ${(mu.external / 1048576).toFixed(0)} MB`);

    expect(sent).to.equal(total);
    expect(rig.taken()).to.equal(sent);
    expect(m('flowgate_datagrams_received_total')).to.equal(sent);
    expect(m('flowgate_socket_kernel_drops_total'), 'the kernel dropped datagrams: pacing failed').to.equal(0);
    expect(clean + bad).to.equal(sent);
    expect(m('flowgate_decode_errors_total', { reason: 'internal_error' })).to.equal(0);
    for (const k of reasons) expect(m('flowgate_decode_errors_total', { reason: k }), `decode errors, reason ${k}`).to.equal(mirrorErrors.get(k) ?? 0);
    expect(m('flowgate_records_decoded_total')).to.equal(mirrorRecords);
    console.log(`      heap after full GC at each quarter: ${heapAfterGc.map((h) => `${(h / 1048576).toFixed(0)} MB`).join(', ')} (growth bound ${HEAP_GROWTH_MB} MB)`);
    expect(peakRss / 1048576).to.be.below(RSS_BOUND_MB);
    expect(heapAfterGc).to.have.length(4);
    // From half way on: by then the template caches and pending queues are full; what the
    // decoders still add are compiled layouts (a cache of at most 4096 per decoder).
    expect((heapAfterGc[3] - heapAfterGc[1]) / 1048576, 'heap grows after the decoder state is full: a leak').to.be.below(HEAP_GROWTH_MB);
    // The decoder state stays inside its configured limits (3 hostile + 24 valid exporters).
    expect(m('flowgate_pending_bytes')).to.be.at.most(rig.config.decoder.pending_max_bytes_total);
    expect(m('flowgate_templates_active')).to.be.at.most(27 * rig.config.decoder.max_templates_per_exporter);

    // Valid traffic: per source, exactly what `flowgate decode` prints for the capture.
    expect(unexpected, 'records from valid sources that `flowgate decode` does not print').to.deep.equal([]);
    let validRecords = 0;
    for (const e of expected.values()) {
      expect(e.got, `${e.file} from ${e.addr}: records`).to.equal(e.want);
      expect([...e.remaining.values()].every((n) => n === 0), `${e.file} from ${e.addr}: every record`).to.equal(true);
      validRecords += e.got;
    }
    console.log(`      valid traffic: ${validRecords} records from ${expected.size} sources, each capture's records exactly as \`flowgate decode\` prints them`);
    expect(MAX_DATAGRAM).to.be.greaterThan(MAX_UDP); // generators may build more than UDP carries: clipped above
  });
});
