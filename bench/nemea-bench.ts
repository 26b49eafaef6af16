// The nemea output alone: 1,000,000 typical records (mixed IPv4/IPv6) encoded as UniRec, packed
// into TRAP containers and sent over TCP on 127.0.0.1 to one local client that reads and counts
// bytes (in this process, as a module would on the same host), in batches of 1,000 with
// `slow_client: wait`. Timed from the first write until the client has read the end-of-stream
// record. Default template (14 fields, 79 bytes a record), and the same plus a variable-length
// `string EXPORTER`. `npm run bench -- nemea`. BENCH_NEMEA_RECORDS changes the count.

import * as net from 'node:net';
import * as os from 'node:os';
import { Registry } from 'prom-client';
import { parseConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { RateLimitedLog } from '../src/log/rate-limited';
import { NemeaOutput } from '../src/outputs/nemea/nemea-output';
import { DEFAULT_UNIREC_FIELDS } from '../src/outputs/nemea/unirec-fields';
import { typicalRecords } from '../test/outputs/flow-records';
import type { Bench, Machine, Measurement } from './report';

const BATCH = 1000;

async function measure(label: string, fields: string, records: number, machine: Machine): Promise<Measurement> {
  const log = createLogger({ level: 'silent' });
  const out = new NemeaOutput({
    type: 'nemea', name: 'bench', topic: 'flows', group_id: 'bench', listen: 'tcp:127.0.0.1:0', fields, flush_ms: 500,
    framing: 'container', slow_client: 'wait', queue_bytes: 4 << 20, max_clients: 64, rotate: { seconds: 0, bytes: 0 },
  }, { log, badInput: new RateLimitedLog(log, { tickMs: 0 }), registry: new Registry(), config: parseConfig('listeners: [{ listen: "127.0.0.1:0" }]') });
  await out.start();
  let bytes = 0;
  const client = net.connect(out.address().port ?? 0, '127.0.0.1');
  client.on('data', (d: Buffer) => { bytes += d.length; });
  const ended = new Promise<void>((res) => client.on('end', () => res()));
  await new Promise<void>((res) => client.once('connect', () => res()));
  while (out.stats().clients === 0) await new Promise((r) => setTimeout(r, 5));
  const batch = typicalRecords(BATCH, Date.now() * 1000);
  // Typical records carry no exporter; give them one so EXPORTER is a real 9-11 byte string.
  batch.forEach((r, i) => { r.exporter_address = Uint8Array.from([192, 0, 2, 1 + (i % 200)]); });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < records / BATCH; i++) {
    out.write(batch);
    await out.ready();
  }
  await out.close();
  await ended;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  return {
    bench: 'nemea', protocol: label, mode: 'encode+send', records_per_s: records / secs, datagrams_per_s: out.stats().containers / secs,
    ns_per_record: (secs * 1e9) / records, records_per_datagram: records / Math.max(1, out.stats().containers), records, datagrams: out.stats().containers,
    seconds: secs, window_min_records_per_s: records / secs, window_max_records_per_s: records / secs, encoded_bytes_per_record: bytes / records,
    errors_per_pass: out.stats().bad_records, cpu_share: (cpu.user + cpu.system) / 1e6 / secs, loadavg_1m: os.loadavg()[0],
    source: `typical records, batches of ${BATCH}, one TCP client on 127.0.0.1 (datagrams = containers)`, node: machine.node, cpu: machine.cpu,
  };
}

export const nemeaBench: Bench = {
  name: 'nemea',
  description: 'nemea output alone: 1M records encoded as UniRec and sent in TRAP containers to one local TCP client',
  async run(_settings, machine) {
    const n = Number(process.env.BENCH_NEMEA_RECORDS ?? 1_000_000);
    if (!Number.isInteger(n) || n < BATCH) throw new Error(`BENCH_NEMEA_RECORDS=${process.env.BENCH_NEMEA_RECORDS}: expected a whole number >= ${BATCH}`);
    return [
      await measure('default', DEFAULT_UNIREC_FIELDS, n, machine),
      await measure('+string', `${DEFAULT_UNIREC_FIELDS},string EXPORTER`, n, machine),
    ];
  },
};
