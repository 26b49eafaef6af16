// The netflow9 output alone: typical records (mixed IPv4/IPv6, 4 exporters, sampled) encoded
// into NetFlow v9 export packets (default templates, MTU 1400), measured two ways:
//  - encode: source streams only, packets handed to a no-op (the encoder and packer's cost);
//  - encode+send: the whole Netflow9Output, unpaced, one UDP target on 127.0.0.1 whose reader
//    is a separate process (so it does not share this event loop); closed at the end, so every
//    packet's send callback has fired. Datagrams the reader counted are reported too (loopback
//    can drop under a burst: that is the receiver's buffer, not the sender's rate).
// `npm run bench -- netflow9`. BENCH_NETFLOW9_RECORDS changes the count (default 2,000,000).

import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { Registry } from 'prom-client';
import type { FlowRecord } from '../src/canonical/flow-record';
import { createLogger } from '../src/log/logger';
import { RateLimitedLog } from '../src/log/rate-limited';
import { Netflow9Output } from '../src/outputs/netflow9/netflow9-output';
import { packetPlan } from '../src/outputs/netflow9/packet-plan';
import { SourceIds } from '../src/outputs/netflow9/source-ids';
import { SourceStream, type StreamShared } from '../src/outputs/netflow9/source-stream';
import { DEFAULT_TEMPLATE_FILE, loadExportTemplates } from '../src/outputs/netflow9/template-file';
import { typicalRecords } from '../test/outputs/flow-records';
import type { Bench, Machine, Measurement } from './report';

const BATCH = 1000;

function records(): FlowRecord[] {
  const rs = typicalRecords(BATCH, Date.now() * 1000);
  rs.forEach((r, i) => {
    r.exporter_address = Uint8Array.from([192, 0, 2, 1 + (i % 4)]);
    r.exporter_port = 2055;
  });
  return rs;
}

function measurement(mode: string, n: number, packets: number, bytes: number, secs: number, cpu: NodeJS.CpuUsage, machine: Machine, source: string): Measurement {
  return {
    bench: 'netflow9', protocol: 'netflow9', mode, records_per_s: n / secs, datagrams_per_s: packets / secs, ns_per_record: (secs * 1e9) / n,
    records_per_datagram: packets ? n / packets : 0, records: n, datagrams: packets, seconds: secs, window_min_records_per_s: n / secs,
    window_max_records_per_s: n / secs, encoded_bytes_per_record: bytes / n, errors_per_pass: 0, cpu_share: (cpu.user + cpu.system) / 1e6 / secs,
    loadavg_1m: os.loadavg()[0], source, node: machine.node, cpu: machine.cpu,
  };
}

function encodeOnly(n: number, machine: Machine): Measurement {
  let packets = 0;
  let bytes = 0;
  const sh: StreamShared = {
    ...packetPlan(loadExportTemplates()), mtu: 1400, refreshPackets: 20, refreshMs: 60_000,
    ctx: { firstSwitched: 0, lastSwitched: 0, clamped: 0 }, opened: () => undefined,
    emit: (p) => { packets++; bytes += p.bytes.length; },
  };
  const streams = new Map<number, SourceStream>();
  const ids = new SourceIds(undefined, () => undefined);
  const batch = records();
  const run = (count: number): void => {
    let seq = 0;
    for (let b = 0; b < count / BATCH; b++) {
      const now = Date.now();
      for (const r of batch) {
        const id = ids.idFor(r);
        let s = streams.get(id);
        if (!s) streams.set(id, (s = new SourceStream(id, sh)));
        s.add(r, seq++, now);
      }
    }
    for (const s of streams.values()) s.flush();
  };
  run(Math.min(n, 200_000)); // warm-up
  packets = 0;
  bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  run(n);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return measurement('encode', n, packets, bytes, secs, process.cpuUsage(cpu0), machine, `typical records, 4 exporters, batches of ${BATCH}, packets discarded`);
}

/** A reader in its own process: prints its port, then the datagram count when its stdin closes. */
async function startReader(): Promise<{ port: number; finish(): Promise<number> }> {
  const code = `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',()=>n++);
s.bind(0,'127.0.0.1',()=>{try{s.setRecvBufferSize(32<<20)}catch{};console.log(s.address().port)});
process.stdin.on('end',()=>setTimeout(()=>{console.log(n);process.exit(0)},200));process.stdin.resume();`;
  const c = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  c.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  const until = Date.now() + 10_000;
  while (lines.length === 0) {
    if (Date.now() > until) throw new Error('netflow9 bench: reader did not start');
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    port: Number(lines[0]),
    finish: async () => {
      c.stdin.end();
      await new Promise((r) => c.once('exit', r));
      return Number(lines[1] ?? 0);
    },
  };
}

async function encodeAndSend(n: number, machine: Machine): Promise<Measurement> {
  const reader = await startReader();
  const registry = new Registry();
  const log = createLogger({ level: 'error' });
  const out = new Netflow9Output({
    type: 'netflow9', name: 'bench', topic: 'flows', group_id: 'bench', targets: [`127.0.0.1:${reader.port}`], source_id: 'per-exporter',
    template_refresh: { packets: 20, seconds: 60 }, mtu: 1400, flush_ms: 500, rate_limit: 0, template_file: DEFAULT_TEMPLATE_FILE,
  }, { log, badInput: new RateLimitedLog(log, { tickMs: 0 }), registry, config: { listeners: [], outputs: [] } as never });
  await out.start();
  const batch = records();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let b = 0; b < n / BATCH; b++) {
    out.write(batch);
    await out.ready();
  }
  await out.close();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const received = await reader.finish();
  const packets = out.stats.packets;
  const bytes = (await registry.getSingleMetricAsString('flowgate_netflow9_bytes_total')).split('\n').filter((l) => !l.startsWith('#')).reduce((s, l) => s + Number(l.split(' ').pop()), 0);
  return measurement('encode+send', n, packets, bytes, secs, cpu, machine,
    `typical records, 4 exporters, 1 UDP target on 127.0.0.1 (reader in another process received ${received} of ${packets} packets), unpaced`);
}

export const netflow9Bench: Bench = {
  name: 'netflow9',
  description: 'NetFlow v9 output alone: typical records encoded into export packets (encode), and encoded + sent over UDP to 127.0.0.1 (encode+send)',
  async run(_settings, machine) {
    const n = Number(process.env.BENCH_NETFLOW9_RECORDS ?? 2_000_000);
    if (!Number.isInteger(n) || n < BATCH) throw new Error(`BENCH_NETFLOW9_RECORDS=${process.env.BENCH_NETFLOW9_RECORDS}: expected a whole number >= ${BATCH}`);
    return [encodeOnly(n, machine), await encodeAndSend(n, machine)];
  },
};
