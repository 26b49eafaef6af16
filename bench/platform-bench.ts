// The issue-8 outputs' own work per record, without Kafka (a broker round trip would measure
// the broker): `npm run bench -- platform`. BENCH_PLATFORM_RECORDS changes the count.
//   prometheus  PrometheusOutput.write(): label values, direction, sampling, the series table
//               (labels exporter, src_as, dst_as, proto; 5,000 AS pairs); plus one scrape
//               (exposition text) of a table at max_series = 10,000
//   split       SplitRouter.route + RecordMessages encode/add/take (raw framing, 3 rules)
//   reduce      Reducer.reduce (6 kept fields, src/dst anonymised) + encode; Crypto-PAn with
//               its result cache warm (addresses repeat, as in flow data) and cold (every
//               source address new, in networks seen before)
// Records are the CSV bench's typical records (4/5 IPv4, 1/5 IPv6), in batches of 1,000.

import * as os from 'node:os';
import { Registry } from 'prom-client';
import type { FlowRecord } from '../src/canonical/flow-record';
import type { GatewayConfig } from '../src/config/types';
import type { OutputContext } from '../src/converters/converter';
import { RateLimitedLog } from '../src/log/rate-limited';
import { PrometheusOutput } from '../src/outputs/prometheus/prometheus-output';
import { renderExposition } from '../src/outputs/prometheus/exposition';
import { FlowCounters } from '../src/outputs/prometheus/flow-counters';
import { CryptoPan } from '../src/outputs/reduce/crypto-pan';
import { Reducer } from '../src/outputs/reduce/reduce-output';
import { RecordMessages } from '../src/outputs/record-messages';
import { SplitRouter } from '../src/outputs/split/split-rules';
import { typicalRecords } from '../test/outputs/flow-records';
import type { Bench, Machine, Measurement } from './report';

const BATCH = 1000;
const KEY = Buffer.from('00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210', 'hex');

function records(): FlowRecord[] {
  const rs = typicalRecords(BATCH * 10, Date.now() * 1000);
  rs.forEach((r, i) => {
    r.src_as = 64512 + (i % 50);
    r.dst_as = 65000 + ((i * 7) % 100);
  });
  return rs;
}

function measurement(protocol: string, mode: string, n: number, secs: number, cpuUs: number, source: string, machine: Machine): Measurement {
  return {
    bench: 'platform', protocol, mode, records_per_s: n / secs, datagrams_per_s: 0, ns_per_record: (secs * 1e9) / n, records_per_datagram: 0,
    records: n, datagrams: 0, seconds: secs, window_min_records_per_s: n / secs, window_max_records_per_s: n / secs, encoded_bytes_per_record: 0,
    errors_per_pass: 0, cpu_share: cpuUs / 1e6 / secs, loadavg_1m: os.loadavg()[0], source, node: machine.node, cpu: machine.cpu,
  };
}

/** Runs `step` over batches until `n` records went through; wall and CPU time. */
function time(n: number, batches: readonly (readonly FlowRecord[])[], step: (b: readonly FlowRecord[]) => void): { secs: number; cpuUs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n / BATCH; i++) step(batches[i % batches.length]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(cpu0);
  return { secs, cpuUs: c.user + c.system };
}

function batchesOf(rs: FlowRecord[]): FlowRecord[][] {
  const out: FlowRecord[][] = [];
  for (let i = 0; i < rs.length; i += BATCH) out.push(rs.slice(i, i + BATCH));
  return out;
}

async function prometheus(n: number, machine: Machine): Promise<Measurement[]> {
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const ctx: OutputContext = { log: quiet, badInput: new RateLimitedLog(quiet as never), registry: new Registry(), config: { outputs: [] } as unknown as GatewayConfig };
  const out = new PrometheusOutput({
    type: 'prometheus', name: 'bench', topic: 'flows', group_id: 'bench', listen: { host: '127.0.0.1', port: 0 },
    labels: ['exporter', 'src_as', 'dst_as', 'proto'], direction_by: { local_prefixes: ['10.0.0.0/8', '2001:db8::/48'] }, max_series: 10_000,
  }, ctx);
  await out.start();
  const batches = batchesOf(records());
  time(BATCH * 20, batches, (b) => out.write(b));
  const t = time(n, batches, (b) => out.write(b));
  await out.close();
  const res = [measurement('prometheus', 'write', n, t.secs, t.cpuUs, 'typical records, labels exporter/src_as/dst_as/proto, local_prefixes', machine)];
  // A scrape at the cap: 10,000 label sets.
  const full = new FlowCounters(['exporter', 'src_as', 'dst_as', 'proto'], 10_000, { local_as: [64512] });
  const rs = records();
  for (let i = 0; i < 20_000; i++) {
    const r = rs[i % rs.length];
    r.dst_as = 100_000 + i;
    full.add(r);
  }
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const SCRAPES = 20;
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) bytes += renderExposition(full.table, 'bench').length;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(cpu0);
  const m = measurement('prometheus', 'scrape@10k', SCRAPES, secs, c.user + c.system, `exposition of ${full.table.size} label sets, ${Math.round(bytes / SCRAPES / 1024)} KiB; records_per_s = scrapes/s`, machine);
  return [...res, m];
}

function split(n: number, machine: Machine): Measurement {
  const router = new SplitRouter([
    { match: { addr: ['10.0.0.0/9'] }, topic: 'customer-a' },
    { match: { addr: ['10.128.0.0/9', '2001:db8::/48'] }, topic: 'customer-b' },
    { match: { exporter: ['192.0.2.1'], in_if: [1, 2] }, topic: 'customer-c' },
  ], 'other');
  const messages = new RecordMessages('raw', 'none', 1_000_000);
  const batches = batchesOf(records());
  const step = (b: readonly FlowRecord[]): void => {
    for (const r of b) {
      const topics = router.route(r);
      if (!topics.length) continue;
      const e = messages.encode(r);
      for (const t of topics) messages.add(t, e);
    }
    messages.take();
  };
  time(BATCH * 20, batches, step);
  const t = time(n, batches, step);
  return measurement('split', 'route+encode', n, t.secs, t.cpuUs, 'typical records, 3 rules + default, raw framing (produce excluded)', machine);
}

function reduce(n: number, machine: Machine, cold: boolean): Measurement {
  const keep = ['time_flow_end_ns', 'src_addr', 'dst_addr', 'proto', 'bytes', 'packets'];
  const messages = new RecordMessages('raw', 'none', 1_000_000);
  const reducer = new Reducer(keep, ['src_addr', 'dst_addr'], new CryptoPan(KEY));
  const rs = records();
  let serial = 0;
  const step = (b: readonly FlowRecord[]): void => {
    if (cold) {
      // Every source address new (never seen before), in networks that repeat.
      for (const r of b) {
        serial++;
        r.src_addr = r.src_addr.length === 4
          ? Uint8Array.from([10, (serial >> 16) & 255, (serial >> 8) & 255, serial & 255])
          : Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, serial & 7, 0, 0, 0, 0, (serial >> 24) & 255, (serial >> 16) & 255, (serial >> 8) & 255, serial & 255]);
      }
    }
    for (const r of b) messages.add('reduced', messages.encode(reducer.reduce(r)));
    messages.take();
  };
  const batches = batchesOf(rs);
  const count = cold ? Math.min(n, 200_000) : n;
  time(BATCH * 5, batches, step);
  const t = time(count, batches, step);
  return measurement('reduce', cold ? 'anon-cold' : 'anon-warm', count, t.secs, t.cpuUs,
    cold ? 'every source address new (1/5 IPv6), in repeating /24 and /64 networks: no result-cache hits' : '6 kept fields, src/dst anonymised, addresses repeating (cache warm)', machine);
}

export const platformBench: Bench = {
  name: 'platform',
  description: 'prometheus/split/reduce outputs alone: records/s through write() work (no Kafka), one scrape at 10k series',
  async run(_settings, machine, progress) {
    const n = Number(process.env.BENCH_PLATFORM_RECORDS ?? 1_000_000);
    if (!Number.isInteger(n) || n < BATCH) throw new Error(`BENCH_PLATFORM_RECORDS=${process.env.BENCH_PLATFORM_RECORDS}: expected a whole number >= ${BATCH}`);
    const out: Measurement[] = [];
    out.push(...(await prometheus(n, machine)));
    progress(`prometheus: ${Math.round(out[0].records_per_s)} records/s`);
    out.push(split(n, machine));
    out.push(reduce(n, machine, false));
    out.push(reduce(n, machine, true));
    return out;
  },
};
