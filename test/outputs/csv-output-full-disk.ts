// Child process for the full-disk test (run under `ulimit -f 64`): one small window completes,
// then a window's file grows past the limit and its write fails with EFBIG, then a later window
// is written again. Prints counts, stats, onDurable values and logged errors as JSON.

import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { CsvOutput } from '../../src/outputs/csv/csv-output';

const T0_MS = Date.UTC(2026, 10, 22, 10, 15, 0);

function rec(seq: number, receivedUs: number): FlowRecord {
  const r = newFlowRecord();
  r.sequence_num = seq;
  r.time_received_us = receivedUs;
  r.src_addr = Uint8Array.from([10, 0, (seq >> 8) & 255, seq & 255]);
  r.bytes = 1000 + seq;
  return r;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  let now = T0_MS + 1_000;
  const errors: object[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: (o: object) => { errors.push(o); } };
  const out = new CsvOutput({
    type: 'csv', name: 'full', topic: 't', group_id: 'g', directory: dir,
    fields: ['sequence_num', 'time_received_ns', 'src_addr', 'bytes'],
    rotate: { seconds: 60, bytes: 64 << 20 }, gzip: false, time_format: 'iso', protocol_names: false,
    file_prefix: 'flows-', window_by: 'received', late_seconds: 0,
  }, log, () => now);
  const durables: number[] = [];
  out.onDurable((d) => durables.push(d));
  await out.start();
  let seq = 0;
  out.write(Array.from({ length: 100 }, () => rec(seq++, now * 1000)));
  now = T0_MS + 61_000;
  // ~5,000 rows of ~55 bytes: past 64 KiB, so the write fails part way.
  for (let b = 0; b < 50; b++) {
    out.write(Array.from({ length: 100 }, () => rec(seq++, now * 1000)));
    await out.ready();
    await new Promise((res) => setImmediate(res));
  }
  now = T0_MS + 200_000;
  out.write([rec(seq++, now * 1000)]);
  await out.close();
  process.stdout.write(JSON.stringify({ counts: out.counts(), stats: out.stats(), durables, errors }));
}

main().catch((e) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
