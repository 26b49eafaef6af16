// Acceptance 1: a bounded fuzz run against a running gateway's UDP port. At least 100,000
// random and mutated datagrams of every protocol (random bytes, random bytes behind valid
// version prefixes and framed sets, specification-built datagrams, their mutations, and
// mutations of every fixture and ../shared/captures datagram), with valid fixture traffic
// from other source addresses interleaved. The gateway is a real process (`flowgate run -c`,
// embedded bus, a CSV output); this test sends, keeps a mirror decoder and reads the results.
// Proven:
//
// - the gateway stays up (exits 0 on SIGTERM at the end) and its memory is bounded: the
//   gateway process's VmRSS (/proc/PID/status, read every RSS_EVERY batches) and its peak VmHWM
//   (read at the end, before SIGTERM) stay under RSS_BOUND_MB. Growth is checked where it can be
//   measured exactly: the mirror decoder (the same code fed the same datagrams, in this process)
//   has its heap after a full GC at the end within HEAP_GROWTH_MB of the heap half way. The
//   gateway's RSS is no leak check: without a forced GC it follows V8's heap sizing (the heap
//   grows with the allocation rate and is collected lazily), so in a 100,000-datagram run it
//   still rises from quarter to quarter while its live heap is flat (docs/PERFORMANCE.md);
// - no datagram is lost on the way: sent = flowgate_datagrams_received_total, none denied, and
//   the kernel dropped none (flowgate_socket_kernel_drops_total = 0; sends are paced in batches,
//   each waiting until the gateway's /metrics counts it received);
// - every bad datagram is counted by reason: a mirror decoder (same options, same datagrams, same
//   exporters, same order) says per datagram whether it decoded cleanly or with which problems,
//   and flowgate_decode_errors_total{reason} equals the mirror's count for every reason; clean +
//   bad = sent; records decoded equal the mirror's; no internal_error;
// - every decoded record is delivered (the CSV files hold as many rows as records decoded), and
//   the valid traffic is fully decoded: the rows from its sources equal, column for column, what
//   `flowgate decode --format csv` prints for those captures.
//
// The seed is printed; FLOWGATE_FUZZ_SEED=<n> replays a run, FLOWGATE_FUZZ_DATAGRAMS=<n> makes it longer.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { expect } from 'chai';
import { EmbeddedBus } from '../../src/bus/embedded-bus';
import { parseConfig } from '../../src/config/config';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { PROTOCOLS, type Exporter } from '../../src/decode/types';
import { COMPUTED_COLUMNS, knownColumns } from '../../src/outputs/csv/columns';
import { readCaptureFile } from '../../src/pcap/reader';
import { Gateway } from '../../src/runtime/gateway';
import { makeExporter, textToIp } from '../../src/util/ip';
import { jsonLines, killAllCliProcesses, sigterm, startGatewayProcess, type GatewayProcess } from '../support/cli-processes';
import { parseCsvLine, readCsvRows } from '../support/csv-rows';
import { describeCaptured, genValid, MAX_DATAGRAM, mutate, randomDatagram, randomMutations, Rng } from '../support/fuzz-generators';
import { CLI, FIXTURES, FLOW_FIXTURES, REPO, metricSum, scrapeMetrics, sleep } from '../support/gateway-harness';
import { Sender } from '../support/hardening-rig';

const GARBAGE = Math.max(100_000, Number(process.env.FLOWGATE_FUZZ_DATAGRAMS ?? '0') || 0);
const SEED = Number(process.env.FLOWGATE_FUZZ_SEED ?? '') || (Date.now() % 0x7fffffff);
/** Largest UDP payload over IPv4. */
const MAX_UDP = 65507;
/** Bound on the gateway process's RSS (VmRSS samples and VmHWM): see docs/PERFORMANCE.md. */
const RSS_BOUND_MB = 640;
/** The mirror decoder's heap after a full GC may grow by less than this from half way to the end. */
const HEAP_GROWTH_MB = 64;
/** Datagrams sent before waiting for the gateway to take them: well inside its receive buffer. */
const BATCH = 48;
/** The gateway's RSS is read every this many batches. */
const RSS_EVERY = 8;
/** Valid capture passes, each from its own source address (own template scopes). */
const VALID_SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const SHARED = path.resolve(REPO, '..', 'shared', 'captures');
/** CSV columns: every canonical field but the receive time (a live value decode cannot know). */
const COLUMNS = knownColumns().filter((c) => !COMPUTED_COLUMNS.includes(c) && c !== 'time_received_ns');
/** Not compared with decode: the exporter is the sender's socket, not the capture's; sampler_address follows it. */
const NOT_COMPARED = ['exporter_address', 'exporter_port', 'sampler_address'];

function configYaml(csvDir: string): string {
  return [
    'listeners: [{ listen: "127.0.0.1:0" }]',
    // Held data would otherwise age out by wall-clock time, which a mirror cannot reproduce.
    'decoder: { pending_max_age_seconds: 86400 }',
    'summary_interval_seconds: 0',
    'metrics: { listen: "127.0.0.1:0" }',
    'log: { level: info }',
    `outputs: [{ type: csv, directory: ${JSON.stringify(csvDir)}, time_format: epoch_ns, fields: [${COLUMNS.join(', ')}] }]`,
  ].join('\n');
}

/** A field of /proc/PID/status in MB (VmRSS, VmHWM). */
function procMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Comparable text of a CSV row: the compared columns (for sFlow not the flow times: they are the receive time). */
function comparable(cells: readonly string[], header: readonly string[]): string {
  const sflow = cells[header.indexOf('type')] === 'SFLOW_5';
  const out: string[] = [];
  header.forEach((h, i) => {
    if (NOT_COMPARED.includes(h) || (sflow && (h === 'time_flow_start_ns' || h === 'time_flow_end_ns'))) return;
    out.push(`${h}=${cells[i]}`);
  });
  return out.join(' ');
}

/** `flowgate decode --format csv` of a fixture, with COLUMNS, as comparable rows. */
function decodeCsv(file: string): string[] {
  const out = execFileSync(process.execPath, [CLI, 'decode', path.join(FIXTURES, file), '--format', 'csv', '--fields', COLUMNS.join(','), '--summary', 'none', '--counters', 'none'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const lines = out.split('\n');
  if (lines.pop() !== '') throw new Error(`decode ${file}: output does not end with a complete line`);
  const header = parseCsvLine(lines[0]);
  expect(header, `decode ${file}: header`).to.deep.equal(COLUMNS);
  return lines.slice(1).map((l) => {
    const cells = parseCsvLine(l);
    if (cells.length !== header.length) throw new Error(`decode ${file}: a row has ${cells.length} cells`);
    return comparable(cells, header);
  });
}

/** The gateway's V8 heap (used / total) and external memory from its /metrics, in MB: for the log. */
async function gatewayHeap(g: GatewayProcess): Promise<string> {
  const t = await scrapeMetrics(g.metricsPort);
  const mb = (n: string): string => (metricSum(t, n) / 1048576).toFixed(0);
  return `${mb('flowgate_nodejs_heap_size_used_bytes')}/${mb('flowgate_nodejs_heap_size_total_bytes')}+${mb('flowgate_nodejs_external_memory_bytes')}`;
}

/** Waits until the gateway's /metrics counts `n` datagrams received (bounded: fails after `ms`). */
async function settle(g: GatewayProcess, n: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (g.exited()) throw new Error(`the gateway exited (${await g.exit}):\n${g.lines.slice(-40).join('\n')}`);
    const text = await scrapeMetrics(g.metricsPort);
    const got = metricSum(text, 'flowgate_datagrams_received_total');
    if (got >= n) return;
    if (Date.now() > until) {
      throw new Error(`the gateway received ${got} of ${n} datagrams within ${ms} ms (kernel drops ${metricSum(text, 'flowgate_socket_kernel_drops_total')})`);
    }
    await sleep(1);
  }
}

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
  const senders: Sender[] = [];
  let dir: string | undefined;
  afterEach(async () => {
    await killAllCliProcesses();
    for (const s of senders.splice(0)) await s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it(`${GARBAGE} hostile datagrams + fixture traffic: gateway process up, bounded RSS, valid traffic decoded, every bad datagram counted by reason`, async () => {
    console.log(`      seed ${SEED} (FLOWGATE_FUZZ_SEED=${SEED} replays this run)`);
    const r = new Rng(SEED);
    dir = mkdtempSync(path.join(tmpdir(), 'flowgate-fuzz-'));
    const csvDir = path.join(dir, 'csv');
    const yaml = configYaml(csvDir);
    const configFile = path.join(dir, 'flowgate.yaml');
    writeFileSync(configFile, yaml);
    // Expected rows first: `flowgate decode` runs before the gateway, so it is not measured with it.
    const decoded = new Map(FLOW_FIXTURES.map((f) => [f, decodeCsv(f)] as const));

    const g = await startGatewayProcess(configFile, dir);
    const pid = g.child.pid;
    if (pid === undefined) throw new Error('the gateway process has no pid');
    const port = (jsonLines(g).find((l) => l.msg === 'listening')?.port);
    if (typeof port !== 'number') throw new Error(`no listening port in the gateway's log:\n${g.lines.join('\n')}`);
    // The mirror: a decoder built by the same Gateway constructor from the same config.
    const mirror: DatagramDecoder = new Gateway(parseConfig(yaml, configFile, {}), { bus: new EmbeddedBus(), log: { debug() {}, info() {}, warn() {}, error() {} } }).decoder;
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
    // Per valid source (address:port as the CSV output writes exporter_address, exporter_port):
    // a multiset of the rows `flowgate decode` prints for its capture.
    const expected = new Map<string, { file: string; addr: string; remaining: Map<string, number>; want: number; got: number }>();
    for (const addr of VALID_SOURCES) {
      for (const f of FLOW_FIXTURES) {
        const s = await Sender.bind(addr);
        senders.push(s);
        for (const d of readCaptureFile(path.join(FIXTURES, f)).datagrams) valid.push({ sender: s, bytes: d.payload, file: f });
        const rows = decoded.get(f) ?? [];
        const remaining = new Map<string, number>();
        for (const k of rows) remaining.set(k, (remaining.get(k) ?? 0) + 1);
        expected.set(`${s.address}|${s.port}`, { file: f, addr, remaining, want: rows.length, got: 0 });
      }
    }

    const caps = captured();
    const kinds = new Map<Kind, number>();
    const total = GARBAGE + valid.length;
    const validEvery = Math.floor(GARBAGE / valid.length);
    const quarter = Math.floor(GARBAGE / 4);
    let sent = 0;
    let v = 0;
    let batches = 0;
    // The gateway's RSS (MB), sampled through the run, with the quarter of the run it was read in.
    const rss: Array<{ q: number; mb: number }> = [{ q: 0, mb: procMb(pid, 'VmRSS') }];
    const gc = fullGc();
    const heapAfterGc: number[] = [];
    const heapOfGateway: string[] = [];
    for (let h = 0; h < GARBAGE; h++) {
      if ((h + 1) % quarter === 0 && heapAfterGc.length < 4) {
        await settle(g, sent);
        rss.push({ q: heapAfterGc.length, mb: procMb(pid, 'VmRSS') });
        heapOfGateway.push(await gatewayHeap(g));
        gc();
        heapAfterGc.push(process.memoryUsage().heapUsed);
      }
      const d = hostile(r, caps);
      kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
      const s = hostileSenders[h % hostileSenders.length];
      mirrorDecode(d.bytes, makeExporter(textToIp(s.address), s.port));
      await s.send(d.bytes, port, '127.0.0.1');
      sent++;
      if (h % validEvery === validEvery - 1 && v < valid.length) {
        const x = valid[v++];
        mirrorDecode(x.bytes, makeExporter(textToIp(x.sender.address), x.sender.port));
        await x.sender.send(x.bytes, port, '127.0.0.1');
        sent++;
      }
      if (sent % BATCH === 0) {
        await settle(g, sent);
        if (++batches % RSS_EVERY === 0) rss.push({ q: Math.min(3, Math.floor(h / quarter)), mb: procMb(pid, 'VmRSS') });
      }
    }
    for (; v < valid.length; v++) {
      const x = valid[v];
      mirrorDecode(x.bytes, makeExporter(textToIp(x.sender.address), x.sender.port));
      await x.sender.send(x.bytes, port, '127.0.0.1');
      sent++;
    }
    await settle(g, sent);
    const text = await scrapeMetrics(g.metricsPort);
    rss.push({ q: 3, mb: procMb(pid, 'VmRSS') });
    const hwm = procMb(pid, 'VmHWM');
    expect(g.exited(), 'the gateway process is up after the run').to.equal(false);

    const m = (name: string, labels: Record<string, string> = {}): number => metricSum(text, name, labels);
    const reasons = [...new Set([...mirrorErrors.keys(), ...text.split('\n').filter((l) => l.startsWith('flowgate_decode_errors_total{')).map((l) => /reason="([^"]+)"/.exec(l)?.[1] ?? '')])].filter(Boolean).sort();
    const peakIn = (q: number): number => Math.max(...rss.filter((x) => x.q === q).map((x) => x.mb));
    const peakRss = Math.max(...rss.map((x) => x.mb));
    console.log(`      sent ${sent} datagrams (${GARBAGE} hostile: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}; ${valid.length} valid fixture datagrams from ${VALID_SOURCES.join(', ')})`);
    console.log(`      received ${m('flowgate_datagrams_received_total')}, kernel drops ${m('flowgate_socket_kernel_drops_total')}, clean ${clean}, with problems ${bad}`);
    console.log(`      bad datagrams by first reason: ${[...badByFirstReason].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`      decode_errors_total by reason (gateway = mirror): ${reasons.map((k) => `${k} ${m('flowgate_decode_errors_total', { reason: k })}`).join(', ')}`);
    console.log(`      records decoded ${m('flowgate_records_decoded_total')} (mirror ${mirrorRecords}); templates active ${m('flowgate_templates_active')}; pending bytes ${m('flowgate_pending_bytes')}`);
    console.log(`      gateway process RSS: ${rss.length} samples, highest per quarter ${[0, 1, 2, 3].map((q) => `${peakIn(q).toFixed(0)}`).join(' / ')} MB, VmHWM ${hwm.toFixed(0)} MB (bound ${RSS_BOUND_MB} MB)`);
    console.log(`      gateway V8 heap used/total+external at each quarter (no forced GC): ${heapOfGateway.join(', ')} MB`);
    console.log(`      mirror decoder (this process): heap after full GC at each quarter ${heapAfterGc.map((x) => `${(x / 1048576).toFixed(0)} MB`).join(', ')} (growth bound ${HEAP_GROWTH_MB} MB)`);

    expect(sent).to.equal(total);
    expect(m('flowgate_datagrams_received_total')).to.equal(sent);
    expect(m('flowgate_datagrams_denied_total')).to.equal(0);
    expect(m('flowgate_socket_kernel_drops_total'), 'the kernel dropped datagrams: pacing failed').to.equal(0);
    expect(clean + bad).to.equal(sent);
    expect(m('flowgate_decode_errors_total', { reason: 'internal_error' })).to.equal(0);
    for (const k of reasons) expect(m('flowgate_decode_errors_total', { reason: k }), `decode errors, reason ${k}`).to.equal(mirrorErrors.get(k) ?? 0);
    expect(m('flowgate_records_decoded_total')).to.equal(mirrorRecords);
    // Memory of the gateway process.
    expect(peakRss, 'gateway VmRSS (MB)').to.be.below(RSS_BOUND_MB);
    expect(hwm, 'gateway VmHWM (MB)').to.be.below(RSS_BOUND_MB);
    // Growth: the gateway's RSS follows V8's heap sizing, not its live data (see the header), so
    // the leak check is the mirror's heap after a full GC. From half way on the template caches
    // and pending queues are full; what the decoders still add are compiled layouts (a cache of
    // at most 4096 per decoder).
    expect(heapAfterGc).to.have.length(4);
    expect((heapAfterGc[3] - heapAfterGc[1]) / 1048576, 'mirror decoder heap grows after the decoder state is full: a leak').to.be.below(HEAP_GROWTH_MB);
    // The decoder state stays inside its configured limits (3 hostile + 24 valid exporters).
    const limits = parseConfig(yaml, configFile, {}).decoder;
    expect(m('flowgate_pending_bytes')).to.be.at.most(limits.pending_max_bytes_total);
    expect(m('flowgate_templates_active')).to.be.at.most(27 * limits.max_templates_per_exporter);

    // The gateway stops cleanly; its CSV output then holds every record it decoded.
    expect(await sigterm(g), 'gateway exit code after SIGTERM').to.equal(0);
    const files = readdirSync(csvDir);
    expect(files.filter((f) => f.endsWith('.tmp')), 'CSV files left under a temporary name').to.deep.equal([]);
    const unexpected: string[] = [];
    let rows = 0;
    for (const f of files.filter((x) => x.endsWith('.csv')).sort()) {
      let headerChecked = false;
      rows += await readCsvRows(path.join(csvDir, f), (cells, header) => {
        if (!headerChecked) expect(header, `${f}: header`).to.deep.equal(COLUMNS);
        headerChecked = true;
        const e = expected.get(`${cells[header.indexOf('exporter_address')]}|${cells[header.indexOf('exporter_port')]}`);
        if (!e) return;
        e.got++;
        const k = comparable(cells, header);
        const n = e.remaining.get(k) ?? 0;
        if (n > 0) e.remaining.set(k, n - 1);
        else if (unexpected.length < 5) unexpected.push(`${e.file} from ${e.addr}: ${k}`);
      });
    }
    console.log(`      CSV output: ${rows} rows in ${files.length} files`);
    expect(rows, 'rows in the CSV files = records decoded').to.equal(mirrorRecords);

    // Valid traffic: per source, exactly what `flowgate decode` prints for the capture.
    expect(unexpected, 'rows from valid sources that `flowgate decode` does not print').to.deep.equal([]);
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
