// Issue 6 acceptance, with real parts: fixtures replayed over UDP → gateway → Kafka (the mock
// broker speaking the Kafka protocol) → nemea outputs (TCP, UNIX socket, TRAP file; each its own
// consumer group) → the independent TRAP client of test/support/trap-client.ts, which shares no
// code with src/. What the clients decode must be exactly `flowgate decode` of the captures.

import { expect } from 'chai';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { FlowEncoder, v32 } from '../../src/canonical/flow-encoder';
import { newFlowRecord } from '../../src/canonical/flow-record';
import { parseConfig } from '../../src/config/config';
import { startGateway, type RunningGateway } from '../../src/runtime/assemble';
import { NemeaOutput } from '../../src/outputs/nemea/nemea-output';
import { kafkaSectionYaml, startKafkaMock, type KafkaMock } from '../support/kafka-broker';
import { LogSink, decodeWithCli, listenPort, replayFixtures, sleep, waitFor } from '../support/gateway-harness';
import { readTrapFiles, TrapTestClient, type DecodedRecord } from '../support/trap-client';

const DEFAULT_SPEC = 'ipaddr DST_IP,ipaddr SRC_IP,uint64 BYTES,uint64 LINK_BIT_FIELD,time TIME_FIRST,time TIME_LAST,uint32 PACKETS,uint16 DST_PORT,uint16 SRC_PORT,uint8 DIR_BIT_FIELD,uint8 PROTOCOL,uint8 TCP_FLAGS,uint8 TOS,uint8 TTL';
// sFlow records have no flow times (they are the receive time), so they cannot match offline.
const FILES = ['softflowd-v5.pcap', 'softflowd-v9.pcap', 'softflowd-v9-ipv6.pcap', 'softflowd-ipfix-ipv6.pcap', 'pmacct-v9-sampled.pcap', 'pmacct-ipfix-sampled.pcap'];

/** Full, zero-padded IPv6 text (the test client's form) from any valid IPv6 text. */
function expandV6(a: string): string {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

const addr = (a: unknown): string => (String(a).includes(':') ? expandV6(String(a)) : String(a));
const micros = (ns: unknown): string => (BigInt(String(ns)) / 1000n).toString();

/** The record as DESIGN.md §5 says a NEMEA module must see it, from `flowgate decode` JSON. */
function expectedKey(j: Record<string, unknown>): string {
  const odid = Number(j.observation_domain_id ?? 0);
  return [
    `SRC_IP=${addr(j.src_addr)}`, `DST_IP=${addr(j.dst_addr)}`, `SRC_PORT=${String(j.src_port)}`, `DST_PORT=${String(j.dst_port)}`,
    `PROTOCOL=${String(j.proto)}`, `BYTES=${String(j.bytes)}`, `PACKETS=${String(j.packets)}`,
    `TIME_FIRST=${micros(j.time_flow_start_ns)}`, `TIME_LAST=${micros(j.time_flow_end_ns)}`,
    `TCP_FLAGS=${String(j.tcp_flags)}`, `TOS=${String(j.ip_tos)}`, `TTL=${String(j.ip_ttl)}`,
    `LINK_BIT_FIELD=${(1n << BigInt(odid & 63)).toString()}`, `DIR_BIT_FIELD=${Number(j.in_if) & 1}`,
  ].join(' ');
}

function gotKey(r: DecodedRecord): string {
  return ['SRC_IP', 'DST_IP', 'SRC_PORT', 'DST_PORT', 'PROTOCOL', 'BYTES', 'PACKETS', 'TIME_FIRST', 'TIME_LAST', 'TCP_FLAGS', 'TOS', 'TTL', 'LINK_BIT_FIELD', 'DIR_BIT_FIELD']
    .map((f) => `${f}=${String(r[f])}`).join(' ');
}

function nemea(g: RunningGateway, i: number): NemeaOutput {
  const o = g.converters[i].output;
  if (!(o instanceof NemeaOutput)) throw new Error(`converter ${i} is not a nemea output`);
  return o;
}

describe('nemea converter (gateway → Kafka → TRAP output interface → independent client)', function () {
  this.timeout(240_000);
  let kafka: KafkaMock;
  const running: RunningGateway[] = [];
  const clients: TrapTestClient[] = [];

  before(async () => {
    kafka = await startKafkaMock({ topics: [{ name: 'nemea-flows', partitions: 3 }, { name: 'nemea-reconnect', partitions: 2 }, { name: 'nemea-wait', partitions: 2 }] });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    while (running.length) await running.pop()?.stop();
  });
  after(async () => {
    await kafka?.stop();
  });

  it('TCP and UNIX clients get hello + spec and exactly the decode output of the captures; the rotated file equals the TCP stream', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-nemea-e2e-'));
    const yaml = [
      'listeners: [{ listen: "127.0.0.1:0", protocol: auto }]',
      'summary_interval_seconds: 0',
      ...kafkaSectionYaml(kafka, 'nemea-flows'),
      'outputs:',
      '  - { type: nemea, name: tcp, listen: "tcp:127.0.0.1:0", flush_ms: 50 }',
      `  - { type: nemea, name: unix, listen: "unix:e2e", socket_dir: ${JSON.stringify(dir)}, flush_ms: 50 }`,
      `  - { type: nemea, name: file, listen: ${JSON.stringify(`file:${path.join(dir, 'flows.trapcap')}`)}, flush_ms: 50, rotate: { bytes: 16384 } }`,
    ].join('\n');
    const g = await startGateway(parseConfig(yaml), { destination: new LogSink() });
    running.push(g);
    const tcp = await TrapTestClient.connect({ host: '127.0.0.1', port: nemea(g, 0).address().port ?? -1 });
    const unix = await TrapTestClient.connect({ path: path.join(dir, 'trap-e2e.sock') });
    clients.push(tcp, unix);
    await waitFor(() => !!tcp.parser.hello && !!unix.parser.hello, 10_000, () => 'hellos');
    for (const c of [tcp, unix]) {
      expect(c.parser.hello?.dataType, 'data type UniRec').to.equal(2);
      expect(c.parser.hello?.spec).to.equal(DEFAULT_SPEC);
    }

    const want: string[] = [];
    for (const f of FILES) want.push(...decodeWithCli(f).map(expectedKey));
    await replayFixtures(FILES, listenPort(g), 2000);
    await waitFor(() => tcp.parser.recordCount >= want.length && unix.parser.recordCount >= want.length, 60_000,
      () => `clients to receive ${want.length} records (tcp ${tcp.parser.recordCount}, unix ${unix.parser.recordCount})`);
    await waitFor(() => nemea(g, 2).counts().written >= want.length, 60_000, () => 'file output to take every record');
    await running.pop()?.stop();
    await waitFor(() => tcp.parser.eos && unix.parser.eos, 10_000, () => 'end-of-stream record on both clients');

    for (const c of [tcp, unix]) {
      expect(c.error).to.equal(undefined);
      let next = 0;
      for (const k of c.parser.containers) {
        expect(k.sequence, 'per-interface sequence: records sent before the container').to.equal(next);
        next += k.count;
      }
      expect(c.parser.records.map(gotKey).sort()).to.deep.equal([...want].sort());
    }

    const files = readdirSync(dir).filter((f) => f.startsWith('flows.trapcap')).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
    expect(files.length, `size rotation: ${files.join(' ')}`).to.be.greaterThan(1);
    const back = readTrapFiles(files.map((f) => path.join(dir, f)));
    expect(back.spec).to.equal(DEFAULT_SPEC);
    expect(back.eos, 'file ends with the end-of-stream record').to.equal(true);
    expect(back.records.map(gotKey).sort()).to.deep.equal(tcp.parser.records.map(gotKey).sort());
  });

  it('a client that disconnects mid-stream reconnects, renegotiates and continues; the gateway keeps running', async () => {
    const yaml = [
      'listeners: [{ listen: "127.0.0.1:0", protocol: auto }]',
      'summary_interval_seconds: 0',
      ...kafkaSectionYaml(kafka, 'nemea-reconnect'),
      'outputs:',
      '  - { type: nemea, name: rc, listen: "tcp:127.0.0.1:0", flush_ms: 20 }',
    ].join('\n');
    const g = await startGateway(parseConfig(yaml), { destination: new LogSink() });
    running.push(g);
    const to = { host: '127.0.0.1', port: nemea(g, 0).address().port ?? -1 };
    const steady = await TrapTestClient.connect(to);
    let flaky = await TrapTestClient.connect(to);
    clients.push(steady, flaky);
    await waitFor(() => !!steady.parser.hello && !!flaky.parser.hello, 10_000, () => 'hellos');
    const want = FILES.reduce((n, f) => n + decodeWithCli(f).length, 0);
    // Slow replay so the stream is still running while the client goes away and comes back.
    const replaying = replayFixtures(FILES, listenPort(g), 100);
    await waitFor(() => flaky.parser.recordCount > 0, 60_000, () => 'first records');
    const before = flaky.parser.containers[flaky.parser.containers.length - 1];
    flaky.destroy();
    await waitFor(() => nemea(g, 0).stats().clients === 1, 10_000, () => 'server forgot the client');
    flaky = await TrapTestClient.connect(to);
    clients.push(flaky);
    await waitFor(() => !!flaky.parser.hello, 10_000, () => 'hello after reconnect');
    expect(flaky.parser.hello?.spec).to.equal(DEFAULT_SPEC);
    await replaying;
    await waitFor(() => steady.parser.recordCount >= want, 60_000, () => `steady client to receive ${want} (${steady.parser.recordCount})`);
    expect(flaky.parser.recordCount, 'records after reconnecting').to.be.greaterThan(0);
    expect(flaky.parser.containers[0].sequence).to.be.at.least(before.sequence + before.count);
    // What the reconnected client got is exactly the steady client's stream from its first sequence number on.
    const from = flaky.parser.containers[0].sequence;
    await waitFor(() => from + flaky.parser.recordCount === want, 10_000, () => `reconnected client to reach the end (${from} + ${flaky.parser.recordCount})`);
    expect(flaky.parser.records.map(gotKey)).to.deep.equal(steady.parser.records.slice(from).map(gotKey));
    expect(steady.parser.recordCount).to.equal(want);
    expect(running.length, 'the gateway is still running').to.equal(1);
  });

  it('slow_client: wait — a stalled client holds the Kafka consumer back (nothing committed past what it took); after it resumes nobody lost a record', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-nemea-wait-'));
    const yaml = [
      'summary_interval_seconds: 0',
      ...kafkaSectionYaml(kafka, 'nemea-wait'),
      'outputs:',
      // A UNIX socket: its small kernel buffers make the stall reach the output's queue soon.
      `  - { type: nemea, name: w, listen: "unix:wait", socket_dir: ${JSON.stringify(dir)}, flush_ms: 20, slow_client: wait, queue_bytes: 65536 }`,
    ].join('\n');
    const sink = new LogSink();
    const g = await startGateway(parseConfig(yaml), { destination: sink });
    running.push(g);
    const out = nemea(g, 0);
    const to = { path: path.join(dir, 'trap-wait.sock') };
    const fast = await TrapTestClient.connect(to, { keepRecords: false });
    const slow = await TrapTestClient.connect(to, { keepRecords: false });
    clients.push(fast, slow);
    await waitFor(() => out.stats().clients === 2 && !!slow.parser.hello, 10_000, () => 'hellos');
    slow.stall();

    // 150 messages of 1,000 delimited records: ~12 MB of UniRec, far more than UNIX socket buffers
    // hold, and ~3 MB of Kafka data a partition (the mock broker keeps only ~5 MB a partition).
    const TOTAL = 150_000;
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      const enc = new FlowEncoder();
      for (let m = 0; m < TOTAL / 1000; m += 50) {
        const messages = [];
        for (let k = m; k < m + 50; k++) {
          const parts: Buffer[] = [];
          for (let i = k * 1000; i < (k + 1) * 1000; i++) {
            const r = newFlowRecord();
            r.bytes = i;
            r.src_addr = Uint8Array.from([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]);
            r.time_flow_start_us = 1_700_000_000_000_000 + i;
            const body = Buffer.from(enc.encode(r));
            const len = Buffer.alloc(5);
            parts.push(len.subarray(0, v32(len, 0, body.length)), body);
          }
          messages.push({ value: Buffer.concat(parts), headers: { 'flowgate-framing': 'delimited' } });
        }
        await producer.send({ topic: 'nemea-wait', messages });
      }
    } finally {
      await producer.disconnect();
    }
    await waitFor(() => out.blocked(), 60_000, () => `the stalled client to hold the output back (written ${out.counts().written})`);
    const held = out.counts();
    expect(held.written, 'backpressure: the converter stopped reading Kafka').to.be.lessThan(TOTAL);
    expect(held.durable, 'records not yet taken by the stalled client are not durable').to.be.lessThan(held.written);
    expect(g.converters[0].counts.records).to.be.lessThan(TOTAL);
    // Held back for longer than the group's session timeout (6 s): the consumer must keep its
    // membership (it heartbeats while waiting) or it would never be given batches again.
    await sleep(8_000);
    expect(out.blocked()).to.equal(true);
    slow.resume();
    await waitFor(() => fast.parser.recordCount === TOTAL && slow.parser.recordCount === TOTAL, 60_000,
      () => `both clients to receive ${TOTAL} (fast ${fast.parser.recordCount}, slow ${slow.parser.recordCount}); converter ${JSON.stringify(g.converters[0].counts)} blocked=${out.blocked()} ${JSON.stringify(out.stats())} ${JSON.stringify(out.counts())}; log:\n${sink.lines.slice(-15).join('')}`);
    expect(out.stats().dropped_records).to.equal(0);
    await waitFor(() => out.counts().durable === TOTAL, 10_000, () => `all durable (${out.counts().durable})`);
  });
});
