// Issue 3 acceptance with real parts: fixture captures replayed over UDP to a running gateway,
// records produced to a Kafka-protocol broker (librdkafka's mock cluster), read back with kcat
// (a real librdkafka consumer) and decoded by protoc against codecs/flow.proto, compared with
// what `flowgate decode` says the captures hold. Also: the symmetric five-tuple key, /metrics,
// a Kafka outage within and beyond the buffer, and template state in the compacted topic.

import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { parseConfig } from '../../src/config/config';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { loadReplayDatagrams, replay } from '../../src/replay/replayer';
import { makeExporter } from '../../src/util/ip';
import { startGateway, type RunningGateway } from '../../src/runtime/assemble';
import { splitDelimited } from '../support/delimited';
import { startKafkaMock, type KafkaMock } from '../support/kafka-broker';
import { readTopic, type KafkaRecord } from '../support/kcat';
import { COMPARABLE_FIELDS, decodeWithProtoc, protocFlowToComparable } from '../support/protoc';
import {
  CLI, FIXTURES, FLOW_FIXTURES, LogSink, hasTemplateSet, metricSum, scrapeMetrics, decodeWithCli, listenPort, liveComparable, replayFixtures, waitFor,
} from '../support/gateway-harness';

function kafkaConfig(kafka: KafkaMock, extra: string): string {
  return [
    'listeners: [{ listen: "127.0.0.1:0", protocol: auto }]',
    'summary_interval_seconds: 0',
    'metrics: { listen: "127.0.0.1:0" }',
    'kafka:',
    `  brokers: [${kafka.brokers.map((b) => JSON.stringify(b)).join(', ')}]`,
    '  create_topics: false',
    ...(extra.includes('state_topic') ? [] : ['  state_topic: ""']),
    ...extra.split('\n').filter(Boolean).map((l) => `  ${l}`),
  ].join('\n');
}

async function flowsOnTopic(records: KafkaRecord[], framing: 'raw' | 'delimited'): Promise<string[]> {
  const values: Buffer[] = [];
  for (const r of records) {
    expect(r.headers['flowgate-framing']).to.equal(framing);
    expect(r.headers['flowgate-schema']).to.equal('flowpb.FlowMessage');
    if (!r.value) throw new Error('tombstone on the flow topic');
    if (framing === 'raw') values.push(r.value);
    else values.push(...splitDelimited(r.value));
  }
  const flows = await decodeWithProtoc(values);
  return flows.map((f) => liveComparable(protocFlowToComparable(f) as unknown as Record<string, unknown>, COMPARABLE_FIELDS));
}

describe('gateway → Kafka (mock broker, kcat, protoc)', function () {
  this.timeout(240_000);
  let kafka: KafkaMock;
  const running: RunningGateway[] = [];
  const expected = new Map<string, string[]>();

  before(async () => {
    kafka = await startKafkaMock({
      topics: [
        { name: 'flows-raw', partitions: 3 }, { name: 'flows-delimited', partitions: 3 },
        { name: 'flows-5tuple', partitions: 3 }, { name: 'flows-sflow', partitions: 1 }, { name: 'flows-outage', partitions: 1 },
        { name: 'flows-overflow', partitions: 1 }, { name: 'flows-restart', partitions: 1 },
        { name: 'gw-state', partitions: 1 }, { name: 'flow-counters', partitions: 1 },
      ],
    });
    for (const f of FLOW_FIXTURES) expected.set(f, decodeWithCli(f).map((j) => liveComparable(j, COMPARABLE_FIELDS)));
  });

  afterEach(async () => {
    while (running.length) await running.pop()?.stop();
  });

  after(async () => {
    await kafka?.stop();
  });

  async function start(yaml: string, sink = new LogSink()): Promise<RunningGateway> {
    const g = await startGateway(parseConfig(yaml), { destination: sink });
    running.push(g);
    return g;
  }

  async function stop(g: RunningGateway): Promise<void> {
    running.splice(running.indexOf(g), 1);
    await g.stop();
  }

  for (const framing of ['raw', 'delimited'] as const) {
    it(`framing ${framing}: every fixture's records arrive exactly as flowgate decode gives them`, async () => {
      const topic = `flows-${framing}`;
      const g = await start(kafkaConfig(kafka, `topic: ${topic}\nframing: ${framing}\ncompression: gzip`));
      const want = FLOW_FIXTURES.flatMap((f) => expected.get(f) ?? []);
      await replayFixtures(FLOW_FIXTURES, listenPort(g));
      await waitFor(() => g.bus.stats().published >= want.length, 60_000, () => `${want.length} records published, have ${JSON.stringify(g.bus.stats())}`);
      await stop(g);
      const records = await readTopic(kafka.bootstrap, topic, { minRecords: framing === 'raw' ? want.length : 1 });
      const got = await flowsOnTopic(records, framing);
      expect(got.length).to.equal(want.length);
      expect([...got].sort()).to.deep.equal([...want].sort());
      expect(new Set(records.map((r) => r.partition)).size).to.be.greaterThan(1); // key none spreads
    });
  }

  it('sFlow counter samples go to their own topic, one message each, as many as decode finds', async () => {
    const shared = path.resolve(FIXTURES, '../../shared/captures');
    const files = ['tcpdump_sflow_expanded.pcap', 'tcpdump_sflow-print-v6.pcap'].map((f) => path.join(shared, f));
    const g = await start(kafkaConfig(kafka, 'topic: flows-sflow\ncounters_topic: flow-counters'));
    let counters = 0;
    for (const f of files) {
      counters += execFileSync(process.execPath, [CLI, 'decode', f, '--counters', 'stdout', '--summary', 'none'], { encoding: 'utf8' })
        .split('\n').filter((l) => l.startsWith('{"counters"')).length;
      const cap = loadReplayDatagrams(f);
      await replay(cap.datagrams, { to: { host: '127.0.0.1', port: listenPort(g) }, ratePerSec: 2000 });
    }
    expect(counters).to.be.greaterThan(0);
    await waitFor(() => g.gateway.stats.counters >= counters, 20_000, () => `${counters} counter samples decoded`);
    await stop(g);
    const onTopic = await readTopic(kafka.bootstrap, 'flow-counters', { minRecords: counters });
    expect(onTopic.length).to.equal(counters);
    expect(onTopic.every((r) => r.headers['flowgate-schema'] === 'flowgate.InterfaceCounters')).to.equal(true);
  });

  it('key five-tuple: both directions of every conversation get the same key', async () => {
    const g = await start(kafkaConfig(kafka, 'topic: flows-5tuple\nkey: five-tuple'));
    const files = ['softflowd-v9.pcap', 'softflowd-ipfix-ipv6.pcap'];
    const n = files.reduce((s, f) => s + (expected.get(f)?.length ?? 0), 0);
    await replayFixtures(files, listenPort(g));
    await waitFor(() => g.bus.stats().published >= n, 60_000, () => `${n} records published`);
    await stop(g);
    const records = await readTopic(kafka.bootstrap, 'flows-5tuple', { minRecords: n });
    const flows = (await decodeWithProtoc(records.map((r) => r.value as Buffer))).map(protocFlowToComparable);
    const byConversation = new Map<string, Set<string>>();
    const partitionsByKey = new Map<string, Set<number>>();
    let bidirectional = 0;
    flows.forEach((f, i) => {
      const ends = [`${f.src_addr}/${f.src_port}`, `${f.dst_addr}/${f.dst_port}`].sort();
      const conv = `${f.proto} ${ends.join(' ')}`;
      const key = (records[i].key as Buffer).toString('hex');
      const dir = `${f.src_addr}/${f.src_port}` === ends[0] ? 'a' : 'b';
      const s = byConversation.get(conv) ?? new Set<string>();
      s.add(key);
      byConversation.set(conv, s);
      const seen = partitionsByKey.get(key) ?? new Set<number>();
      seen.add(records[i].partition);
      partitionsByKey.set(key, seen);
      byConversation.set(`${conv} dir`, new Set([...(byConversation.get(`${conv} dir`) ?? []), dir]));
    });
    for (const [conv, keys] of byConversation) {
      if (conv.endsWith(' dir')) {
        if (keys.size === 2) bidirectional++;
        continue;
      }
      expect(keys.size, `conversation ${conv} has keys ${[...keys].join(',')}`).to.equal(1);
    }
    expect(bidirectional, 'the fixtures hold conversations seen in both directions').to.be.greaterThan(20);
    for (const [key, parts] of partitionsByKey) expect(parts.size, `key ${key} in one partition`).to.equal(1);
    const distinctKeys = new Set(records.map((r) => (r.key as Buffer).toString('hex'))).size;
    expect(distinctKeys).to.equal([...byConversation.keys()].filter((k) => !k.endsWith(' dir')).length);
  });

  it('/metrics counts what was sent: datagrams, records, decode errors by reason, sequence gaps', async () => {
    const g = await start(kafkaConfig(kafka, 'topic: flows-raw'));
    const port = listenPort(g);
    const cap = loadReplayDatagrams(path.join(FIXTURES, 'softflowd-v9.pcap'));
    // Leave out one data-only datagram in the middle: NetFlow v9 counts export packets, so the
    // ledger must show a gap of exactly 1 and the records of the missing datagram are not there.
    const idx = Math.floor(cap.datagrams.length / 2);
    const sock = dgram.createSocket('udp4');
    try {
      const garbage = [Buffer.from('not a flow datagram'), Buffer.alloc(2), Buffer.from([0, 9, 0, 1, 2, 3, 4, 5])];
      for (const [i, d] of cap.datagrams.entries()) {
        if (i === idx) continue;
        await new Promise<void>((res, rej) => sock.send(d.payload, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
        if (i % 16 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      for (const b of garbage) await new Promise<void>((res, rej) => sock.send(b, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      const sent = cap.datagrams.length - 1 + garbage.length;
      await waitFor(() => g.gateway.stats.datagrams >= sent, 20_000, () => `${sent} datagrams received`);
      const records = g.gateway.stats.records;
      await waitFor(() => g.bus.stats().published >= records, 20_000, () => 'records published');
      const text = await scrapeMetrics(g.metricsAddress?.port ?? 0);
      expect(metricSum(text, 'flowgate_datagrams_received_total')).to.equal(sent);
      // The 8-byte garbage starts with 0x0009, so it counts as a (too short) NetFlow v9 datagram.
      expect(metricSum(text, 'flowgate_datagrams_received_total', { protocol: 'netflow9' })).to.equal(cap.datagrams.length);
      expect(metricSum(text, 'flowgate_records_decoded_total', { protocol: 'netflow9', exporter: '127.0.0.1' })).to.equal(records);
      expect(metricSum(text, 'flowgate_records_published_total')).to.equal(records);
      expect(metricSum(text, 'flowgate_decode_errors_total', { reason: 'unknown_protocol' })).to.equal(1);
      expect(metricSum(text, 'flowgate_decode_errors_total', { reason: 'short_datagram' })).to.equal(2);
      expect(metricSum(text, 'flowgate_sequence_gaps_total', { protocol: 'netflow9' })).to.equal(1);
      expect(metricSum(text, 'flowgate_kafka_batches_total')).to.be.greaterThan(0);
      expect(metricSum(text, 'flowgate_kafka_produce_latency_seconds_count')).to.be.greaterThan(0);
      expect(text).to.match(/^flowgate_templates_active \d+/m);
      expect(metricSum(text, 'flowgate_socket_receive_buffer_bytes'), 'the effective socket buffer is exposed').to.be.greaterThan(0);
      const allRecords = expected.get('softflowd-v9.pcap')?.length ?? 0;
      expect(records).to.be.lessThan(allRecords);
    } finally {
      sock.close();
    }
  });

  it('Kafka outage within the buffer: every record arrives after the broker returns; the process stays up', async () => {
    const sink = new LogSink();
    const g = await start(kafkaConfig(kafka, 'topic: flows-outage\nlinger_ms: 5'), sink);
    const want = expected.get('softflowd-ipfix.pcap') ?? [];
    await kafka.down();
    try {
      await replayFixtures(['softflowd-ipfix.pcap'], listenPort(g));
      await waitFor(() => g.gateway.stats.records >= want.length, 20_000, () => 'records decoded during the outage');
      await new Promise((r) => setTimeout(r, 1500)); // sends fail and back off meanwhile
      expect(g.bus.stats().published).to.be.lessThan(want.length);
    } finally {
      await kafka.up();
    }
    await waitFor(() => g.bus.stats().published >= want.length, 60_000, () => `delivery after the outage: ${JSON.stringify(g.bus.stats())}`);
    expect(g.bus.stats().dropped).to.deep.equal({});
    expect(sink.messages().some((m) => String(m.msg).includes('unreachable'))).to.equal(true);
    expect(sink.messages().some((m) => String(m.msg).includes('reachable again'))).to.equal(true);
    await stop(g);
    const got = await flowsOnTopic(await readTopic(kafka.bootstrap, 'flows-outage', { minRecords: want.length }), 'raw');
    expect([...new Set(got)].sort()).to.deep.equal([...new Set(want)].sort());
  });

  it('Kafka outage beyond the buffer: the drop counter equals exactly what is missing', async () => {
    const limit = 150;
    const g = await start(kafkaConfig(kafka, `topic: flows-overflow\nbuffer_max_records: ${limit}\nbatch_max_records: 50\nlinger_ms: 5`));
    const want = expected.get('softflowd-v9.pcap') ?? [];
    await kafka.down();
    try {
      await replayFixtures(['softflowd-v9.pcap'], listenPort(g));
      await waitFor(() => g.gateway.stats.records >= want.length, 20_000, () => 'records decoded during the outage');
    } finally {
      await kafka.up();
    }
    await waitFor(() => g.bus.stats().buffered === 0, 60_000, () => `buffer drained: ${JSON.stringify(g.bus.stats())}`);
    const s = g.bus.stats();
    const text = await scrapeMetrics(g.metricsAddress?.port ?? 0);
    await stop(g);
    const got = await readTopic(kafka.bootstrap, 'flows-overflow', { minRecords: s.published });
    expect(s.dropped.buffer_full).to.be.greaterThan(0);
    expect(got.length).to.equal(s.published);
    // Every record decoded is either on the topic or counted as dropped (at-least-once:
    // a retried batch may add duplicates, which would only make `got` larger).
    expect(got.length + (s.dropped.buffer_full ?? 0)).to.equal(want.length);
    expect(metricSum(text, 'flowgate_kafka_dropped_records_total', { reason: 'buffer_full' })).to.equal(s.dropped.buffer_full);
    expect(got.length, 'the buffer fills to its limit, not short of it').to.equal(limit);
  });

  it('restart with Kafka: templates from the compacted state topic decode data-only datagrams at once', async () => {
    const yaml = kafkaConfig(kafka, 'topic: flows-restart\nstate_topic: gw-state');
    const cap = loadReplayDatagrams(path.join(FIXTURES, 'pmacct-ipfix-sampled.pcap'));
    const offline = new DatagramDecoder();
    const ex = makeExporter(Uint8Array.from([127, 0, 0, 1]), 1);
    // Both runs publish to the topic: the first the records of the template-bearing
    // datagrams, the second those of the data-only ones. Together: the whole capture.
    const wantAll = cap.datagrams.flatMap((d) =>
      offline.decode(d.payload, ex, d.timestampUs).flows.map((f) => `${f.bytes}/${f.packets}/${f.sampling_rate}/${f.src_port}/${f.dst_port}`));
    const withTemplates = cap.datagrams.filter((d) => hasTemplateSet(d.payload));
    const dataOnly = cap.datagrams.filter((d) => !hasTemplateSet(d.payload));
    expect(withTemplates.length).to.be.greaterThan(0);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const send = async (port: number, ds: typeof dataOnly): Promise<void> => {
      for (const d of ds) await new Promise<void>((res, rej) => sock.send(d.payload, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    };
    try {
      const first = await start(yaml);
      const port = listenPort(first);
      await send(port, withTemplates);
      await waitFor(() => first.gateway.decoder.state.templates.size > 0 && first.gateway.stats.datagrams >= withTemplates.length, 10_000, () => 'templates learned');
      const learned = first.gateway.decoder.state.templates.size;
      await stop(first); // saves state to the topic and flushes
      const stateRecords = await readTopic(kafka.bootstrap, 'gw-state', { minRecords: 1 });
      expect(stateRecords[0].headers['flowgate-schema']).to.equal('flowgate-state/1');

      const second = await start(yaml.replace('127.0.0.1:0"', `127.0.0.1:${port}"`));
      expect(second.gateway.decoder.state.templates.size).to.equal(learned);
      await send(port, dataOnly);
      await waitFor(() => second.gateway.stats.datagrams >= dataOnly.length, 10_000, () => 'data-only datagrams received');
      expect(second.gateway.stats.errors).to.deep.equal({});
      const firstRun = first.bus.stats().published;
      await waitFor(() => firstRun + second.bus.stats().published >= wantAll.length, 20_000, () => 'records published');
      await stop(second);
      const flows = (await decodeWithProtoc((await readTopic(kafka.bootstrap, 'flows-restart', { minRecords: wantAll.length })).map((r) => r.value as Buffer)))
        .map(protocFlowToComparable)
        .map((f) => `${f.bytes}/${f.packets}/${f.sampling_rate}/${f.src_port}/${f.dst_port}`);
      expect(second.bus.stats().published).to.be.greaterThan(0);
      expect(flows.sort()).to.deep.equal(wantAll.sort());
    } finally {
      sock.close();
    }
  });
});
