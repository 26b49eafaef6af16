// Issue 6: the nemea output on its own (no Kafka), with the independent test client
// (test/support/trap-client.ts): two clients with one stalled under `drop` and `wait`
// (acceptance 2), disconnect/reconnect and abrupt resets (acceptance 3, the gateway-level run is
// in test/converters/nemea-converter.test.ts), the 65th client, a changed field list, bad records.

import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { parseConfig } from '../../src/config/config';
import type { NemeaOutputConfig } from '../../src/config/types';
import { createLogger } from '../../src/log/logger';
import { RateLimitedLog } from '../../src/log/rate-limited';
import { NemeaOutput } from '../../src/outputs/nemea/nemea-output';
import { TrapFileWriter } from '../../src/outputs/nemea/trap-file';
import { hello } from '../../src/outputs/nemea/trap-framing';
import { DEFAULT_UNIREC_FIELDS } from '../../src/outputs/nemea/unirec-fields';
import { waitFor } from '../support/gateway-harness';
import { readTrapFiles, TrapTestClient } from '../support/trap-client';

function makeOutput(over: Partial<NemeaOutputConfig>): { out: NemeaOutput; logs: string[]; registry: Registry } {
  const logs: string[] = [];
  const log = createLogger({ destination: { write: (s: string) => void logs.push(s) } });
  const registry = new Registry();
  const config: NemeaOutputConfig = {
    type: 'nemea', name: 'n', topic: 'flows', group_id: 'g', listen: 'tcp:127.0.0.1:0', fields: DEFAULT_UNIREC_FIELDS,
    flush_ms: 10, framing: 'container', slow_client: 'wait', queue_bytes: 1 << 20, max_clients: 64, rotate: { seconds: 0, bytes: 0 },
    ...over,
  };
  const out = new NemeaOutput(config, { log, badInput: new RateLimitedLog(log, { tickMs: 0 }), registry, config: parseConfig('listeners: [{ listen: "127.0.0.1:0" }]') });
  return { out, logs, registry };
}

function records(from: number, n: number): FlowRecord[] {
  const rs: FlowRecord[] = [];
  for (let i = from; i < from + n; i++) {
    const r = newFlowRecord();
    r.bytes = i;
    r.src_addr = Uint8Array.from([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
    r.dst_addr = Uint8Array.from([192, 0, 2, 1]);
    r.time_flow_start_us = 1_700_000_000_000_000 + i;
    r.time_flow_end_us = 1_700_000_000_000_000 + i + 1;
    rs.push(r);
  }
  return rs;
}

const tcp = (out: NemeaOutput): { host: string; port: number } => ({ host: '127.0.0.1', port: out.address().port ?? -1 });

/** Sequence numbers must count every record produced before the container (gaps = skipped). */
function checkSequence(c: TrapTestClient, contiguous: boolean): void {
  let next = c.parser.containers[0]?.sequence ?? 0;
  for (const k of c.parser.containers) {
    if (contiguous) expect(k.sequence).to.equal(next);
    else expect(k.sequence).to.be.at.least(next);
    next = k.sequence + k.count;
  }
}

describe('nemea output (TRAP server, independent client)', function () {
  this.timeout(180_000);
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  const N = 300_000;
  const BATCH = 5_000;

  it('slow_client: drop — the fast client receives everything, the stalled one skips whole containers, counted', async () => {
    const { out, registry } = makeOutput({ slow_client: 'drop' });
    await out.start();
    cleanup.push(() => out.close());
    const fast = await TrapTestClient.connect(tcp(out), { keepRecords: false });
    const slow = await TrapTestClient.connect(tcp(out), { keepRecords: false });
    cleanup.push(() => { fast.destroy(); slow.destroy(); });
    await waitFor(() => out.stats().clients === 2 && !!fast.parser.hello && !!slow.parser.hello, 10_000, () => 'both clients greeted');
    slow.stall();
    for (let i = 0; i < N; i += BATCH) {
      out.write(records(i, BATCH));
      await out.ready();
      await waitFor(() => fast.parser.recordCount === i + BATCH, 30_000, () => `fast client at ${i + BATCH} (has ${fast.parser.recordCount})`);
    }
    expect(out.stats().dropped_records, 'the stalled client lost containers').to.be.greaterThan(0);
    slow.resume();
    await waitFor(() => slow.parser.recordCount + out.stats().dropped_records === N, 60_000,
      () => `stalled client: ${slow.parser.recordCount} received + ${out.stats().dropped_records} dropped = ${N}`);
    expect(fast.parser.recordCount).to.equal(N);
    checkSequence(fast, true);
    checkSequence(slow, false);
    const m = await registry.getSingleMetricAsString('flowgate_nemea_dropped_records_total');
    expect(m).to.include(`flowgate_nemea_dropped_records_total{output="n"} ${out.stats().dropped_records}`);
    expect(out.stats().dropped_containers).to.be.greaterThan(0);
    await out.close();
    await waitFor(() => fast.parser.eos && slow.parser.eos, 10_000, () => 'end of stream on both');
    expect(fast.error ?? slow.error).to.equal(undefined);
  });

  it('slow_client: wait — ready() holds back while one client is stalled; nobody loses a record', async () => {
    const { out } = makeOutput({ slow_client: 'wait' });
    await out.start();
    cleanup.push(() => out.close());
    const fast = await TrapTestClient.connect(tcp(out), { keepRecords: false });
    const slow = await TrapTestClient.connect(tcp(out), { keepRecords: false });
    cleanup.push(() => { fast.destroy(); slow.destroy(); });
    await waitFor(() => out.stats().clients === 2 && !!slow.parser.hello, 10_000, () => 'both clients greeted');
    slow.stall();
    let sawBlocked = false;
    for (let i = 0; i < N; i += BATCH) {
      out.write(records(i, BATCH));
      await waitFor(() => fast.parser.recordCount === i + BATCH, 30_000, () => `fast client at ${i + BATCH}`);
      if (out.blocked() && !sawBlocked) {
        sawBlocked = true;
        expect(out.counts().durable, 'records queued for the stalled client are not durable').to.be.lessThan(out.counts().written);
        slow.resume();
      }
      await out.ready();
    }
    expect(sawBlocked, 'the stalled client held the output back').to.equal(true);
    await waitFor(() => slow.parser.recordCount === N, 60_000, () => `stalled client has all ${N} (has ${slow.parser.recordCount})`);
    expect(out.stats().dropped_records).to.equal(0);
    checkSequence(fast, true);
    checkSequence(slow, true);
    await waitFor(() => out.counts().durable === N, 10_000, () => `durable ${out.counts().durable}`);
  });

  it('a client that resets mid-stream and reconnects renegotiates and continues; the process keeps serving', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-nemea-'));
    const { out } = makeOutput({ listen: 'unix:test', socket_dir: dir });
    await out.start();
    cleanup.push(() => out.close());
    const sock = { path: out.address().path ?? '' };
    expect(sock.path).to.equal(path.join(dir, 'trap-test.sock'));
    let c = await TrapTestClient.connect(sock);
    await waitFor(() => !!c.parser.hello, 10_000, () => 'hello');
    out.write(records(0, 1000));
    await waitFor(() => c.parser.recordCount === 1000, 10_000, () => 'first 1000');
    // Abrupt reset with data in flight: the server sees EPIPE/ECONNRESET and forgets the client.
    c.stall();
    out.write(records(1000, 20_000));
    c.destroy();
    await waitFor(() => out.stats().clients === 0, 10_000, () => 'client forgotten');
    out.write(records(21_000, 1000));
    // Sent (to nobody) before the client comes back, so it must not see these.
    await waitFor(() => out.counts().durable === 22_000, 10_000, () => `flushed with no client (durable ${out.counts().durable})`);
    c = await TrapTestClient.connect(sock);
    cleanup.push(() => c.destroy());
    await waitFor(() => !!c.parser.hello, 10_000, () => 'hello again');
    expect(c.parser.hello?.spec).to.equal(DEFAULT_UNIREC_FIELDS);
    out.write(records(22_000, 1000));
    await waitFor(() => c.parser.recordCount === 1000, 10_000, () => `records after reconnect (${c.parser.recordCount})`);
    expect(c.parser.records.map((r) => Number(r.BYTES))).to.deep.equal(Array.from({ length: 1000 }, (_, i) => 22_000 + i));
    // The sequence continues from the interface's count, not from 0.
    expect(c.parser.containers[0].sequence).to.equal(22_000);
    await out.close();
    await waitFor(() => c.parser.eos, 10_000, () => 'end of stream');
  });

  it('a TCP client reset (RST) with data in flight never crashes the process; the next client is served', async () => {
    const { out } = makeOutput({});
    await out.start();
    cleanup.push(() => out.close());
    for (let round = 0; round < 3; round++) {
      const c = await TrapTestClient.connect(tcp(out), { keepRecords: false });
      await waitFor(() => !!c.parser.hello, 10_000, () => 'hello');
      c.stall();
      out.write(records(round * 50_000, 50_000));
      c.socket.resetAndDestroy();
      await waitFor(() => out.stats().clients === 0, 10_000, () => 'client forgotten');
    }
    const ok = await TrapTestClient.connect(tcp(out));
    cleanup.push(() => ok.destroy());
    await waitFor(() => !!ok.parser.hello, 10_000, () => 'hello');
    out.write(records(0, 10));
    await waitFor(() => ok.parser.recordCount === 10, 10_000, () => 'served after resets');
    await waitFor(() => out.counts().durable === 150_010, 10_000, () => `durable ${out.counts().durable}`);
  });

  it('a writer that ignores ready() (embedded bus) cannot grow a stalled client\'s queue without end', async () => {
    const { out, logs } = makeOutput({ slow_client: 'wait' });
    await out.start();
    cleanup.push(() => out.close());
    const c = await TrapTestClient.connect(tcp(out), { keepRecords: false });
    cleanup.push(() => c.destroy());
    await waitFor(() => !!c.parser.hello, 10_000, () => 'hello');
    c.stall();
    // 64 MiB hard limit / 79 bytes a record ≈ 850k records; written without awaiting ready().
    for (let i = 0; i < 1_200_000 && out.stats().slow_disconnects === 0; i += 20_000) {
      out.write(records(i, 20_000));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => out.stats().slow_disconnects === 1 && out.stats().clients === 0, 30_000, () => 'stalled client cut off');
    expect(logs.some((l) => l.includes('hard limit'))).to.equal(true);
    await out.ready();
  });

  it('serves 64 clients; the 65th is refused, logged and counted', async () => {
    const { out, logs } = makeOutput({});
    await out.start();
    cleanup.push(() => out.close());
    const clients: TrapTestClient[] = [];
    cleanup.push(() => { for (const c of clients) c.destroy(); });
    for (let i = 0; i < 64; i++) clients.push(await TrapTestClient.connect(tcp(out)));
    await waitFor(() => clients.every((c) => !!c.parser.hello), 10_000, () => '64 hellos');
    const extra = await TrapTestClient.connect(tcp(out));
    clients.push(extra);
    await waitFor(() => extra.closed, 10_000, () => '65th closed');
    expect(extra.parser.hello).to.equal(undefined);
    expect(out.stats().refused_clients).to.equal(1);
    expect(logs.some((l) => l.includes('too many clients'))).to.equal(true);
    out.write(records(0, 10));
    await waitFor(() => clients.slice(0, 64).every((c) => c.parser.recordCount === 10), 10_000, () => 'all 64 served');
  });

  it('a changed field list drops clients, which reconnect to the new spec', async () => {
    const { out } = makeOutput({});
    await out.start();
    cleanup.push(() => out.close());
    const a = await TrapTestClient.connect(tcp(out));
    await waitFor(() => !!a.parser.hello, 10_000, () => 'hello');
    out.reconfigure('ipaddr SRC_IP,uint64 BYTES,string EXPORTER');
    await waitFor(() => a.closed, 10_000, () => 'client dropped');
    const b = await TrapTestClient.connect(tcp(out));
    cleanup.push(() => b.destroy());
    await waitFor(() => !!b.parser.hello, 10_000, () => 'new hello');
    expect(b.parser.hello?.spec).to.equal('ipaddr SRC_IP,uint64 BYTES,string EXPORTER');
    const r = records(5, 1);
    r[0].exporter_address = Uint8Array.from([192, 0, 2, 77]);
    out.write(r);
    await waitFor(() => b.parser.recordCount === 1, 10_000, () => 'record under the new template');
    expect(b.parser.records[0]).to.deep.equal({ SRC_IP: '10.0.0.5', BYTES: 5n, EXPORTER: '192.0.2.77' });
  });

  it('a record that cannot be encoded is counted and skipped; durability passes it', async () => {
    const { out } = makeOutput({});
    await out.start();
    cleanup.push(() => out.close());
    const c = await TrapTestClient.connect(tcp(out));
    cleanup.push(() => c.destroy());
    await waitFor(() => !!c.parser.hello, 10_000, () => 'hello');
    const rs = records(0, 3);
    rs[1].src_addr = Uint8Array.from([1, 2, 3]);
    out.write(rs);
    await waitFor(() => c.parser.recordCount === 2, 10_000, () => 'two good records');
    expect(out.stats().bad_records).to.equal(1);
    await waitFor(() => out.counts().durable === 3, 10_000, () => 'durable past the bad record');
  });

  it('with no client connected records are durable at once (a feed nobody reads never blocks Kafka)', async () => {
    const { out } = makeOutput({});
    await out.start();
    cleanup.push(() => out.close());
    out.write(records(0, 100));
    await waitFor(() => out.counts().durable === 100, 10_000, () => 'durable');
    await out.ready();
  });

  it('legacy framing: only the u32 length header', async () => {
    const { out } = makeOutput({ framing: 'legacy' });
    await out.start();
    cleanup.push(() => out.close());
    const c = await TrapTestClient.connect(tcp(out), { framing: 'legacy' });
    cleanup.push(() => c.destroy());
    await waitFor(() => !!c.parser.hello, 10_000, () => 'hello');
    out.write(records(0, 50));
    await waitFor(() => c.parser.recordCount === 50, 10_000, () => 'records');
    expect(c.parser.records.map((r) => Number(r.BYTES))).to.deep.equal(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('nemea TRAP file writer (rotation)', () => {
  it('rotates by time window (libtrap-style .YYYYmmddHHMM names) and by size (.N parts), each file with its own hello', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-nemea-file-'));
    let now = Date.UTC(2026, 10, 22, 12, 0, 30);
    const w = new TrapFileWriter({ path: path.join(dir, 'x.trapcap'), hello: hello('uint64 BYTES'), rotateSeconds: 60, rotateBytes: 60, clock: () => now });
    w.start();
    const rec = (n: number): Buffer => Buffer.concat([Buffer.from([0, 8]), Buffer.from(new BigUint64Array([BigInt(n)]).buffer)]);
    w.writeBlock(rec(1));
    w.writeBlock(rec(2)); // hello 20 + 2 blocks of 4 + 2 + 8 = 48 bytes
    w.writeBlock(rec(3)); // 62 would pass 60: next part
    now += 60_000;
    w.writeBlock(rec(4)); // next window, part numbering restarts
    w.close();
    expect(w.files.map((f) => path.basename(f))).to.deep.equal(['x.trapcap.202611221200.0', 'x.trapcap.202611221200.1', 'x.trapcap.202611221201.0']);
    const back = readTrapFiles(w.files);
    expect(back.spec).to.equal('uint64 BYTES');
    expect(back.records.map((r) => r.BYTES)).to.deep.equal([1n, 2n, 3n, 4n]);
  });
});
