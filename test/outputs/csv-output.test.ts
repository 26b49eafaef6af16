// The CSV output with a fake clock: windows and late records, rotation by time and by size,
// temporary names and renames, durability never ahead of the renamed files, gzip, stale
// temporary files, name collisions with earlier runs, disk errors and backpressure.

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import * as fc from 'fast-check';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import type { CsvOutputConfig } from '../../src/config/types';
import { CsvOutput } from '../../src/outputs/csv/csv-output';
import { finalName, windowStamp } from '../../src/outputs/csv/file-names';
import { readCsvDir, tmpFiles } from './csv-dir';

const execFileP = promisify(execFile);

// 2026-11-22T10:15:00Z, a window boundary for 60 s windows.
const T0_MS = Date.UTC(2026, 10, 22, 10, 15, 0);
const T0_US = T0_MS * 1000;
const FIELDS = ['sequence_num', 'time_received_ns', 'time_flow_end_ns', 'src_addr', 'dst_port', 'bytes'];

interface LogLine { level: 'info' | 'warn' | 'error'; o: object; m: string }

function harness(over: Partial<CsvOutputConfig> = {}, dir?: string): {
  dir: string; out: CsvOutput; logs: LogLine[]; clock: { now: number }; config: CsvOutputConfig;
} {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'flowgate-csv-'));
  const config: CsvOutputConfig = {
    type: 'csv', name: 'test', topic: 'flows', group_id: 'g', directory: d, fields: FIELDS,
    rotate: { seconds: 60, bytes: 1 << 20 }, gzip: false, time_format: 'epoch_ns', protocol_names: false,
    file_prefix: 'flows-', window_by: 'received', late_seconds: 10, ...over,
  };
  const logs: LogLine[] = [];
  const log = {
    info: (o: object, m: string) => logs.push({ level: 'info', o, m }),
    warn: (o: object, m: string) => logs.push({ level: 'warn', o, m }),
    error: (o: object, m: string) => logs.push({ level: 'error', o, m }),
  };
  const clock = { now: T0_MS };
  return { dir: d, out: new CsvOutput(config, log, () => clock.now), logs, clock, config };
}

/** Record number `seq` (its sequence_num, so files can be checked record by record). */
function rec(seq: number, receivedUs: number, flowEndUs = 0): FlowRecord {
  const r = newFlowRecord();
  r.sequence_num = seq;
  r.time_received_us = receivedUs;
  r.time_flow_end_us = flowEndUs;
  r.src_addr = Uint8Array.from([10, 0, (seq >> 8) & 255, seq & 255]);
  r.dst_port = 443;
  r.bytes = 1000 + seq;
  return r;
}

/** sequence_num values per final file name. */
function seqsByFile(dir: string): Map<string, number[]> {
  return new Map(readCsvDir(dir).map((f) => [f.name, f.rows.map((row) => Number(row[0]))]));
}

function allSeqs(dir: string): number[] {
  return [...seqsByFile(dir).values()].flat().sort((a, b) => a - b);
}

/** At every onDurable: every record below `durable` is in a final-named file already. */
function watchDurable(out: CsvOutput, dir: string): number[] {
  const seen: number[] = [];
  out.onDurable((d) => {
    seen.push(d);
    const present = new Set(allSeqs(dir));
    for (let s = 0; s < d; s++) if (!present.has(s)) throw new Error(`durable ${d} but record ${s} is in no final file`);
  });
  return seen;
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('CSV output', () => {
  const dirs: string[] = [];
  const track = <T extends { dir: string }>(h: T): T => { dirs.push(h.dir); return h; };
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('names files by window start; rotates by time on the timer, with no records arriving', async () => {
    const { dir, out, clock } = track(harness());
    const durables = watchDurable(out, dir);
    await out.start();
    clock.now = T0_MS + 5_000;
    out.write(range(3).map((i) => rec(i, T0_US + 5_000_000 + i)));
    expect(readdirSync(dir).filter((n) => n.endsWith('.csv'))).to.deep.equal([]);
    expect(tmpFiles(dir)).to.have.length(1);
    expect(tmpFiles(dir)[0]).to.match(new RegExp(`^flows-20261122T101500Z\\.${process.pid}-\\d+\\.csv\\.tmp$`));
    expect(out.counts()).to.deep.equal({ written: 3, durable: 0 });

    clock.now = T0_MS + 65_000; // next window; the first still takes late records
    out.write(range(2, 3).map((i) => rec(i, T0_US + 64_000_000)));
    out.tick();
    await out.settled();
    expect(out.counts().durable).to.equal(0);
    expect(tmpFiles(dir)).to.have.length(2);

    clock.now = T0_MS + 70_000; // first window's end + late_seconds: closed by the tick alone
    out.tick();
    await out.settled();
    expect(seqsByFile(dir)).to.deep.equal(new Map([['flows-20261122T101500Z.csv', [0, 1, 2]]]));
    expect(out.counts()).to.deep.equal({ written: 5, durable: 3 });
    expect(durables).to.deep.equal([3]);

    clock.now = T0_MS + 130_000;
    out.tick();
    await out.settled();
    expect(seqsByFile(dir)).to.deep.equal(new Map([['flows-20261122T101500Z.csv', [0, 1, 2]], ['flows-20261122T101600Z.csv', [3, 4]]]));
    expect(out.counts()).to.deep.equal({ written: 5, durable: 5 });
    expect(durables).to.deep.equal([3, 5]);
    const [f] = readCsvDir(dir);
    expect(f.header).to.deep.equal(FIELDS);
    expect(f.rows[0]).to.deep.equal(['0', `${T0_US + 5_000_000}000`, '', '10.0.0.0', '443', '1000']);
    await out.close();
    expect(tmpFiles(dir)).to.deep.equal([]);
  });

  it('the real timer closes a window with no records and no tick() call', async function () {
    this.timeout(10_000);
    const { dir, out, clock } = track(harness({ late_seconds: 0 }));
    const durables = watchDurable(out, dir);
    await out.start();
    clock.now = T0_MS + 1_000;
    out.write([rec(0, T0_US + 1_000_000)]);
    clock.now = T0_MS + 60_000;
    for (let i = 0; i < 50 && !durables.length; i++) await new Promise((res) => setTimeout(res, 100));
    expect(durables).to.deep.equal([1]);
    expect(seqsByFile(dir)).to.deep.equal(new Map([['flows-20261122T101500Z.csv', [0]]]));
    await out.close();
  });

  it('rotates by size: parts -1, -2, … each with a header, none over rotate.bytes', async () => {
    const { dir, out, clock } = track(harness({ rotate: { seconds: 60, bytes: 1024 } }));
    watchDurable(out, dir);
    await out.start();
    clock.now = T0_MS + 1_000;
    for (let b = 0; b < 10; b++) out.write(range(20, b * 20).map((i) => rec(i, T0_US + 1_000_000)));
    await out.close();
    const files = readCsvDir(dir);
    expect(files.length).to.be.greaterThan(3);
    expect(files.map((f) => f.name)).to.deep.equal(files.map((_, i) => finalName('flows-', T0_US, i, false)).sort());
    const byPart = files.map((f) => f.name).sort((a, b) => partOf(a) - partOf(b));
    for (const f of files) {
      expect(f.header).to.deep.equal(FIELDS);
      expect(f.size).to.be.at.most(1024);
      // filled up before rotating (a row is ~45 bytes), except the last part
      if (f.name !== byPart[byPart.length - 1]) expect(f.size).to.be.greaterThan(1024 - 50);
    }
    // parts in order: part N holds the records right after part N-1's
    expect(byPart.flatMap((n) => seqsByFile(dir).get(n) as number[])).to.deep.equal(range(200));
    expect(out.counts()).to.deep.equal({ written: 200, durable: 200 });
  });

  it('late records go to their own window while it is open, else to the current one (counted)', async () => {
    const { dir, out, clock } = track(harness());
    watchDurable(out, dir);
    await out.start();
    clock.now = T0_MS + 30_000;
    out.write([rec(0, T0_US + 30_000_000)]);
    clock.now = T0_MS + 65_000; // window 2 current; window 1 open for late records until +70 s
    out.write([rec(1, T0_US + 64_000_000), rec(2, T0_US + 59_999_999), rec(3, T0_US - 1_000_000)]);
    clock.now = T0_MS + 71_000; // window 1 closed now
    out.write([rec(4, T0_US + 59_000_000), rec(5, T0_US + 71_000_000)]);
    // a record from the future (exporter clock ahead) goes to the current window too
    out.write([rec(6, T0_US + 3_600_000_000), rec(7, 0)]);
    await out.close();
    expect(seqsByFile(dir)).to.deep.equal(new Map([
      ['flows-20261122T101500Z.csv', [0, 2]],
      ['flows-20261122T101600Z.csv', [1, 3, 4, 5, 6, 7]],
    ]));
    expect(out.stats()).to.include({ late_redirected: 2, future_redirected: 1, files_completed: 2, write_errors: 0, records_lost: 0 });
  });

  it('window_by flow_end: the flow end time chooses the window, received time when it is 0', async () => {
    const { dir, out, clock } = track(harness({ window_by: 'flow_end', late_seconds: 120 }));
    await out.start();
    clock.now = T0_MS + 125_000;
    out.write([rec(0, T0_US + 125_000_000, T0_US + 10_000_000), rec(1, T0_US + 125_000_000, 0), rec(2, T0_US + 125_000_000, T0_US + 61_000_000)]);
    await out.close();
    expect(seqsByFile(dir)).to.deep.equal(new Map([
      ['flows-20261122T101500Z.csv', [0]], ['flows-20261122T101600Z.csv', [2]], ['flows-20261122T101700Z.csv', [1]],
    ]));
  });

  it('random traffic: every record exactly once, no .tmp after close, durable never ahead of renamed files', async function () {
    this.timeout(120_000);
    const step = fc.record({
      advanceMs: fc.nat({ max: 40_000 }),
      batch: fc.array(fc.integer({ min: -150_000, max: 5_000 }), { maxLength: 30 }), // record time - now, ms
      tick: fc.boolean(),
    });
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), fc.boolean(), async (steps, gzip) => {
      const h = harness({ rotate: { seconds: 30, bytes: 1024 }, late_seconds: 20, gzip });
      dirs.push(h.dir);
      const durables = watchDurable(h.out, h.dir);
      await h.out.start();
      let seq = 0;
      for (const s of steps) {
        h.clock.now += s.advanceMs;
        h.out.write(s.batch.map((dt) => rec(seq++, Math.max(0, (h.clock.now + dt) * 1000))));
        if (s.tick) h.out.tick();
        if (s.tick) await h.out.settled();
        const c = h.out.counts();
        expect(c.durable).to.be.at.most(c.written);
      }
      await h.out.close();
      // watchDurable throws inside onDurable; the output logs that as an error
      expect(h.logs.filter((l) => l.level !== 'info')).to.deep.equal([]);
      expect(tmpFiles(h.dir)).to.deep.equal([]);
      expect(allSeqs(h.dir)).to.deep.equal(range(seq));
      expect(h.out.counts()).to.deep.equal({ written: seq, durable: seq });
      for (let i = 1; i < durables.length; i++) expect(durables[i]).to.be.greaterThan(durables[i - 1]);
      for (const f of readCsvDir(h.dir)) expect(f.header).to.deep.equal(FIELDS);
    }), { numRuns: 40 });
  });

  it('gzip files decompress to exactly what the plain run writes', async () => {
    const run = async (gzip: boolean): Promise<Map<string, string>> => {
      const { dir, out, clock } = track(harness({ gzip, rotate: { seconds: 60, bytes: 4096 } }));
      await out.start();
      let seq = 0;
      for (let s = 0; s < 20; s++) {
        clock.now = T0_MS + s * 9_000;
        out.write(range(25).map(() => rec(seq++, clock.now * 1000 - (seq % 7) * 1_000_000)));
      }
      await out.close();
      expect(tmpFiles(dir)).to.deep.equal([]);
      return new Map(readCsvDir(dir).map((f) => [f.name.replace(/\.gz$/, ''), f.text]));
    };
    const plain = await run(false);
    const gz = await run(true);
    expect(plain.size).to.be.greaterThan(3);
    expect([...gz.keys()]).to.deep.equal([...plain.keys()]);
    for (const [k, v] of plain) expect(gz.get(k), k).to.equal(v);
  });

  it('start() removes temporary files of dead processes only, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-csv-'));
    dirs.push(dir);
    const dead = await deadPid();
    const live = spawn('sleep', ['30']);
    try {
      const names = {
        dead: `flows-20261122T101500Z.${dead}-0.csv.tmp`,
        deadGz: `flows-20261122T101500Z.${dead}-3.csv.gz.tmp`,
        samePidEarlierRun: `flows-20261122T101500Z.${process.pid}-7.csv.tmp`,
        live: `flows-20261122T101500Z.${live.pid}-0.csv.tmp`,
        otherPrefix: `other-20261122T101500Z.${dead}-0.csv.tmp`,
        final: 'flows-20261122T101500Z.csv',
        unrelated: 'notes.tmp',
      };
      for (const n of Object.values(names)) writeFileSync(join(dir, n), 'x\n');
      const { out, logs } = harness({}, dir);
      await out.start();
      expect(readdirSync(dir).sort()).to.deep.equal([names.final, names.live, names.unrelated, names.otherPrefix].sort());
      const line = logs.find((l) => l.m.startsWith('removed temporary CSV files'));
      expect(line?.o).to.deep.include({ files: [names.dead, names.deadGz, names.samePidEarlierRun].sort() });
      await out.close();
    } finally {
      live.kill();
    }
  });

  it('never replaces a file of an earlier run: the window continues in the next free part', async () => {
    const { dir, out, clock } = track(harness());
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'flows-20261122T101500Z.csv'), 'earlier run\n');
    writeFileSync(join(dir, 'flows-20261122T101500Z-1.csv'), 'earlier run\n');
    await out.start();
    clock.now = T0_MS + 1_000;
    out.write([rec(0, T0_US + 1_000_000)]);
    await out.close();
    expect(readdirSync(dir).sort()).to.deep.equal(['flows-20261122T101500Z-1.csv', 'flows-20261122T101500Z-2.csv', 'flows-20261122T101500Z.csv']);
    expect(seqsByFile(dir).get('flows-20261122T101500Z-2.csv')).to.deep.equal([0]);
  });

  it('a file that cannot be created: logged, counted, durability stops before its records, no throw', async () => {
    const { dir, out, clock, logs } = track(harness());
    const durables = watchDurable(out, dir);
    await out.start();
    clock.now = T0_MS + 1_000;
    out.write(range(3).map((i) => rec(i, T0_US + 1_000_000)));
    clock.now = T0_MS + 71_000;
    out.tick();
    await out.settled();
    expect(out.counts()).to.deep.equal({ written: 3, durable: 3 });
    // The directory disappears under the output (stands in for EACCES/ENOSPC at open, which
    // root in a test container cannot provoke): creating the next file fails.
    const saved = `${dir}.saved`;
    rmSync(saved, { recursive: true, force: true });
    renameSync(dir, saved);
    writeFileSync(dir, 'not a directory');
    try {
      out.write(range(4, 3).map((i) => rec(i, T0_US + 71_000_000)));
      out.write(range(2, 7).map((i) => rec(i, T0_US + 72_000_000)));
      expect(out.stats()).to.include({ write_errors: 1, records_lost: 6 });
      expect(out.counts()).to.deep.equal({ written: 9, durable: 3 });
      const err = logs.find((l) => l.level === 'error');
      expect(err?.o).to.include({ code: 'ENOTDIR' });
      await out.ready();
    } finally {
      rmSync(dir);
      renameSync(saved, dir);
    }
    // The disk is back: later windows are written again, but durable stays frozen at the
    // failed file's first record (its records must be read again after a restart).
    clock.now = T0_MS + 200_000;
    out.write([rec(9, T0_US + 200_000_000)]);
    await out.close();
    expect(out.counts()).to.deep.equal({ written: 10, durable: 3 });
    expect(allSeqs(dir)).to.deep.equal([0, 1, 2, 9]);
    expect(durables).to.deep.equal([3]);
    expect(tmpFiles(dir)).to.deep.equal([]);
  });

  it('a write that fails on a full disk (EFBIG under ulimit -f): no crash, tmp removed, durable stops', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-csv-'));
    dirs.push(dir);
    // ulimit -f 64: no file of the child may exceed 64 KiB; write() then fails with EFBIG, as
    // it would with ENOSPC (node ignores SIGXFSZ).
    const child = join(__dirname, 'csv-output-full-disk.js');
    const { stdout } = await execFileP('bash', ['-c', `ulimit -f 64 && exec "${process.execPath}" "${child}" "${dir}"`]);
    const result = JSON.parse(stdout) as { counts: { written: number; durable: number }; stats: { write_errors: number; files_completed: number; records_lost: number }; durables: number[]; errors: Array<{ code: string }> };
    expect(result.counts).to.deep.equal({ written: 5101, durable: 100 });
    expect(result.durables).to.deep.equal([100]);
    expect(result.stats).to.include({ write_errors: 1, files_completed: 2 });
    expect(result.errors.map((e) => e.code)).to.deep.equal(['EFBIG']);
    expect(tmpFiles(dir)).to.deep.equal([]);
    // the first window's file and the one after the failure are complete; the failed one is gone
    expect(allSeqs(dir)).to.deep.equal([...range(100), 5100]);
  });

  it('ready() waits for the stream to drain, then resolves', async () => {
    const { dir, out, clock } = track(harness({ rotate: { seconds: 60, bytes: 64 << 20 } }));
    await out.start();
    clock.now = T0_MS + 1_000;
    expect(await settlesWithoutIo(out.ready())).to.equal(true);
    out.write(range(5000).map((i) => rec(i, T0_US + 1_000_000)));
    const p = out.ready();
    expect(await settlesWithoutIo(p)).to.equal(false);
    await p;
    await out.close();
    expect(allSeqs(dir)).to.deep.equal(range(5000));
  });

  it('file names: window start in UTC, parts and gzip', () => {
    expect(windowStamp(T0_US)).to.equal('20261122T101500Z');
    expect(finalName('flows-', T0_US, 0, false)).to.equal('flows-20261122T101500Z.csv');
    expect(finalName('x', T0_US, 2, true)).to.equal('x20261122T101500Z-2.csv.gz');
  });
});

/** Whether `p` settles within a few microtask turns, i.e. without waiting for any I/O. */
async function settlesWithoutIo(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; });
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done;
}

function partOf(name: string): number {
  const m = /-(\d+)\.csv/.exec(name.replace(/^flows-/, ''));
  return m ? Number(m[1]) : 0;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((res) => p.on('exit', res));
  return p.pid as number;
}
