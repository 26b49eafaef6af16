// Issue 3 acceptance without Kafka: the README's first command (`node dist/src/cli.js run -c
// config.yaml`, the default config: embedded bus, well-known ports) receives every fixture
// replayed by `flowgate replay`, publishes exactly as many records as `flowgate decode`
// finds, reports them on /metrics and in its summary line, and flushes and exits 0 on SIGTERM.
// Then the restart case: templates learned, process stopped, started again on the same
// state directory, data-only datagrams decode on the first try.

import { expect } from 'chai';
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { readCaptureFile } from '../../src/pcap/reader';
import { makeExporter } from '../../src/util/ip';
import { CLI, FIXTURES, FLOW_FIXTURES, REPO, decodeWithCli, hasTemplateSet, metricSum, scrapeMetrics, sleep, waitFor } from '../support/gateway-harness';

interface Proc {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  exit: Promise<number | null>;
}

const procs: Proc[] = [];

function runGateway(args: string[], cwd: string): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  const take = (c: Buffer): void => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const p = { child, lines, exit };
  procs.push(p);
  return p;
}

function json(lines: string[]): Array<Record<string, unknown>> {
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function replayCli(file: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'replay', path.join(FIXTURES, file), '--to', to, '--rate', '3000'], (e, _o, stderr) =>
      e ? reject(new Error(`replay ${file}: ${e.message}\n${stderr}`)) : resolve());
  });
}

async function stopGateway(p: Proc): Promise<number | null> {
  p.child.kill('SIGTERM');
  const code = await Promise.race([p.exit, sleep(30_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') throw new Error(`gateway did not exit within 30 s of SIGTERM:\n${p.lines.join('\n')}`);
  return code;
}

describe('flowgate run with the default config (README first command, embedded bus)', function () {
  this.timeout(120_000);

  afterEach(async () => {
    for (const p of procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exit;
      }
    }
  });

  it('every fixture replayed to the default ports is decoded and published; SIGTERM flushes and exits 0', async () => {
    const config = path.join(REPO, 'config.yaml');
    const defaults = parse(readFileSync(config, 'utf8')) as { listeners: Array<{ listen: string; protocol: string }>; metrics: { listen: string } };
    const cwd = mkdtempSync(path.join(tmpdir(), 'flowgate-run-'));
    const p = runGateway(['run', '-c', config], cwd);
    await waitFor(() => json(p.lines).filter((l) => l.msg === 'listening').length === defaults.listeners.length, 20_000,
      () => `the default listeners to bind:\n${p.lines.join('\n')}`);

    // Each capture to the default port an operator would point that exporter at.
    const portFor = (file: string): number => {
      const want = file.includes('sflow') ? 6343 : file.includes('ipfix') ? 4739 : 2055;
      const l = defaults.listeners.find((x) => x.listen.endsWith(`:${want}`));
      if (!l) throw new Error(`config.yaml has no listener on ${want}`);
      return want;
    };
    let expected = 0;
    for (const f of FLOW_FIXTURES) {
      expected += decodeWithCli(f).length;
      await replayCli(f, `127.0.0.1:${portFor(f)}`);
    }
    const metricsPort = Number(defaults.metrics.listen.split(':').pop());
    let text = '';
    // Bounded wait, generous for a slow machine; a shortfall then fails below with the counts.
    for (let i = 0; i < 600; i++) {
      text = await scrapeMetrics(metricsPort);
      if (metricSum(text, 'flowgate_records_published_total') >= expected) break;
      await sleep(100);
    }
    expect(metricSum(text, 'flowgate_records_decoded_total')).to.equal(expected);
    expect(metricSum(text, 'flowgate_records_published_total')).to.equal(expected);
    expect(metricSum(text, 'flowgate_decode_errors_total')).to.equal(0);

    expect(await stopGateway(p)).to.equal(0);
    const summary = json(p.lines).filter((l) => l.msg === 'summary').pop();
    expect(summary, 'a summary line at shutdown').to.not.equal(undefined);
    expect(summary?.records).to.equal(expected);
    expect(summary?.published).to.equal(expected);
    expect(existsSync(path.join(cwd, 'state', 'templates.json')), 'state saved under ./state').to.equal(true);
    // The default config's CSV output leaves readable files behind: one row per record.
    const csvFiles = readdirSync(path.join(cwd, 'csv'));
    expect(csvFiles.filter((f) => f.endsWith('.tmp')), 'no temporary CSV file after shutdown').to.deep.equal([]);
    const rows = csvFiles.filter((f) => f.endsWith('.csv')).flatMap((f) => readFileSync(path.join(cwd, 'csv', f), 'utf8').split('\n').filter(Boolean).slice(1));
    expect(rows.length).to.equal(expected);
  });

  it('restart without Kafka: data-only datagrams decode on the first try from the saved state', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'flowgate-restart-'));
    const cfg = path.join(cwd, 'gw.yaml');
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    // The gateway needs a fixed port to be found again after the restart: take a free one.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    probe.close();
    writeFileSync(cfg, `listeners: [{ listen: "127.0.0.1:${port}", protocol: auto }]\nstate: { directory: ./st }\nsummary_interval_seconds: 1\n`);
    // Summary lines (every second) say how many datagrams the process has taken in.
    const seen = (p: Proc, n: number): (() => boolean) => () => json(p.lines).some((l) => l.msg === 'summary' && (l.datagrams as number) >= n);
    try {
      for (const file of ['softflowd-v9.pcap', 'pmacct-v9-sampled.pcap', 'softflowd-ipfix-ipv6.pcap']) {
        const cap = readCaptureFile(path.join(FIXTURES, file));
        const offline = new DatagramDecoder();
        const ex = makeExporter(Uint8Array.from([127, 0, 0, 1]), 1);
        let wantRecords = 0;
        for (const d of cap.datagrams) {
          const n = offline.decode(d.payload, ex, d.timestampUs).flows.length;
          if (!hasTemplateSet(d.payload)) wantRecords += n;
        }
        const send = async (ds: typeof cap.datagrams): Promise<void> => {
          for (const d of ds) await new Promise<void>((res, rej) => sock.send(d.payload, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
        };
        const first = runGateway(['run', '-c', cfg], cwd);
        await waitFor(() => json(first.lines).some((l) => l.msg === 'listening'), 20_000, () => first.lines.join('\n'));
        const templated = cap.datagrams.filter((d) => hasTemplateSet(d.payload));
        await send(templated);
        await waitFor(seen(first, templated.length), 20_000, () => first.lines.join('\n'));
        expect(await stopGateway(first)).to.equal(0);
        const learned = json(first.lines).filter((l) => l.msg === 'summary').pop()?.templates as number;
        expect(learned).to.be.greaterThan(0);

        const second = runGateway(['run', '-c', cfg], cwd);
        await waitFor(() => json(second.lines).some((l) => l.msg === 'listening'), 20_000, () => second.lines.join('\n'));
        expect(json(second.lines).some((l) => l.msg === 'state: restored templates and sampling state' && l.templates === learned)).to.equal(true);
        const dataOnly = cap.datagrams.filter((d) => !hasTemplateSet(d.payload));
        await send(dataOnly);
        await waitFor(seen(second, dataOnly.length), 20_000, () => second.lines.join('\n'));
        expect(await stopGateway(second)).to.equal(0);
        const s = json(second.lines).filter((l) => l.msg === 'summary').pop();
        expect(s?.records, file).to.equal(wantRecords);
        expect(s?.errors, file).to.deep.equal({});
        expect(wantRecords, file).to.be.greaterThan(0);
      }
    } finally {
      sock.close();
    }
  });
});
