// `flowgate replay` and src/replay: captures sent to a local UDP receiver (127.0.0.1 / ::1 only),
// through the real command line and through the API. What a gateway sees is checked with the
// project's own DatagramDecoder: bytes, exporters (source ports), order, sequence continuity.

import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { DatagramDecoder, detectProtocol } from '../src/decode/datagram-decoder';
import type { DecodeOutput } from '../src/decode/types';
import { readCaptureFile, type CapturedDatagram } from '../src/pcap/reader';
import { writePcap } from '../src/pcap/writer';
import { IpfixRecordCounter } from '../src/replay/ipfix-record-count';
import { parseCount, parseSpeed } from '../src/replay/option-values';
import { loadReplayDatagrams, parseRate, parseTarget, replay, type ReplayDatagram, type ReplayStats } from '../src/replay/replayer';
import { DatagramRewriter } from '../src/replay/rewriter';
import { resolveTarget } from '../src/replay/target';
import { makeExporter, textToIp } from '../src/util/ip';
import { dataSet, ipfix, optionsDataSet, VARIABLE_LENGTH, type FieldValue, type IpfixSet, type OptionsTemplateDef, type TemplateDef } from './support/datagram-builders';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const FIXTURES = path.join(ROOT, 'fixtures');

interface ManifestEntry {
  file: string;
  protocol: string;
  udp_port: number;
  exporter: string;
}

const MANIFEST = JSON.parse(readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as ManifestEntry[];
const fixture = (file: string): string => path.join(FIXTURES, file);

// ---------------------------------------------------------------------------------------------
// A local receiver standing in for the gateway

interface Received {
  data: Buffer;
  address: string;
  port: number;
}

class Receiver {
  readonly got: Received[] = [];

  private constructor(private readonly socket: Socket, readonly host: string) {
    socket.on('message', (data, rinfo) => this.got.push({ data, address: rinfo.address, port: rinfo.port }));
  }

  static async open(host: '127.0.0.1' | '::1' = '127.0.0.1'): Promise<Receiver> {
    const socket = createSocket({ type: host === '::1' ? 'udp6' : 'udp4', recvBufferSize: 8 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const r = new Receiver(socket, host);
    open.push(r);
    return r;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** "--to" text for this receiver. */
  get to(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Waits for n datagrams, then a little longer so that extra ones would show up too. */
  async waitFor(n: number, ms = 10_000): Promise<Received[]> {
    const deadline = Date.now() + ms;
    while (this.got.length < n && Date.now() < deadline) await delay(10);
    await delay(50);
    return this.got;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const open: Receiver[] = [];

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The command line as a child process (async: the receiver in this process must keep reading)

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

type Summary = Record<string, unknown> & { skipped: Record<string, number> };

function summaryOf(r: CliResult): Summary {
  expect(r.status, r.stderr).to.equal(0);
  const lines = r.stderr.trim().split('\n');
  const parsed = JSON.parse(lines[lines.length - 1]) as { summary?: Summary };
  expect(parsed.summary, r.stderr).to.be.an('object');
  return parsed.summary as Summary;
}

// ---------------------------------------------------------------------------------------------
// What the gateway would make of it

const hex = (b: Buffer): string => b.toString('hex');

function byExporter(ds: readonly ReplayDatagram[]): Map<string, Buffer[]> {
  const m = new Map<string, Buffer[]>();
  for (const d of ds) {
    const list = m.get(d.exporterKey) ?? [];
    list.push(d.payload);
    m.set(d.exporterKey, list);
  }
  return m;
}

function bySourcePort(got: readonly Received[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  got.forEach((r, i) => {
    const list = m.get(r.port) ?? [];
    list.push(i);
    m.set(r.port, list);
  });
  return m;
}

/**
 * Every original exporter arrived from a source port of its own, with exactly its datagrams
 * byte for byte in their original order (`loops` times over). Returns exporter -> port.
 */
function expectExportersPreserved(got: readonly Received[], original: readonly ReplayDatagram[], loops = 1): Map<string, number> {
  const exporters = byExporter(original);
  const ports = bySourcePort(got);
  expect(ports.size, 'distinct source ports').to.equal(exporters.size);
  const mapping = new Map<string, number>();
  for (const [port, idx] of ports) {
    const first = got[idx[0]].data;
    const match = [...exporters].find(([, list]) => list[0].equals(first));
    expect(match, `datagrams from port ${port} match no exporter`).to.not.equal(undefined);
    const [key, list] = match as [string, Buffer[]];
    expect(mapping.has(key), `exporter ${key} seen on two ports`).to.equal(false);
    mapping.set(key, port);
    const expected: string[] = [];
    for (let k = 0; k < loops; k++) expected.push(...list.map(hex));
    expect(idx.map((i) => hex(got[i].data)), `datagrams of ${key}`).to.deep.equal(expected);
  }
  return mapping;
}

function gapOf(out: DecodeOutput): number {
  // sFlow reports lost datagrams as an error entry, lost samples in sequenceGap.
  let gap = out.sequenceGap;
  for (const e of out.errors) if (e.reason === 'sequence_gap') gap += e.count;
  return gap;
}

const BASE_US = 1_750_000_000_000_000;

function decodeGaps(got: readonly Received[], upTo = got.length, decoder = new DatagramDecoder()): number[] {
  const gaps: number[] = [];
  for (let i = 0; i < upTo; i++) gaps.push(gapOf(decoder.decode(got[i].data, makeExporter(textToIp(got[i].address), got[i].port), BASE_US + i * 1000)));
  return gaps;
}

/** Offset of the header sequence number (v5, v9, IPFIX, sFlow datagram sequence). */
function headerSequenceOffset(b: Buffer): number {
  switch (detectProtocol(b)) {
    case 'netflow5': return 16;
    case 'netflow9': return 12;
    case 'ipfix': return 8;
    case 'sflow': return (b.readUInt32BE(4) === 2 ? 24 : 12) + 4;
    default: throw new Error('not a flow datagram');
  }
}

/**
 * Checks a replay of `loops` passes as a gateway sees it: (1) every datagram of a later pass
 * shows the same sequence gap as in the first pass, and the first datagram of each exporter
 * in a later pass none; (2) exactness at each pass boundary: after everything before it, the
 * boundary datagram with its header sequence + 1 shows a gap of exactly 1, so the decoder
 * expected precisely the number sent (a jump backwards would pass (1) as a "reset").
 * Returns the gaps of the whole replay.
 */
function expectContinuousLoops(got: readonly Received[], loops: number): number[] {
  const gaps = decodeGaps(got);
  for (const [port, idx] of bySourcePort(got)) {
    expect(idx.length % loops, `datagrams from port ${port}`).to.equal(0);
    const per = idx.length / loops;
    for (let k = 1; k < loops; k++) {
      const later = idx.slice(k * per, (k + 1) * per).map((i) => gaps[i]);
      const first = idx.slice(0, per).map((i, j) => (j === 0 ? 0 : gaps[i]));
      expect(later, `sequence gaps of pass ${k + 1} from port ${port}`).to.deep.equal(first);

      const at = idx[k * per];
      const decoder = new DatagramDecoder();
      decodeGaps(got, at, decoder);
      const bumped = Buffer.from(got[at].data);
      const off = headerSequenceOffset(bumped);
      bumped.writeUInt32BE((bumped.readUInt32BE(off) + 1) >>> 0, off);
      const probe = decoder.decode(bumped, makeExporter(textToIp(got[at].address), got[at].port), BASE_US + at * 1000);
      expect(gapOf(probe), `pass ${k + 1} of port ${port} does not continue exactly where pass ${k} ended`).to.equal(1);
    }
  }
  return gaps;
}

/** Header sequence of every datagram (any protocol). */
function headerSequences(got: readonly Received[]): number[] {
  return got.map((r) => r.data.readUInt32BE(headerSequenceOffset(r.data)));
}

/** sFlow (IPv4 agent) flow/counter sample sequence numbers of a datagram, by data source. */
function sflowSampleSequences(b: Buffer): { source: string; seq: number }[] {
  const out: { source: string; seq: number }[] = [];
  let p = 28;
  for (let i = 0, n = b.readUInt32BE(24); i < n; i++) {
    const format = b.readUInt32BE(p);
    const length = b.readUInt32BE(p + 4);
    if (format === 1 || format === 2) out.push({ source: `${format}:${b.readUInt32BE(p + 12)}`, seq: b.readUInt32BE(p + 8) });
    p += 8 + length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A capture of all eight fixture exporters interleaved: v5, v9, IPFIX and sFlow at once

let workDir = '';
let mergedFile = '';

function writeMergedCapture(): string {
  const lists = MANIFEST.map((m) => readCaptureFile(fixture(m.file)).datagrams);
  const merged: CapturedDatagram[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) {
    for (const l of lists) if (i < l.length) merged.push({ ...l[i], timestampUs: 1_717_200_000_000_000 + merged.length * 100 });
  }
  const file = path.join(workDir, 'merged.pcap');
  writeFileSync(file, writePcap(merged));
  return file;
}

before(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'flowgate-replay-'));
  mergedFile = writeMergedCapture();
});

after(() => rmSync(workDir, { recursive: true, force: true }));

afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

// ---------------------------------------------------------------------------------------------

describe('flowgate replay (command line)', function () {
  this.timeout(120_000); // child processes; also when run without .mocharc

  it('sends every flow datagram of each fixture byte-identical and in order, from one socket per exporter', async () => {
    for (const m of MANIFEST) {
      const original = loadReplayDatagrams(fixture(m.file)).datagrams;
      const rx = await Receiver.open();
      const s = summaryOf(await runCli(['replay', fixture(m.file), '--to', rx.to]));
      const got = await rx.waitFor(original.length);
      expect(got, m.file).to.have.length(original.length);
      expectExportersPreserved(got, original);
      expect(s, m.file).to.include({ datagrams_sent: original.length, exporters: 1, loops_completed: 1, send_errors: 0, interrupted: false });
      expect(s.skipped, m.file).to.deep.equal({});
    }
  });

  it('keeps eight interleaved exporters apart (one source port each) and in capture order', async () => {
    const original = loadReplayDatagrams(mergedFile).datagrams;
    expect(new Set(original.map((d) => d.protocol))).to.have.property('size', 4);
    const rx = await Receiver.open();
    const s = summaryOf(await runCli(['replay', mergedFile, '--to', rx.to]));
    const got = await rx.waitFor(original.length);
    expect(s).to.include({ datagrams_sent: original.length, exporters: 8 });
    expectExportersPreserved(got, original);
    // Across exporters too: the receiver sees the capture's order.
    expect(got.map((r) => hex(r.data))).to.deep.equal(original.map((d) => hex(d.payload)));
  });

  it('--loop 3 rewrites header sequence numbers so every exporter continues seamlessly into the next pass', async () => {
    const original = loadReplayDatagrams(mergedFile).datagrams;
    const rx = await Receiver.open();
    const s = summaryOf(await runCli(['replay', mergedFile, '--to', rx.to, '--loop', '3']));
    expect(s).to.include({ datagrams_sent: 3 * original.length, loops_completed: 3, rewrite_sequence: true });
    const got = await rx.waitFor(3 * original.length);
    expect(got).to.have.length(3 * original.length);
    expectContinuousLoops(got, 3);
    // Only sequence numbers change: the rest of every datagram is the captured bytes.
    for (const [port, idx] of bySourcePort(got)) {
      const first = got[idx[0]].data;
      const off = headerSequenceOffset(first);
      const masked = idx.map((i) => {
        const b = Buffer.from(got[i].data);
        b.fill(0, off, off + 4);
        if (detectProtocol(b) === 'sflow') for (let p = 28, n = 0; n < b.readUInt32BE(24); n++) {
          b.fill(0, p + 8, p + 12);
          p += 8 + b.readUInt32BE(p + 4);
        }
        return hex(b);
      });
      const per = idx.length / 3;
      expect(masked.slice(per, 2 * per), `port ${port}`).to.deep.equal(masked.slice(0, per));
      expect(masked.slice(2 * per), `port ${port}`).to.deep.equal(masked.slice(0, per));
    }
  });

  it('--no-rewrite-sequence sends the captured bytes unchanged in every pass', async () => {
    const original = loadReplayDatagrams(fixture('softflowd-v9.pcap')).datagrams;
    const rx = await Receiver.open();
    const s = summaryOf(await runCli(['replay', fixture('softflowd-v9.pcap'), '--to', rx.to, '--loop', '2', '--no-rewrite-sequence']));
    expect(s).to.include({ rewrite_sequence: false, datagrams_sent: 2 * original.length });
    const got = await rx.waitFor(2 * original.length);
    expectExportersPreserved(got, original, 2);
    // Control: the continuity check used above does see a pass that starts over.
    expect(() => expectContinuousLoops(got, 2)).to.throw(/does not continue exactly where pass 1 ended/);
  });

  it('--rate limits the send rate', async () => {
    const n = 4 * 23;
    const rx = await Receiver.open();
    const started = Date.now();
    const s = summaryOf(await runCli(['replay', fixture('softflowd-v9.pcap'), '--to', rx.to, '--loop', '4', '--rate', '100/s']));
    expect(s.datagrams_sent).to.equal(n);
    expect(s.elapsed_s as number).to.be.at.least((0.8 * n) / 100);
    expect(Date.now() - started).to.be.at.least((0.8 * n * 1000) / 100);
    expect(await rx.waitFor(n)).to.have.length(n);
  });

  it('--timing original reproduces the capture inter-arrival times (scaled by --speed)', async () => {
    const original = loadReplayDatagrams(fixture('pmacct-sflow.pcap')).datagrams;
    const spanS = (original[original.length - 1].timestampUs - original[0].timestampUs) / 1e6;
    expect(spanS).to.be.greaterThan(0.02);
    const rx = await Receiver.open();
    const s = summaryOf(await runCli(['replay', fixture('pmacct-sflow.pcap'), '--to', rx.to, '--timing', 'original', '--speed', '0.1']));
    expect(s.elapsed_s as number).to.be.at.least(0.8 * spanS / 0.1);
    expectExportersPreserved(await rx.waitFor(original.length), original);
  });

  it('sends to an IPv6 target [::1]', async () => {
    const original = loadReplayDatagrams(fixture('softflowd-ipfix-ipv6.pcap')).datagrams;
    const rx = await Receiver.open('::1');
    expect(rx.to).to.match(/^\[::1\]:\d+$/);
    const s = summaryOf(await runCli(['replay', fixture('softflowd-ipfix-ipv6.pcap'), '--to', rx.to]));
    const got = await rx.waitFor(original.length);
    expect(s.datagrams_sent).to.equal(original.length);
    expect(got.every((r) => r.address === '::1')).to.equal(true);
    expectExportersPreserved(got, original);
  });

  it('counts what it does not send: non-flow traffic, other ports', async () => {
    const rx = await Receiver.open();
    const traffic = summaryOf(await runCli(['replay', fixture('traffic.pcap'), '--to', rx.to]));
    expect(traffic).to.include({ datagrams_sent: 0, exporters: 0 });
    expect(traffic.skipped).to.deep.equal({ not_flow: 582, not_udp: 2474 });

    const all = loadReplayDatagrams(mergedFile).datagrams;
    const v9 = all.filter((d) => d.dstPort === 20556);
    const filtered = summaryOf(await runCli(['replay', mergedFile, '--to', rx.to, '--port', '20556']));
    expect(filtered).to.include({ datagrams_sent: v9.length, exporters: 1 });
    expect(filtered.skipped).to.deep.equal({ port_filter: all.length - v9.length });
    expectExportersPreserved(await rx.waitFor(v9.length), v9);
  });

  it('rejects a bad --to with exit 1 and a message that shows the right form', async () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /bad --to "127\.0\.0\.1": no port/],
      ['::1:2055', /IPv6 addresses go in brackets: \[::1\]:2055/],
      ['[::1]:99999', /port 99999 is outside 1\.\.65535/],
      ['127.0.0.1:http', /port "http" is not a number/],
      ['[1.2.3.4]:2055', /in brackets is not an IPv6 address/],
      ['bad host:2055', /neither an IP address nor a host name/],
      ['no-such-host.invalid:2055', /cannot resolve --to host "no-such-host\.invalid"/],
    ];
    for (const [to, message] of cases) {
      const r = await runCli(['replay', fixture('softflowd-v5.pcap'), '--to', to]);
      expect(r.status, to).to.equal(1);
      expect(r.stderr, to).to.match(message);
      expect(r.stderr, to).to.match(/^flowgate replay: /);
    }
  });

  it('fails with exit 1 on an unreadable capture, too many exporters or bad options', async () => {
    const junk = path.join(workDir, 'junk.pcap');
    writeFileSync(junk, 'not a capture at all');
    const cases: [string[], RegExp][] = [
      [['replay', path.join(workDir, 'missing.pcap'), '--to', '127.0.0.1:9'], /cannot read .*missing\.pcap: ENOENT/],
      [['replay', junk, '--to', '127.0.0.1:9'], /cannot read .*junk\.pcap: not a pcap or pcapng file/],
      [['replay', mergedFile, '--to', '127.0.0.1:9', '--max-exporters', '2'], /8 exporters, more than the limit of 2/],
      [['replay', mergedFile, '--to', '127.0.0.1:9', '--rate', 'fast'], /bad --rate "fast"/],
      [['replay', mergedFile, '--to', '127.0.0.1:9', '--loop', '-1'], /bad --loop "-1"/],
      [['replay', mergedFile, '--to', '127.0.0.1:9', '--timing', 'original', '--rate', '10'], /exclude each other/],
      [['replay', mergedFile, '--to', '127.0.0.1:9', '--speed', '2'], /--speed needs --timing original/],
      [['replay', mergedFile], /required option '--to <host:port>'/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.status, args.join(' ')).to.equal(1);
      expect(r.stderr, args.join(' ')).to.match(message);
    }
  });
});

describe('src/replay (API)', function () {
  this.timeout(60_000);

  it('replay() reports which local port stands for which exporter', async () => {
    const capture = loadReplayDatagrams(mergedFile);
    const rx = await Receiver.open();
    const stats = await replay(capture.datagrams, { to: { host: '127.0.0.1', port: rx.port } });
    const got = await rx.waitFor(capture.datagrams.length);
    const mapping = expectExportersPreserved(got, capture.datagrams);
    expect(stats.exporterPorts).to.deep.equal(Object.fromEntries(mapping));
    expect(stats).to.include({ datagramsSent: capture.datagrams.length, exporters: 8, sendErrors: 0, loopsCompleted: 1, interrupted: false });
    expect(stats.bytesSent).to.equal(capture.datagrams.reduce((n, d) => n + d.payload.length, 0));
  });

  it('looping keeps each fixture exporter continuous; only softflowd IPFIX shows the gaps its own numbering has', async () => {
    for (const m of MANIFEST) {
      const datagrams = loadReplayDatagrams(fixture(m.file)).datagrams;
      const rx = await Receiver.open();
      await replay(datagrams, { to: { host: '127.0.0.1', port: rx.port }, loop: 3 });
      const got = await rx.waitFor(3 * datagrams.length);
      expect(got, m.file).to.have.length(3 * datagrams.length);
      const gaps = expectContinuousLoops(got, 3);
      // softflowd numbers IPFIX messages by the records up to and INCLUDING the message
      // (RFC 7011: before it), so a gateway sees gaps inside every pass, the first included.
      const quirky = m.exporter.startsWith('softflowd') && m.protocol === 'ipfix';
      if (!quirky) expect(gaps.every((g) => g === 0), `${m.file}: ${JSON.stringify(gaps)}`).to.equal(true);
      const seqs = headerSequences(got);
      if (m.protocol === 'netflow9' || m.protocol === 'sflow') {
        // Counted per datagram and consecutive in these captures: one run 1, 2, 3, ... over all passes.
        expect(seqs.slice(1).every((s, i) => s === seqs[i] + 1), m.file).to.equal(true);
      }
      if (m.protocol === 'sflow') {
        const bySource = new Map<string, number[]>();
        for (const r of got) for (const x of sflowSampleSequences(r.data)) bySource.set(x.source, [...(bySource.get(x.source) ?? []), x.seq]);
        expect(bySource.size).to.be.greaterThan(0);
        for (const [source, list] of bySource) expect(list.slice(1).every((s, i) => s === list[i] + 1), `sample sequence of source ${source}`).to.equal(true);
      }
    }
  });

  it('IPFIX: counts variable-length and options records, per observation domain, to continue the sequence', async () => {
    const tpl: TemplateDef = { id: 300, fields: [{ id: 8, length: 4 }, { id: 12, length: 4 }, { id: 1, length: 8 }, { id: 96, length: VARIABLE_LENGTH }] };
    const opt: OptionsTemplateDef = { id: 400, scope: [{ id: 149, length: 4 }], options: [{ id: 305, length: 4 }] };
    const rec = (i: number, name: string): FieldValue[] => [0x0a000001 + i, 0xc0000201, BigInt(1000 + i), Buffer.from(name)];
    const long = 'x'.repeat(300); // 255-escaped 2-byte length
    const seq = new Map<number, number>([[1, 1000], [2, 7]]);
    const datagrams: ReplayDatagram[] = [];
    const add = (domain: number, sets: IpfixSet[], records: number, pad = false): void => {
      const sequence = seq.get(domain) ?? 0;
      datagrams.push({ exporterKey: '192.0.2.1|4739', timestampUs: BASE_US + datagrams.length, protocol: 'ipfix', dstPort: 4739, payload: ipfix({ domain, sequence, sets, pad }).bytes });
      seq.set(domain, sequence + records);
    };
    for (const domain of [1, 2]) {
      add(domain, [{ kind: 'template', templates: [tpl] }, { kind: 'options_template', templates: [opt] }, optionsDataSet(opt, [[domain, 4]]), dataSet(tpl, [rec(0, 'dns'), rec(1, long)])], 3);
    }
    add(1, [dataSet(tpl, [rec(2, ''), rec(3, 'http'), rec(4, long), rec(5, 'a')])], 4, true);
    add(2, [dataSet(tpl, [rec(6, 'ssh')])], 1);
    add(1, [dataSet(tpl, [rec(7, long), rec(8, 'b')]), optionsDataSet(opt, [[1, 8]])], 3, true);
    add(2, [dataSet(tpl, [rec(9, 'ntp'), rec(10, long), rec(11, 'c')]), optionsDataSet(opt, [[2, 2]])], 4);

    const plan = DatagramRewriter.plan(datagrams, { sequence: true, time: false });
    expect(plan.streams.map((s) => [s.stream, s.period])).to.deep.equal([['ipfix|192.0.2.1|4739|1', 10], ['ipfix|192.0.2.1|4739|2', 8]]);

    const rx = await Receiver.open();
    const stats = await replay(datagrams, { to: { host: '127.0.0.1', port: rx.port }, loop: 3 });
    expect(stats).to.include({ datagramsSent: 18, exporters: 1 });
    const got = await rx.waitFor(18);
    expect(expectContinuousLoops(got, 3).every((g) => g === 0)).to.equal(true);
    const decoder = new DatagramDecoder();
    const outs = got.map((r, i) => decoder.decode(r.data, makeExporter(textToIp(r.address), r.port), BASE_US + i));
    expect(outs.every((o) => o.errors.length === 0)).to.equal(true);
    expect(outs.reduce((n, o) => n + o.flows.length, 0)).to.equal(3 * 14);
    expect(headerSequences(got).slice(6, 8)).to.deep.equal([1010, 15]);
  });

  it('IpfixRecordCounter agrees with RFC 7011 numbering (pmacct); softflowd numbers its own way', () => {
    for (const m of MANIFEST.filter((x) => x.protocol === 'ipfix')) {
      const ds = loadReplayDatagrams(fixture(m.file)).datagrams;
      const counter = new IpfixRecordCounter();
      const counts = ds.map((d) => counter.count('s', d.payload));
      const deltas = ds.slice(1).map((d, i) => (d.payload.readUInt32BE(8) - ds[i].payload.readUInt32BE(8)) >>> 0);
      if (m.exporter.startsWith('pmacct')) {
        expect(deltas, m.file).to.deep.equal(counts.slice(0, -1));
      } else {
        // softflowd: the flow records up to and including the message, options records left out.
        const decoder = new DatagramDecoder();
        const flows = ds.map((d) => decoder.decode(d.payload, makeExporter(textToIp('127.0.0.1'), 1), BASE_US).flows.length);
        expect(deltas, m.file).to.deep.equal(flows.slice(1));
      }
    }
    expect(new IpfixRecordCounter().count('s', ipfix({ sets: [dataSet({ id: 256, fields: [{ id: 8, length: 4 }] }, [[1]])] }).bytes)).to.equal(undefined);
  });

  it('--retime sets header export times to the send time and changes nothing else', async () => {
    for (const [file, offsets] of [['softflowd-v5.pcap', [8, 16]], ['softflowd-v9.pcap', [8, 12]], ['pmacct-ipfix-sampled.pcap', [4, 8]]] as const) {
      const datagrams = loadReplayDatagrams(fixture(file)).datagrams;
      const rx = await Receiver.open();
      const before = Math.floor(Date.now() / 1000);
      await replay(datagrams, { to: { host: '127.0.0.1', port: rx.port }, retime: true });
      const after = Math.ceil(Date.now() / 1000);
      const got = await rx.waitFor(datagrams.length);
      got.forEach((r, i) => {
        const secs = r.data.readUInt32BE(offsets[0]);
        expect(secs, file).to.be.within(before, after);
        const a = Buffer.from(r.data).fill(0, offsets[0], offsets[1]);
        const b = Buffer.from(datagrams[i].payload).fill(0, offsets[0], offsets[1]);
        expect(hex(a), file).to.equal(hex(b));
      });
    }
  });

  it('ratePerSec paces; an AbortSignal stops early with what was sent; progress is reported', async () => {
    const datagrams = loadReplayDatagrams(fixture('softflowd-v9.pcap')).datagrams;
    const rx = await Receiver.open();
    const t0 = Date.now();
    const paced = await replay(datagrams, { to: { host: '127.0.0.1', port: rx.port }, ratePerSec: parseRate('0.5k/s'), loop: 4 });
    expect(Date.now() - t0).to.be.at.least((0.8 * 92 * 1000) / 500);
    expect(paced.datagramsPerSec).to.be.below(600);
    expect(await rx.waitFor(92)).to.have.length(92);

    const controller = new AbortController();
    const progress: ReplayStats[] = [];
    setTimeout(() => controller.abort(), 400);
    const stopped = await replay(datagrams, {
      to: { host: '127.0.0.1', port: rx.port }, ratePerSec: 200, loop: 1000, signal: controller.signal,
      onProgress: (s) => progress.push(s), progressIntervalMs: 100,
    });
    expect(stopped.interrupted).to.equal(true);
    expect(stopped.datagramsSent).to.be.within(40, 200);
    expect(stopped.loopsCompleted).to.be.below(10);
    expect(progress.length).to.be.at.least(2);
    expect(progress[progress.length - 1].datagramsSent).to.be.greaterThan(progress[0].datagramsSent);
    expect(await rx.waitFor(92 + stopped.datagramsSent)).to.have.length(92 + stopped.datagramsSent);
  });

  it('rejects what cannot be replayed before opening any socket', async () => {
    const datagrams = loadReplayDatagrams(mergedFile).datagrams;
    const to = { host: '127.0.0.1', port: 9 };
    const failures: [() => Promise<ReplayStats>, RegExp][] = [
      [() => replay(datagrams, { to, maxExporters: 7 }), /8 exporters, more than the limit of 7/],
      [() => replay(datagrams, { to, loop: 1.5 }), /loop must be a whole number/],
      [() => replay(datagrams, { to, ratePerSec: 0 }), /rate must be > 0/],
      [() => replay(datagrams, { to, timing: 'original', ratePerSec: 5 }), /either a rate or the original timing/],
    ];
    for (const [run, message] of failures) {
      let error: unknown;
      await run().catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.match(message);
    }
  });

  it('parses --to, --rate and the counts', async () => {
    expect(parseTarget('127.0.0.1:2055')).to.deep.equal({ host: '127.0.0.1', port: 2055 });
    expect(parseTarget('[::1]:6343')).to.deep.equal({ host: '::1', port: 6343 });
    expect(parseTarget('gw-1.example.net:4739')).to.deep.equal({ host: 'gw-1.example.net', port: 4739 });
    expect(await resolveTarget({ host: '::1', port: 1 })).to.deep.equal({ address: '::1', family: 6, port: 1 });
    const local = await resolveTarget({ host: 'localhost', port: 2 });
    expect(['127.0.0.1', '::1']).to.include(local.address);
    expect([5000, parseRate('5000/s'), parseRate('5k'), parseRate('5K/s'), parseRate('0.005M')]).to.deep.equal([parseRate('5000'), 5000, 5000, 5000, 5000]);
    for (const bad of ['0', '-5', 'k', '5x', '5/min', '']) expect(() => parseRate(bad), bad).to.throw(/bad --rate/);
    expect(parseCount('--loop', '0', 0)).to.equal(0);
    expect(() => parseCount('--port', '70000', 0, 65535)).to.throw(/bad --port "70000"/);
    expect(parseSpeed('0.25')).to.equal(0.25);
    expect(() => parseSpeed('0')).to.throw(/bad --speed/);
  });
});
