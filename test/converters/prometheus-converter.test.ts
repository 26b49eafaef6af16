// Issue 8 acceptance 1, with real parts: fixtures replayed over UDP → gateway → Kafka (mock
// broker) → prometheus output (its own consumer group) → its /metrics, scraped over HTTP. The
// scraped flow_* totals per label set (hostname, AS pair, proto) and direction equal sums
// computed here, independently, from `flowgate decode` of the same captures: bytes and packets
// times the sampling rate, direction by the local prefixes. The fixtures carry no AS numbers
// (all 0), so records with AS pairs and sampling rates of our own are produced into the same
// topic next to them, and the sums include those too.

import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { FlowEncoder } from '../../src/canonical/flow-encoder';
import { newFlowRecord } from '../../src/canonical/flow-record';
import { parseConfig } from '../../src/config/config';
import { PrefixSet } from '../../src/outputs/prefix';
import { PrometheusOutput } from '../../src/outputs/prometheus/prometheus-output';
import { startGateway, type RunningGateway } from '../../src/runtime/assemble';
import { textToIp } from '../../src/util/ip';
import { kafkaSectionYaml, startKafkaMock, type KafkaMock } from '../support/kafka-broker';
import { FLOW_FIXTURES, LogSink, decodeWithCli, listenPort, metricSum, replayFixtures, scrapeMetrics, waitFor } from '../support/gateway-harness';
import { prng } from '../support/prng';

const LOCAL = ['10.0.0.0/8', '2001:db8:1::/48'];
const TOPIC = 'prom-flows';

/** `family{labels}` → value, for the flow_* families of an exposition. */
function flowSamples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(flow_[a-z_]+)(\{[^}]*\}) (\S+)$/.exec(line);
    if (m) out.set(`${m[1]}${m[2]}`, Number(m[3]));
  }
  return out;
}

interface Flow {
  exporter: string;
  src_as: number;
  dst_as: number;
  proto: number;
  src_addr: string;
  dst_addr: string;
  bytes: number;
  packets: number;
  sampling_rate: number;
}

const NAMES: Record<number, string> = { 0: 'unknown', 64512: 'Our Net', 65001: 'Peer "One"' };

/** The expected samples, computed from flows without any of the output's code. */
function expectedSamples(flows: readonly Flow[]): Map<string, number> {
  const local = PrefixSet.parse(LOCAL);
  const out = new Map<string, number>();
  const add = (family: string, f: Flow, v: number): void => {
    const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const labels = `{hostname="${f.exporter}",source_as="${f.src_as}",source_as_name="${esc(NAMES[f.src_as] ?? '')}",destination_as="${f.dst_as}",destination_as_name="${esc(NAMES[f.dst_as] ?? '')}",proto="${f.proto}"}`;
    out.set(`${family}${labels}`, (out.get(`${family}${labels}`) ?? 0) + v);
  };
  for (const f of flows) {
    const scale = f.sampling_rate || 1;
    const rx = local.has(textToIp(f.dst_addr));
    const tx = local.has(textToIp(f.src_addr));
    const dirs = [...(rx ? ['receive'] : []), ...(tx ? ['transmit'] : []), ...(!rx && !tx ? ['unclassified'] : [])];
    for (const d of dirs) {
      add(`flow_${d}_bytes_total`, f, f.bytes * scale);
      add(`flow_${d}_packets_total`, f, f.packets * scale);
    }
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

describe('prometheus converter (gateway → Kafka → flow counters on /metrics)', function () {
  this.timeout(240_000);
  let kafka: KafkaMock;
  const running: RunningGateway[] = [];

  before(async () => {
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 3 }, { name: 'prom-cap', partitions: 2 }] });
  });
  afterEach(async () => {
    while (running.length) await running.pop()?.stop();
  });
  after(async () => {
    await kafka?.stop();
  });

  it('scraped totals per label set and direction equal sums from flowgate decode (× sampling rate)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-prom-'));
    const asNames = path.join(dir, 'as-names.csv');
    writeFileSync(asNames, `asn,name\n${Object.entries(NAMES).map(([a, n]) => `${a},"${n.replace(/"/g, '""')}"`).join('\n')}\n`);
    const yaml = [
      'listeners: [{ listen: "127.0.0.1:0", protocol: auto }]',
      'summary_interval_seconds: 0',
      ...kafkaSectionYaml(kafka, TOPIC),
      'outputs:',
      `  - { type: prometheus, listen: "127.0.0.1:0", labels: [exporter, src_as, dst_as, proto], direction_by: { local_prefixes: ${JSON.stringify(LOCAL)} }, as_names: ${JSON.stringify(asNames)}, max_series: 10000 }`,
    ].join('\n');
    const decoded: Flow[] = [];
    for (const file of FLOW_FIXTURES) {
      for (const j of decodeWithCli(file)) {
        decoded.push({
          exporter: String(j.exporter_address), src_as: Number(j.src_as), dst_as: Number(j.dst_as), proto: Number(j.proto),
          src_addr: String(j.src_addr), dst_addr: String(j.dst_addr), bytes: Number(j.bytes), packets: Number(j.packets), sampling_rate: Number(j.sampling_rate),
        });
      }
    }
    const g = await startGateway(parseConfig(yaml), { destination: new LogSink() });
    running.push(g);
    const output = g.converters[0].output;
    expect(output).to.be.instanceOf(PrometheusOutput);
    const port = (output as PrometheusOutput).address?.port;
    expect(port).to.be.a('number');

    // A modest rate: a UDP datagram dropped by a busy machine would fail the comparison.
    await replayFixtures(FLOW_FIXTURES, listenPort(g), 1000);
    // Our own records with AS pairs and sampling rates, from a second "exporter".
    const rand = prng(42);
    const own: Flow[] = [];
    const encoder = new FlowEncoder();
    const messages = [];
    for (let i = 0; i < 2000; i++) {
      const outbound = rand() < 0.5;
      const f: Flow = {
        exporter: '192.0.2.9', src_as: outbound ? 64512 : [65001, 65002, 65003][i % 3], dst_as: outbound ? [65001, 65002, 65003][i % 3] : 64512,
        proto: [6, 17][i % 2], src_addr: outbound ? `10.2.${i % 250}.1` : `198.51.100.${i % 250}`, dst_addr: outbound ? `198.51.100.${i % 250}` : `10.2.${i % 250}.1`,
        bytes: 40 + Math.floor(rand() * 1460), packets: 1 + Math.floor(rand() * 10), sampling_rate: [0, 1, 100, 1000][i % 4],
      };
      own.push(f);
      const r = newFlowRecord();
      Object.assign(r, { src_as: f.src_as, dst_as: f.dst_as, proto: f.proto, bytes: f.bytes, packets: f.packets, sampling_rate: f.sampling_rate,
        src_addr: textToIp(f.src_addr), dst_addr: textToIp(f.dst_addr), exporter_address: textToIp(f.exporter), time_received_us: Date.now() * 1000 });
      messages.push({ value: encoder.encode(r), headers: { 'flowgate-framing': 'raw' } });
    }
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await producer.send({ topic: TOPIC, messages });
    } finally {
      await producer.disconnect();
    }

    const total = decoded.length + own.length;
    await waitFor(() => output.counts().written >= total && g.bus.stats().published >= g.gateway.stats.records, 60_000,
      () => `prometheus output to take ${total} records: ${JSON.stringify(output.counts())}`);
    expect(output.counts().written).to.equal(total);

    expect(decoded.length, 'the gateway decoded what flowgate decode does').to.equal(g.gateway.stats.records);
    const text = await scrapeMetrics(port as number);
    const got = flowSamples(text);
    const want = expectedSamples([...decoded, ...own]);
    expect([...got].sort()).to.deep.equal([...want].sort());
    // All three directions occur (the comparison is not vacuous).
    for (const fam of ['flow_receive_bytes_total', 'flow_transmit_bytes_total', 'flow_unclassified_bytes_total']) {
      expect([...got.keys()].some((k) => k.startsWith(fam)), fam).to.equal(true);
    }
    expect(text).to.match(/flowgate_prometheus_folded_series_total\{output="prometheus"\} 0/);
    process.stdout.write(`      (${got.size} samples, ${decoded.length} fixture + ${own.length} own records)\n`);
  });

  it('through Kafka, 100,000 distinct AS pairs stay within max_series; the folded count is exposed and no byte is lost', async () => {
    const MAX = 1000;
    const yaml = [
      'summary_interval_seconds: 0',
      ...kafkaSectionYaml(kafka, 'prom-cap'),
      'outputs:',
      `  - { type: prometheus, name: cap, listen: "127.0.0.1:0", labels: [src_as, dst_as], direction_by: { local_as: 64512 }, max_series: ${MAX} }`,
    ].join('\n');
    const g = await startGateway(parseConfig(yaml), { destination: new LogSink() });
    running.push(g);
    const output = g.converters[0].output as PrometheusOutput;
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const encoder = new FlowEncoder();
    const PAIRS = 100_000;
    let rx = 0;
    let maxSeen = 0;
    try {
      for (let start = 0; start < PAIRS; start += 5000) {
        const messages = [];
        for (let i = start; i < start + 5000; i++) {
          const r = newFlowRecord();
          r.src_as = 100_000 + i;
          r.dst_as = 64512;
          r.bytes = 1 + (i % 1500);
          r.packets = 1;
          rx += r.bytes;
          messages.push({ value: encoder.encode(r), headers: { 'flowgate-framing': 'raw' } });
        }
        await producer.send({ topic: 'prom-cap', messages });
        // Sample the series count while the flood goes on, not only at the end.
        maxSeen = Math.max(maxSeen, metricSum(await scrapeMetrics(output.address?.port ?? 0), 'flowgate_prometheus_series', { output: 'cap' }));
      }
    } finally {
      await producer.disconnect();
    }
    await waitFor(() => output.counts().written >= PAIRS, 60_000, () => `the output to take ${PAIRS} records: ${JSON.stringify(output.counts())}`);
    const text = await scrapeMetrics(output.address?.port ?? 0);
    const series = text.split('\n').filter((l) => l.startsWith('flow_receive_bytes_total{'));
    expect(series.length, 'label sets exposed').to.be.at.most(MAX);
    expect(Math.max(maxSeen, series.length)).to.be.at.most(MAX);
    const folded = metricSum(text, 'flowgate_prometheus_folded_series_total', { output: 'cap' });
    expect(folded + series.length - 1, 'every pair is exposed or folded ("other" is one extra)').to.equal(PAIRS);
    expect(metricSum(text, 'flow_receive_bytes_total'), 'folding moves counts into other, it loses none').to.equal(rx);
    // The process registry carries the folded count too (the gateway's /metrics).
    expect(metricSum(await g.metrics.registry.metrics(), 'flowgate_prometheus_folded_series_total', { output: 'cap' })).to.equal(folded);
    process.stdout.write(`      (${PAIRS} pairs: ${series.length} label sets exposed, ${folded} folded)\n`);
  });
});
