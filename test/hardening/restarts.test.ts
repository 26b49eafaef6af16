// Issue 7, acceptance line 4: the Kafka broker killed and restarted under load, the gateway
// SIGTERM'd and restarted under load. In each case the records lost equal what the counters
// report, and a restart within the buffer limits loses none.
//
// Real parts only: the gateway and the sender are CLI processes (`flowgate run`, `flowgate
// replay --loop`, whose sequence numbers stay continuous over the passes), the broker is
// librdkafka's mock cluster in its own process (test/support/kafka-broker.ts), the topic is
// read back with kcat, all over 127.0.0.1.
//
// Why NetFlow v5 for the ledger: its sequence number counts flow records, so a sequence gap
// IS a number of records, and softflowd-v5.pcap has no gap of its own (436 records in 31
// datagrams per pass). IPFIX counts data records including options records, which never
// become flow records, and v9 counts export packets of varying size, so neither gives an
// exact record count for a gap; pmacct-ipfix-sampled runs alongside in the gateway restart to
// show that its templates come back with the state (nothing waits for a template).
//
// What "lost" means here: records the exporter emitted (passes × records per pass) that are
// not on the topic. The counters that must explain them: flowgate_sequence_gaps_total (units
// the exporter numbered but the gateway never received: in flight while no gateway listened,
// or dropped by the kernel) + flowgate_kafka_dropped_records_total{reason} (decoded but not
// delivered). The mock broker keeps its log in memory, so a SIGKILLed broker takes what it had
// acknowledged with it (a real broker with acks=all would not); the broker test therefore stops
// the log from growing (Produce requests fail with NOT_ENOUGH_REPLICAS, nothing appended), reads
// all of it with kcat, checks that this is exactly what the gateway had counted as published,
// and only then kills the broker: "on the topic" = read from the old broker + the new one.
//
// No clock decides the outcome: the senders run with a pass count far beyond any run (a bound
// that only ends a runaway) and are stopped by the test (SIGTERM; replay finishes the datagram in
// hand and prints its summary) once the broker or gateway is back and the gateway has decoded
// (and, for the broker, published) a good number of records after the restart. Records sent are
// computed from that summary (datagrams_sent, loops_completed) and the capture as replay loads it.

import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import { FlowType } from '../../src/canonical/flow-record';
import { startKafkaMock, type KafkaMock, type KafkaMockTopic } from '../support/kafka-broker';
import { readTopic, type KafkaRecord } from '../support/kcat';
import { FIXTURES, metricSum, scrapeMetrics, sleep, decodeWithCli } from '../support/gateway-harness';
import {
  freeUdpPort, jsonLines, killAllCliProcesses, lastSummary, sigterm, startGatewayProcess, startReplayProcess,
  type GatewayProcess, type ReplayProcess, type ReplaySummary,
} from '../support/cli-processes';
import { loadReplayDatagrams } from '../../src/replay/capture';

const V5 = path.join(FIXTURES, 'softflowd-v5.pcap');
const IPFIX = path.join(FIXTURES, 'pmacct-ipfix-sampled.pcap');
const TOPIC = 'flows';
const STATE_TOPIC = 'gw-state';
const TOPICS: KafkaMockTopic[] = [{ name: TOPIC, partitions: 4 }, { name: STATE_TOPIC, partitions: 1 }];
const NOT_ENOUGH_REPLICAS = 19;
const PRODUCE_API = 0;
/** Passes the senders are started with: never reached in a test (v5 at 400 datagrams/s: ~13
 * min, IPFIX at 100/s: ~17 min, the test's limit is 5); the test stops them. Only a runaway
 * sender (the test process gone without its afterEach) ends by itself, at this bound. */
const V5_SENDER_LOOPS = 10_000;
const IPFIX_SENDER_LOOPS = 2_000;

interface Scrape {
  decoded: number;
  published: number;
  buffered: number;
  gaps: number;
  /** NetFlow v5 only (the exact ledger). */
  decodedV5: number;
  gapsV5: number;
  decodedIpfix: number;
  dropped: Record<string, number>;
  produceErrors: number;
}

async function scrape(g: GatewayProcess): Promise<Scrape> {
  const t = await scrapeMetrics(g.metricsPort);
  const v5 = { protocol: 'netflow5' };
  return {
    decoded: metricSum(t, 'flowgate_records_decoded_total'),
    published: metricSum(t, 'flowgate_records_published_total'),
    buffered: metricSum(t, 'flowgate_kafka_buffered_records'),
    gaps: metricSum(t, 'flowgate_sequence_gaps_total'),
    decodedV5: metricSum(t, 'flowgate_records_decoded_total', v5),
    gapsV5: metricSum(t, 'flowgate_sequence_gaps_total', v5),
    decodedIpfix: metricSum(t, 'flowgate_records_decoded_total', { protocol: 'ipfix' }),
    dropped: {
      buffer_full: metricSum(t, 'flowgate_kafka_dropped_records_total', { reason: 'buffer_full' }),
      shutdown: metricSum(t, 'flowgate_kafka_dropped_records_total', { reason: 'shutdown' }),
    },
    produceErrors: metricSum(t, 'flowgate_kafka_produce_errors_total'),
  };
}

/** Waits for `cond` on the gateway's /metrics; fails when `ms` pass, the gateway exits, or one
 * of `running` (senders that must still be sending while we wait) has exited. */
async function until(g: GatewayProcess, cond: (s: Scrape) => boolean, ms: number, what: string, running: readonly ReplayProcess[] = []): Promise<Scrape> {
  const deadline = Date.now() + ms;
  let last = await scrape(g);
  while (!cond(last)) {
    const gone = running.find((p) => p.exited());
    if (gone) throw new Error(`a sender ended on its own while waiting for ${what}:\n${gone.lines.slice(-10).join('\n')}`);
    if (Date.now() > deadline || g.exited()) {
      throw new Error(`${g.exited() ? 'the gateway exited' : `timed out after ${ms} ms`} waiting for ${what}; last /metrics: ${JSON.stringify(last)}\n${g.lines.slice(-15).join('\n')}`);
    }
    await sleep(50);
    last = await scrape(g);
  }
  return last;
}

interface TopicCount {
  /** Kafka messages (raw framing: one record each). */
  messages: number;
  /** Distinct record values: a retried batch the broker had appended would show as a repeat. */
  distinct: Set<string>;
  byType: Map<number, number>;
}

function countRecords(records: readonly KafkaRecord[], into?: TopicCount): TopicCount {
  const c = into ?? { messages: 0, distinct: new Set<string>(), byType: new Map<number, number>() };
  for (const r of records) {
    if (!r.value) throw new Error('tombstone on the flow topic');
    c.messages++;
    const key = r.value.toString('latin1');
    if (c.distinct.has(key)) continue;
    c.distinct.add(key);
    const type = decodeFlowMessage(r.value).type;
    c.byType.set(type, (c.byType.get(type) ?? 0) + 1);
  }
  return c;
}

function gatewayConfig(dir: string, yaml: string): string {
  const file = path.join(dir, 'gw.yaml');
  writeFileSync(file, yaml);
  return file;
}

function kafkaSection(kafka: KafkaMock, extra: string[], stateTopic = ''): string[] {
  return [
    'kafka:',
    `  brokers: [${kafka.brokers.map((b) => JSON.stringify(b)).join(', ')}]`,
    `  topic: ${TOPIC}`,
    '  create_topics: false',
    `  state_topic: ${JSON.stringify(stateTopic)}`,
    '  linger_ms: 5',
    '  timeout_ms: 10000',
    ...extra.map((l) => `  ${l}`),
  ];
}

const v5PerPass = decodeWithCli('softflowd-v5.pcap').length;
const ipfixPerPass = decodeWithCli('pmacct-ipfix-sampled.pcap').length;

/** The NetFlow v5 capture as `flowgate replay` sends it (its own loader, so the datagram list
 * and order are replay's by construction): records per datagram (header count) in send order. */
function v5Ledger(file: string): { datagramsPerPass: number; recordsPerPass: number; skipped: Record<string, number>; recordsEmitted(s: ReplaySummary): number } {
  const capture = loadReplayDatagrams(file);
  const prefix = [0]; // prefix[k] = records in the first k datagrams of a pass
  for (const d of capture.datagrams) {
    if (d.protocol !== 'netflow5') throw new Error(`${file}: a ${d.protocol} datagram in the v5 ledger's capture`);
    const count = d.payload.readUInt16BE(2);
    // A count the datagram cannot hold would make the decoder's clamp and the header disagree.
    if (24 + 48 * count > d.payload.length) throw new Error(`${file}: header count ${count} does not fit a ${d.payload.length}-byte datagram`);
    prefix.push(prefix[prefix.length - 1] + count);
  }
  const n = capture.datagrams.length;
  return {
    datagramsPerPass: n,
    recordsPerPass: prefix[n],
    skipped: capture.skipped,
    /** Records the exporter numbered, i.e. those of every datagram replay handed to a socket, in
     * send order: whole passes, then the first datagrams of the next one (all n of them when the
     * stop came right after a pass's last datagram, before the pass was counted). Handed over =
     * datagrams_sent + send_errors: a send the kernel refused (ECONNREFUSED, a pending ICMP
     * "port unreachable" while no gateway listened) used its sequence numbers all the same, so
     * the gateway counts its records as a gap, like a datagram that reached no listener. */
    recordsEmitted(s: ReplaySummary): number {
      expect(s.flow_datagrams_per_loop, 'replay sent the datagrams the ledger counts').to.equal(n);
      expect(s.skipped, 'replay skipped what the ledger skipped').to.deep.equal(capture.skipped);
      const handedOver = s.datagrams_sent + s.send_errors;
      const partial = handedOver - s.loops_completed * n;
      expect(partial, `datagrams after the last whole pass (${handedOver} handed over, ${s.loops_completed} passes of ${n})`).to.be.within(0, n);
      return s.loops_completed * prefix[n] + prefix[partial];
    },
  };
}

/** SIGTERMs a sender the test kept running and returns its summary: exit 0, interrupted (it was
 * still sending when stopped, i.e. the whole scenario ran under load). */
async function stopSender(p: ReplayProcess): Promise<ReplaySummary> {
  expect(p.exited(), 'the sender still runs when the scenario is over').to.equal(false);
  expect(await sigterm(p), 'the sender exits 0 on SIGTERM').to.equal(0);
  const s = await p.summary;
  expect(s.interrupted, 'the sender was stopped, not done').to.equal(true);
  return s;
}

function sentText(s: ReplaySummary, perPass: number): string {
  const handedOver = s.datagrams_sent + s.send_errors;
  return `${handedOver} datagrams = ${s.loops_completed} passes + ${handedOver - s.loops_completed * perPass}; ${s.send_errors} refused`;
}

describe('hardening: restarts under load (issue 7, line 4)', function () {
  this.timeout(300_000);
  const mocks: KafkaMock[] = [];
  const report: string[] = [];

  afterEach(async () => {
    await killAllCliProcesses();
    for (const m of mocks.splice(0)) await m.stop();
  });

  after(() => {
    console.log('      restart ledgers:');
    for (const l of report) console.log(`        ${l}`);
  });

  async function mock(ports?: number[]): Promise<KafkaMock> {
    const m = await startKafkaMock({ topics: TOPICS, ports });
    mocks.push(m);
    return m;
  }

  for (const c of [
    { name: 'within the buffer: nothing lost', bufferRecords: 1_000_000, outageMs: 1500 },
    { name: 'beyond a small buffer: lost = dropped{reason="buffer_full"} exactly', bufferRecords: 3000, outageMs: 2500 },
  ]) {
    it(`Kafka broker SIGKILLed and restarted as a new process on the same ports, ${c.name}`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-broker-restart-'));
      const first = await mock();
      const port = await freeUdpPort();
      const cfg = gatewayConfig(dir, [
        `listeners: [{ listen: "127.0.0.1:${port}", protocol: auto }]`,
        'summary_interval_seconds: 0',
        'metrics: { listen: "127.0.0.1:0" }',
        // A batch must fit in the buffer (the config check says so): 500 for the small one.
        ...kafkaSection(first, [`buffer_max_records: ${c.bufferRecords}`, 'batch_max_records: 500']),
      ].join('\n'));
      const g = await startGatewayProcess(cfg, dir);
      const ledger = v5Ledger(V5);
      expect(ledger.recordsPerPass, 'records per pass: header counts = the decoder\'s records').to.equal(v5PerPass);
      // ~5,600 records/s until stopped; the broker goes away after 8000 records are published.
      const sender = startReplayProcess(V5, port, V5_SENDER_LOOPS, 400, dir);
      await until(g, (s) => s.published >= 8000, 60_000, '8000 records published before the broker is stopped', [sender]);

      // Freeze the log: from here every Produce fails (nothing appended) while fetches work.
      await first.failRequests(PRODUCE_API, 100_000, NOT_ENOUGH_REPLICAS);
      await until(g, (s) => s.produceErrors > 0, 30_000, 'produce requests failing');
      const fromFirst = await readTopic(first.bootstrap, TOPIC, { timeoutMs: 60_000 });
      await first.kill();
      const atKill = await scrape(g);
      // Everything the killed broker acknowledged was read before it died: nothing lost with it.
      expect(fromFirst.length, 'records read from the killed broker = records it acknowledged').to.equal(atKill.published);

      await sleep(c.outageMs); // no broker process at all; the sender keeps sending
      if (c.bufferRecords < 1_000_000) {
        // The overflow by construction, not by how much a machine sends in outageMs.
        await until(g, (s) => s.dropped.buffer_full > 0, 60_000, 'the small buffer to overflow while no broker runs', [sender]);
      }
      const second = await mock(first.ports);
      expect(second.bootstrap).to.equal(first.bootstrap);
      // Under load across the return: the new broker takes records while the sender still sends.
      const atReturn = await scrape(g);
      await until(g, (s) => s.published >= atKill.published + 5000 && s.decoded >= atReturn.decoded + 5000, 120_000,
        '5000 records published to the new broker and 5000 more decoded after it started, the sender still sending', [sender]);

      const sent = await stopSender(sender);
      expect(sent.send_errors).to.equal(0);
      const emitted = ledger.recordsEmitted(sent);
      const end = await until(g, (s) => s.decoded + s.gaps >= emitted && s.buffered === 0, 120_000,
        `every record decoded (or counted as a gap) and the buffer drained (${emitted} emitted)`);
      expect(end.decoded, 'decoded = published + dropped').to.equal(end.published + end.dropped.buffer_full + end.dropped.shutdown);
      expect(await sigterm(g)).to.equal(0);
      const summary = lastSummary(g);
      expect(summary.dropped, 'nothing more dropped at shutdown').to.deep.equal(end.dropped.buffer_full ? { buffer_full: end.dropped.buffer_full } : {});
      expect(jsonLines(g).some((l) => String(l.msg).includes('reachable again'))).to.equal(true);

      const topic = countRecords(fromFirst);
      countRecords(await readTopic(second.bootstrap, TOPIC, { minRecords: end.published - atKill.published, timeoutMs: 60_000 }), topic);
      const onTopic = topic.distinct.size;
      const lost = emitted - onTopic;
      const dropped = end.dropped.buffer_full + end.dropped.shutdown;
      report.push(`broker restart, ${c.name}: emitted ${emitted} (${sentText(sent, ledger.datagramsPerPass)}), on the topic ${onTopic} (${fromFirst.length} from the killed broker + ` +
        `${onTopic - fromFirst.length} from the new one; ${topic.messages - onTopic} repeats), lost ${lost}; counters: sequence gaps ${end.gaps}, ` +
        `dropped buffer_full ${end.dropped.buffer_full}, shutdown ${end.dropped.shutdown}; published ${end.published} (${atKill.published} before the kill)`);
      expect(lost, 'records lost = what the counters report').to.equal(end.gaps + dropped);
      expect(topic.byType.get(FlowType.NETFLOW_V5)).to.equal(onTopic);
      if (c.bufferRecords >= 1_000_000) {
        expect(dropped, 'a broker restart within the buffer drops nothing').to.equal(0);
        expect(lost - end.gaps, 'the gateway lost nothing').to.equal(0);
      } else {
        expect(end.dropped.buffer_full, 'the outage outlasted the small buffer').to.be.greaterThan(0);
        expect(end.dropped.shutdown).to.equal(0);
      }
    });
  }

  for (const where of ['state file', 'state topic'] as const) {
    it(`gateway SIGTERM'd and restarted under load (${where}): on the topic + sequence gaps = records sent; templates come back`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-gateway-restart-'));
      const kafka = await mock();
      const port = await freeUdpPort();
      const cfg = gatewayConfig(dir, [
        `listeners: [{ listen: "127.0.0.1:${port}", protocol: auto }]`,
        'summary_interval_seconds: 0',
        'metrics: { listen: "127.0.0.1:0" }',
        ...(where === 'state file' ? ['state: { directory: ./state }'] : []),
        ...kafkaSection(kafka, [], where === 'state topic' ? STATE_TOPIC : ''),
      ].join('\n'));
      const g1 = await startGatewayProcess(cfg, dir);
      const ledger = v5Ledger(V5);
      expect(ledger.recordsPerPass, 'records per pass: header counts = the decoder\'s records').to.equal(v5PerPass);
      // v5 ~5,600 records/s and IPFIX alongside, until stopped; the SIGTERM comes after 10000 v5
      // records, and the senders are stopped only once the new gateway has decoded plenty.
      const v5 = startReplayProcess(V5, port, V5_SENDER_LOOPS, 400, dir);
      const ipfix = startReplayProcess(IPFIX, port, IPFIX_SENDER_LOOPS, 100, dir);
      const before = await until(g1, (s) => s.decodedV5 >= 10_000, 60_000, '10000 v5 records decoded before the SIGTERM', [v5, ipfix]);
      expect(await sigterm(g1)).to.equal(0);
      const s1 = lastSummary(g1);
      // Zero loss inside the process: everything decoded was delivered before it exited.
      expect(s1.records, 'decoded = published at shutdown').to.equal(s1.published);
      expect(s1.dropped, 'nothing dropped at shutdown (dropped{reason="shutdown"} = 0)').to.deep.equal({});
      // Gaps are never negative, so an unchanged total means the v5 count scraped is final too.
      expect(s1.sequence_gaps, 'no gap appeared after the last scrape').to.equal(before.gaps);
      const templates = s1.templates as number;
      expect(templates).to.be.greaterThan(0);
      // What run 1 delivered: exactly its published records are on the topic now.
      const run1 = countRecords(await readTopic(kafka.bootstrap, TOPIC, { minRecords: s1.published as number, timeoutMs: 60_000 }));
      expect(run1.messages).to.equal(s1.published);
      const run1V5 = run1.byType.get(FlowType.NETFLOW_V5) ?? 0;

      const g2 = await startGatewayProcess(cfg, dir);
      expect(jsonLines(g2).some((l) => l.msg === 'state: restored templates and sampling state' && l.templates === templates)).to.equal(true);
      expect(jsonLines(g2).some((l) => String(l.msg).startsWith('state: sequence numbers from the last shutdown restored') && (l.sequence_streams as number) > 0),
        'sequence numbers restored').to.equal(true);
      // Under load after the restart: the new gateway decodes v5 and a whole pass of IPFIX (its
      // data needs the restored templates) while both senders still send.
      await until(g2, (s) => s.decodedV5 >= 10_000 && s.decodedIpfix >= ipfixPerPass, 60_000,
        `10000 v5 and ${ipfixPerPass} IPFIX records decoded by the restarted gateway, the senders still sending`, [v5, ipfix]);
      const sentV5 = await stopSender(v5);
      const sentIpfix = await stopSender(ipfix);
      const emitted = ledger.recordsEmitted(sentV5);
      const end = await until(g2, (s) => run1V5 + s.decodedV5 + before.gapsV5 + s.gapsV5 >= emitted && s.buffered === 0 && s.published === s.decoded,
        60_000, `the v5 ledger to close (${emitted} emitted, ${run1V5} delivered by run 1) and everything decoded published`);
      expect(await sigterm(g2)).to.equal(0);
      const s2 = lastSummary(g2);
      expect(s2.errors, 'after the restart nothing waited for a template or failed').to.deep.equal({});
      expect(s2.records).to.equal(s2.published);
      expect(s2.dropped).to.deep.equal({});

      const topic = countRecords(await readTopic(kafka.bootstrap, TOPIC, { minRecords: (s1.published as number) + (s2.published as number), timeoutMs: 60_000 }));
      const onTopicV5 = topic.byType.get(FlowType.NETFLOW_V5) ?? 0;
      const gapsV5 = before.gapsV5 + end.gapsV5;
      report.push(`gateway restart, ${where} (v5 ledger): emitted ${emitted} (${sentText(sentV5, ledger.datagramsPerPass)}; IPFIX ${sentIpfix.datagrams_sent} datagrams), on the topic ${onTopicV5} (run 1 ${run1V5}, run 2 ${end.decodedV5}), ` +
        `sequence gaps ${gapsV5} (run 1 ${before.gapsV5}; run 2, across the restart and after, ${end.gapsV5}); dropped run 1 ${JSON.stringify(s1.dropped)}, run 2 ${JSON.stringify(s2.dropped)}; ` +
        `repeats ${topic.messages - topic.distinct.size}; IPFIX records on the topic ${topic.byType.get(FlowType.IPFIX) ?? 0}, templates restored ${templates}, run 2 decode errors ${JSON.stringify(s2.errors)}`);
      expect(topic.messages, 'no record twice').to.equal(topic.distinct.size);
      expect(end.gapsV5, 'the restart shows as a gap').to.be.greaterThan(0);
      expect(onTopicV5 + gapsV5, 'v5 records on the topic + records the gaps account for = records sent').to.equal(emitted);
    });
  }
});
