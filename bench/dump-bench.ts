// `flowgate dump` benchmark: 1,000,000 records in a 3-partition topic of librdkafka's mock
// cluster, dumped to a CSV file by the real CLI as a child process:
//
//   node dist/src/cli.js dump --brokers B --topic T --from F --to T --out FILE
//
// timed from spawn to exit (node start-up, connecting, offset planning, reading, decoding,
// CSV, fsync and rename: everything a user waits for). Producing the records is not timed.
// Two topics, one per framing: raw (one record per Kafka message) and delimited (30 records
// per message, a NetFlow v9 datagram's worth, as the gateway packs them).
//
//   npm run bench -- dump
//   node dist/bench/dump-bench.js              # without the runner (after a build)
//
// Settings (environment):
//   BENCH_DUMP_RECORDS   1000000   records per topic
//   BENCH_DUMP_RUNS      3         timed dumps per topic; the median is reported
//   BENCH_DUMP_FRAMINGS  raw,delimited
//   BENCH_DUMP_PROFILE   DIR       run the dumps under node --cpu-prof (profiles in DIR)
//
// The mock broker keeps at most 5 MiB of record batches per partition (librdkafka's
// rd_kafka_mock_partition max_size, not settable) and silently drops the oldest beyond that.
// 1M records of ~100 bytes do not fit in 3 × 5 MiB, so they are produced gzip-compressed,
// drawn from a pool of 16 distinct flows, with times that follow the message timestamps
// (100 ms steps) and sequence numbers that follow the record count: gzip packs that to under
// 15 bytes a record. Decoding and formatting cost the same as
// for any records of this shape; only the bytes on the (local) wire are fewer. The bench checks
// that nothing was dropped before it times anything.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompressionTypes, Kafka, logLevel, type Message } from 'kafkajs';
import { FlowEncoder } from '../src/canonical/flow-encoder';
import { newFlowRecord, type FlowRecord } from '../src/canonical/flow-record';
import { startKafkaMock, type KafkaMock } from '../test/support/kafka-broker';
import { formatMachine, formatTable, jsonLine, machineInfo, type Bench, type Machine, type Measurement } from './report';
import { prng } from '../test/support/prng';

type Framing = 'raw' | 'delimited';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli.js');
const T0 = Date.UTC(2026, 0, 1);
/** Records span ten minutes of message timestamps. */
const SPAN_MS = 600_000;
const RECORDS_PER_MESSAGE = 30;
const PARTITIONS = 3;
/** Distinct flows the records are drawn from (see the top of this file). */
const POOL = 16;

interface DumpSettings {
  records: number;
  runs: number;
  framings: Framing[];
  profileDir?: string;
}

function dumpSettings(env: NodeJS.ProcessEnv = process.env): DumpSettings {
  const int = (name: string, dflt: number): number => {
    const v = env[name] === undefined || env[name] === '' ? dflt : Number(env[name]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}=${env[name]}: expected a positive integer`);
    return v;
  };
  const framings = (env.BENCH_DUMP_FRAMINGS ?? 'raw,delimited').split(',').map((s) => s.trim()).filter(Boolean);
  for (const f of framings) if (f !== 'raw' && f !== 'delimited') throw new Error(`BENCH_DUMP_FRAMINGS: unknown framing ${f}`);
  return { records: int('BENCH_DUMP_RECORDS', 1_000_000), runs: int('BENCH_DUMP_RUNS', 3), framings: framings as Framing[], profileDir: env.BENCH_DUMP_PROFILE || undefined };
}


/** POOL NetFlow v9-like flows: IPv4 and IPv6, TCP/UDP/ICMP, 8 exporters. */
function flowPool(): FlowRecord[] {
  const rnd = prng(1);
  const int = (n: number): number => Math.floor(rnd() * n);
  const v4 = (): Uint8Array => Uint8Array.from([10, int(4), int(256), 1 + int(254)]);
  const v6 = (): Uint8Array => Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, int(16), 0, 0, 0, 0, 0, 0, 0, 0, int(256), 1 + int(254)]);
  return Array.from({ length: POOL }, (_, i) => {
    const r = newFlowRecord();
    const six = i % 5 === 0;
    r.type = 3;
    r.sampling_rate = 100;
    r.sampling_rate_source = 2;
    r.exporter_address = Uint8Array.from([192, 0, 2, 1 + (i % 8)]);
    r.sampler_address = r.exporter_address;
    r.exporter_port = 2055;
    r.observation_domain_id = 256;
    r.src_addr = six ? v6() : v4();
    r.dst_addr = six ? v6() : v4();
    r.etype = six ? 0x86dd : 0x800;
    r.proto = [6, 6, 6, 17, 17, 1][int(6)];
    r.src_port = r.proto === 1 ? 0 : 1024 + int(60000);
    r.dst_port = r.proto === 1 ? 0 : [443, 80, 53, 22, 123][int(5)];
    r.tcp_flags = r.proto === 6 ? [0x1b, 0x12, 0x02, 0x18][int(4)] : 0;
    r.in_if = 1 + int(8);
    r.out_if = 1 + int(8);
    r.src_as = 64512 + int(100);
    r.dst_as = 64512 + int(100);
    r.next_hop = Uint8Array.from([192, 0, 2, 254]);
    r.src_net = 24;
    r.dst_net = 24;
    r.flow_direction = 1;
    r.bytes = 40 + int(1_500_000);
    r.packets = 1 + int(1000);
    // The flow's duration in µs (turned into a start time per record).
    r.time_flow_start_us = 1_000 + int(60_000_000);
    return r;
  });
}

/** Message i's CreateTime: evenly over SPAN_MS, in steps of 100 ms (see the top of this file). */
function timestampOf(i: number, messages: number): number {
  return T0 + Math.floor((i / messages) * (SPAN_MS / 100)) * 100;
}

async function produce(kafka: KafkaMock, topic: string, framing: Framing, records: number, log: (s: string) => void): Promise<number> {
  const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const producer = client.producer({ idempotent: false });
  await producer.connect();
  const pool = flowPool();
  const enc = new FlowEncoder();
  const headers = { 'flowgate-framing': framing, 'flowgate-schema': 'flowpb.FlowMessage' };
  const perMessage = framing === 'raw' ? 1 : RECORDS_PER_MESSAGE;
  const messages = Math.ceil(records / perMessage);
  const t0 = Date.now();
  let made = 0;
  let valueBytes = 0;
  // Sends of ~30,000 records: one record batch per partition per send (the mock also keeps
  // at most 100,000 batches per partition).
  const perSend = Math.max(1, Math.floor(30_000 / perMessage));
  for (let m = 0; m < messages; m += perSend) {
    const batch: Message[] = [];
    for (let k = m; k < Math.min(messages, m + perSend); k++) {
      const ts = timestampOf(k, messages);
      const recs: FlowRecord[] = [];
      for (let j = 0; j < perMessage && made < records; j++, made++) {
        // Per-record values that follow the clock rather than dice: random counters would
        // not compress to fit the mock (see the top of this file).
        const r = { ...pool[made % pool.length] };
        r.sequence_num = Math.floor(made / 1000);
        r.time_received_us = ts * 1000;
        r.time_flow_end_us = ts * 1000 - 500_000;
        r.time_flow_start_us = r.time_flow_end_us - pool[made % pool.length].time_flow_start_us;
        recs.push(r);
      }
      const value = framing === 'raw' ? enc.encode(recs[0]) : enc.encodeDelimited(recs);
      valueBytes += value.length;
      batch.push({ value, headers, partition: k % PARTITIONS, timestamp: String(ts) });
    }
    await producer.send({ topic, messages: batch, acks: 1, compression: CompressionTypes.GZIP });
  }
  await producer.disconnect();
  // The mock drops the oldest batches of a partition past 5 MiB: check nothing is missing.
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const held = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  if (held !== messages || offsets.some((o) => o.low !== '0')) {
    throw new Error(`${topic}: the mock broker holds ${held} of ${messages} messages (offsets ${JSON.stringify(offsets)}): it dropped data beyond 5 MiB per partition`);
  }
  log(`  ${topic}: produced ${records.toLocaleString('en-US')} records in ${messages.toLocaleString('en-US')} messages (${(valueBytes / records).toFixed(1)} value bytes per record) in ${((Date.now() - t0) / 1000).toFixed(1)} s (not timed)`);
  return valueBytes / records;
}

// A preload module that reports the dump process's own CPU time on fd 3 as it exits, so the
// bench can tell a busy machine (CPU share well below 1 while timed) from a slow dump.
const RUSAGE_PRELOAD = `process.on('exit', () => { try { require('fs').writeSync(3, JSON.stringify(process.cpuUsage())); } catch (e) {} });\n`;

interface TimedRun {
  seconds: number;
  cpuSeconds: number;
  summary: string;
}

function timedDump(args: string[], preload: string, profileDir: string | undefined): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const nodeArgs = ['--require', preload, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), CLI, 'dump', ...args];
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let usage = '';
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8');
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (s: string) => (usage += s));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`dump exited with ${code}: ${stderr}`));
      const u = usage ? (JSON.parse(usage) as { user: number; system: number }) : { user: NaN, system: NaN };
      resolve({ seconds, cpuSeconds: (u.user + u.system) / 1e6, summary: stderr.trim().split('\n').pop() ?? '' });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function measure(kafka: KafkaMock, framing: Framing, s: DumpSettings, machine: Machine, tmp: string, log: (line: string) => void): Promise<Measurement> {
  const topic = `flows-${framing}`;
  const bytesPerRecord = await produce(kafka, topic, framing, s.records, log);
  const out = path.join(tmp, `${topic}.csv`);
  const preload = path.join(tmp, 'rusage.js');
  writeFileSync(preload, RUSAGE_PRELOAD);
  const args = ['--brokers', kafka.bootstrap, '--topic', topic, '--from', new Date(T0).toISOString(), '--to', new Date(T0 + SPAN_MS).toISOString(), '--out', out];
  const runs: TimedRun[] = [];
  for (let i = 0; i < s.runs; i++) {
    const r = await timedDump(args, preload, s.profileDir ? path.join(s.profileDir, framing) : undefined);
    // Every record made it: one CSV line each plus the header.
    const lines = readFileSync(out, 'latin1').split('\n').length - 2;
    if (lines !== s.records) throw new Error(`${topic}: the dump wrote ${lines} rows, expected ${s.records}`);
    log(`  ${topic} run ${i + 1}: ${r.seconds.toFixed(2)} s, ${Math.round(s.records / r.seconds).toLocaleString('en-US')} records/s, CPU ${r.cpuSeconds.toFixed(2)} s; ${(statSync(out).size / 2 ** 20).toFixed(0)} MiB CSV`);
    log(`    ${r.summary}`);
    runs.push(r);
    rmSync(out, { force: true });
  }
  const secs = median(runs.map((r) => r.seconds));
  const rates = runs.map((r) => s.records / r.seconds);
  const perMessage = framing === 'raw' ? 1 : RECORDS_PER_MESSAGE;
  const mid = runs.find((r) => r.seconds === secs) ?? runs[0];
  return {
    bench: 'dump',
    protocol: framing,
    mode: 'cli→file',
    records_per_s: s.records / secs,
    datagrams_per_s: s.records / perMessage / secs,
    ns_per_record: (secs * 1e9) / s.records,
    records_per_datagram: perMessage,
    records: s.records,
    datagrams: Math.ceil(s.records / perMessage),
    seconds: secs,
    window_min_records_per_s: Math.min(...rates),
    window_max_records_per_s: Math.max(...rates),
    encoded_bytes_per_record: bytesPerRecord,
    errors_per_pass: 0,
    cpu_share: mid.cpuSeconds / mid.seconds,
    loadavg_1m: os.loadavg()[0],
    source: `mock broker, ${PARTITIONS} partitions, gzip; ${s.runs} runs (median; min-max = runs)`,
    node: machine.node,
    cpu: machine.cpu,
  };
}

export const dumpBench: Bench = {
  name: 'dump',
  description: 'flowgate dump (CLI child process) of 1M records from a 3-partition mock-broker topic to a CSV file, raw and delimited framing',
  async run(_settings, machine, log) {
    const s = dumpSettings();
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'flowgate-dump-bench-'));
    const kafka = await startKafkaMock({ topics: s.framings.map((f) => ({ name: `flows-${f}`, partitions: PARTITIONS })) });
    try {
      const out: Measurement[] = [];
      for (const f of s.framings) out.push(await measure(kafka, f, s, machine, tmp, log));
      return out;
    } finally {
      await kafka.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
  },
};

if (require.main === module) {
  const machine = machineInfo();
  console.log(formatMachine(machine));
  dumpBench.run({ seconds: 0, warmupSeconds: 0, isolate: false }, machine, (l) => console.log(l)).then(
    (ms) => {
      console.log('');
      console.log(formatTable(ms));
      for (const m of ms) console.log(jsonLine(m));
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.stack ?? e.message : String(e));
      process.exitCode = 1;
    },
  );
}
