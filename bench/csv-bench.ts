// The CSV output alone: 1,000,000 typical records (mixed IPv4/IPv6, 16 columns, iso times)
// written in batches of 1,000 through CsvOutput and closed (files flushed, fsynced, renamed),
// plain and gzip. `npm run bench -- csv`. BENCH_CSV_RECORDS changes the count.

import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CsvOutput } from '../src/outputs/csv/csv-output';
import { DEFAULT_CSV_FIELDS } from '../src/commands/decode';
import { typicalRecords } from '../test/outputs/flow-records';
import type { Bench, Machine, Measurement } from './report';

const BATCH = 1000;

async function measure(gzip: boolean, records: number, machine: Machine): Promise<Measurement> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flowgate-csv-bench-'));
  try {
    const quiet = { info() {}, warn() {}, error() {} };
    const out = new CsvOutput({
      type: 'csv', name: 'bench', topic: 'flows', group_id: 'bench', directory: dir, fields: DEFAULT_CSV_FIELDS,
      rotate: { seconds: 300, bytes: 1 << 30 }, gzip, time_format: 'iso', protocol_names: false, file_prefix: 'flows-',
      window_by: 'received', late_seconds: 60,
    }, quiet);
    await out.start();
    const batch = typicalRecords(BATCH, Date.now() * 1000);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < records / BATCH; i++) {
      out.write(batch);
      if (i % 20 === 19) await out.ready();
    }
    await out.close();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return {
      bench: 'csv', protocol: gzip ? 'gzip' : 'plain', mode: 'write+close', records_per_s: records / secs, datagrams_per_s: 0,
      ns_per_record: (secs * 1e9) / records, records_per_datagram: 0, records, datagrams: 0, seconds: secs,
      window_min_records_per_s: records / secs, window_max_records_per_s: records / secs, encoded_bytes_per_record: 0,
      errors_per_pass: 0, cpu_share: (cpu.user + cpu.system) / 1e6 / secs, loadavg_1m: os.loadavg()[0],
      source: `typical records, ${DEFAULT_CSV_FIELDS.length} columns, iso times, batches of ${BATCH}`, node: machine.node, cpu: machine.cpu,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const csvBench: Bench = {
  name: 'csv',
  description: 'CSV output alone: 1M records written and closed (flush, fsync, rename), plain and gzip',
  async run(_settings, machine) {
    const n = Number(process.env.BENCH_CSV_RECORDS ?? 1_000_000);
    if (!Number.isInteger(n) || n < BATCH) throw new Error(`BENCH_CSV_RECORDS=${process.env.BENCH_CSV_RECORDS}: expected a whole number >= ${BATCH}`);
    return [await measure(false, n, machine), await measure(true, n, machine)];
  },
};
