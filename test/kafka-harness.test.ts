/**
 * The Kafka test harness itself: the librdkafka mock cluster (test/support/kafka-broker.ts),
 * the kcat reader (test/support/kcat.ts) and the protoc decoder (test/support/protoc.ts),
 * checked against kafkajs — the client the gateway uses — before any gateway test relies on
 * them. The findings these tests pin down are written up at the top of kafka-broker.ts;
 * a failure here after a librdkafka/kafkajs upgrade means that write-up needs revisiting.
 *
 * Every step's wall time is printed after the suite ("kafka harness timings").
 */
import { expect } from 'chai';
import * as net from 'net';
import { CompressionTypes, IHeaders, Kafka, KafkaJSError, Message, Producer, logLevel } from 'kafkajs';
import { flowToJson } from '../src/canonical/flow-json';
import { FlowEncoder } from '../src/canonical/flow-encoder';
import { FlowType, LayerStack, newFlowRecord, type FlowRecord } from '../src/canonical/flow-record';
import { KafkaMock, kafkaMockBinary, startKafkaMock } from './support/kafka-broker';
import { KafkaRecord, kcatVersion, readTopic } from './support/kcat';
import {
  decodeWithProtoc,
  parseProtocFlowList,
  pickComparable,
  protocFlowToComparable,
  unescapeProtocString,
  wrapAsFlowList,
} from './support/protoc';
import { requireTool } from './support/tools';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const COUNT = 1000;
const PARTITIONS = 3;

const timings: Array<[string, number]> = [];
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  try {
    return await f();
  } finally {
    timings.push([label, Number(process.hrtime.bigint() - t0) / 1e6]);
  }
}

// ---- the 1000 test messages: binary values, keys and headers, explicit partitions and times

const TS_BASE = Date.UTC(2024, 5, 1, 0, 0, 0);

function valueOf(i: number): Buffer | null {
  if (i === 7) return null; // a tombstone
  if (i === 5) return Buffer.alloc(0);
  // 7 is odd, so the first 256 bytes are a permutation of 0..255: every value holds every byte.
  const len = 256 + (i % 50);
  const b = Buffer.alloc(len);
  for (let j = 0; j < len; j++) b[j] = (i + j * 7) & 0xff;
  return b;
}

function keyOf(i: number): Buffer | null {
  if (i % 10 === 0) return null;
  if (i === 1) return ALL_BYTES;
  return Buffer.concat([Buffer.from(`k${i}`), Buffer.from([0, 0x0a, 0xff, 0x80, 0x22, 0x5c])]);
}

function headersOf(i: number): IHeaders {
  return { seq: String(i), csv: 'a,b=c', utf: 'é→✓', bin: ALL_BYTES };
}

function message(i: number): Message {
  return {
    key: keyOf(i),
    value: valueOf(i),
    partition: i % PARTITIONS,
    timestamp: String(TS_BASE + i),
    headers: headersOf(i),
  };
}

function hex(b: Buffer | null): string | null {
  return b === null ? null : b.toString('hex');
}

/** Asserts that `records` are exactly messages 0..COUNT-1 with contiguous offsets per partition. */
function expectExactly(records: KafkaRecord[], topic: string): void {
  expect(records.length, 'record count').to.equal(COUNT);
  const perPartition = new Map<number, number>();
  for (const r of records) {
    expect(r.topic).to.equal(topic);
    const n = perPartition.get(r.partition) ?? 0;
    expect(r.offset, `offset in partition ${r.partition}`).to.equal(n);
    perPartition.set(r.partition, n + 1);
  }
  // i % 3 → partition: 334 / 333 / 333
  expect([...perPartition.entries()].sort((a, b) => a[0] - b[0])).to.deep.equal([[0, 334], [1, 333], [2, 333]]);

  const seen = new Set<number>();
  for (const r of records) {
    const i = Number(r.headers.seq);
    expect(Number.isInteger(i) && i >= 0 && i < COUNT, `seq header ${r.headers.seq}`).to.equal(true);
    expect(seen.has(i), `duplicate seq ${i}`).to.equal(false);
    seen.add(i);
    expect(r.partition, `partition of ${i}`).to.equal(i % PARTITIONS);
    // Within a partition kafkajs keeps send order: offset = i div 3.
    expect(r.offset, `offset of ${i}`).to.equal(Math.floor(i / PARTITIONS));
    expect(r.timestamp, `timestamp of ${i}`).to.equal(TS_BASE + i);
    expect(hex(r.key), `key of ${i}`).to.equal(hex(keyOf(i)));
    expect(hex(r.value), `value of ${i}`).to.equal(hex(valueOf(i)));
    expect(r.headers.csv).to.equal('a,b=c');
    expect(r.headers.utf).to.equal('é→✓');
    expect(r.headerList.map((h) => h.name)).to.deep.equal(['seq', 'csv', 'utf', 'bin']);
    expect(hex(r.headerList[3].value), `bin header of ${i}`).to.equal(ALL_BYTES.toString('hex'));
  }
}

function kafkaFor(mock: KafkaMock, retry: { retries: number; initialRetryTime: number; maxRetryTime: number }): Kafka {
  return new Kafka({
    clientId: 'flowgate-harness-test',
    brokers: mock.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry,
  });
}

const FAST_FAIL = { retries: 2, initialRetryTime: 100, maxRetryTime: 300 };
// Enough retries to span a 1.5 s outage several times over (~100+200+...+1000 ms).
const PATIENT = { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 };

async function sendAll(producer: Producer, topic: string, compression?: CompressionTypes): Promise<void> {
  // Ten sends of 100: several record batches per partition, as the gateway produces them.
  for (let start = 0; start < COUNT; start += 100) {
    const messages = Array.from({ length: 100 }, (_, k) => message(start + k));
    await producer.send({ topic, messages, acks: -1, compression });
  }
}

describe('Kafka test harness (librdkafka mock cluster, kcat, protoc)', function () {
  this.timeout(180_000);

  let mock: KafkaMock | undefined;
  const producers: Producer[] = [];

  before(async function () {
    requireTool('kcat', 'kcat');
    requireTool('protoc', 'protobuf-compiler');
    timings.push([`kcat -V: ${await kcatVersion()}`, 0]);
    await timed('compile launcher (0 when cached for this source hash)', async () => kafkaMockBinary());
    mock = await timed('start mock: 3 brokers, 7 topics', () =>
      startKafkaMock({
        brokers: 3,
        topics: [
          { name: 'harness', partitions: PARTITIONS },
          { name: 'harness-gzip', partitions: PARTITIONS },
          { name: 'harness-outage', partitions: 1 },
          { name: 'harness-late', partitions: 1 },
          { name: 'harness-group', partitions: PARTITIONS },
          { name: 'harness-flows', partitions: 1 },
        ],
      }),
    );
  });

  after(async function () {
    for (const p of producers) await p.disconnect().catch(() => undefined);
    await mock?.stop();
    console.log('      kafka harness timings:');
    for (const [label, ms] of timings) console.log(`        ${ms.toFixed(0).padStart(6)} ms  ${label}`);
  });

  function broker(): KafkaMock {
    if (!mock) throw new Error('mock not started');
    return mock;
  }

  async function producer(retry = FAST_FAIL): Promise<Producer> {
    const p = kafkaFor(broker(), retry).producer({ allowAutoTopicCreation: true });
    producers.push(p);
    await p.connect();
    return p;
  }

  it('gives a loopback bootstrap list, one entry per broker', function () {
    const m = broker();
    expect(m.brokers).to.have.length(3);
    for (const b of m.brokers) expect(b).to.match(/^127\.0\.0\.1:\d+$/);
    expect(m.bootstrap).to.equal(m.brokers.join(','));
  });

  it('round-trips 1000 binary records (every byte 0..255 in values, keys, headers) kafkajs → kcat', async function () {
    const p = await producer();
    await timed('kafkajs: produce 1000 records (10 sends, acks=all)', () => sendAll(p, 'harness'));
    const records = await timed('kcat: read 1000 records', () => readTopic(broker().bootstrap, 'harness', { minRecords: COUNT }));
    expectExactly(records, 'harness');
  });

  it('does the same with kafkajs gzip compression (kcat decompresses)', async function () {
    const p = await producer();
    await timed('kafkajs: produce 1000 records gzip', () => sendAll(p, 'harness-gzip', CompressionTypes.GZIP));
    const records = await timed('kcat: read 1000 gzip records', () =>
      readTopic(broker().bootstrap, 'harness-gzip', { minRecords: COUNT }),
    );
    expectExactly(records, 'harness-gzip');
  });

  it('readTopic waits for records that arrive later, and gives up with a count when they do not', async function () {
    const p = await producer();
    const late = setTimeout(() => {
      void p.send({ topic: 'harness-late', messages: [{ value: 'late' }] });
    }, 700);
    try {
      const recs = await timed('readTopic: wait for a record sent 700 ms later', () =>
        readTopic(broker().bootstrap, 'harness-late', { minRecords: 1, timeoutMs: 10_000, pollIntervalMs: 100 }),
      );
      expect(recs.map((r) => r.value?.toString())).to.deep.equal(['late']);
    } finally {
      clearTimeout(late);
    }
    let error: Error | undefined;
    await readTopic(broker().bootstrap, 'harness-late', { minRecords: 5, timeoutMs: 600, pollIntervalMs: 100 }).catch(
      (e: Error) => (error = e),
    );
    expect(error?.message).to.match(/expected at least 5 records on topic harness-late, found 1/);
  });

  it('down(): sends fail; a send retrying across the outage succeeds after up() on the same ports', async function () {
    const m = broker();
    const fast = await producer(FAST_FAIL);
    const patient = await producer(PATIENT);
    await fast.send({ topic: 'harness-outage', messages: [{ value: 'before' }] });
    const bootstrapBefore = m.bootstrap;

    await timed('mock: down (3 brokers)', () => m.down());
    let failure: unknown;
    await timed('kafkajs: send during outage fails (retries 2)', () =>
      fast.send({ topic: 'harness-outage', messages: [{ value: 'lost' }] }).catch((e: unknown) => {
        failure = e;
      }),
    );
    expect(failure, 'send while every broker is down').to.be.instanceOf(KafkaJSError);
    expect(String((failure as Error).message)).to.match(/ECONNREFUSED/);

    const across = timed('kafkajs: send across a 1.5 s outage (retries 15) until delivered', () =>
      patient.send({ topic: 'harness-outage', messages: [{ value: 'retried' }] }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await timed('mock: up', () => m.up());
    await across;
    await timed('kafkajs: first send after up (fast-fail producer)', () =>
      fast.send({ topic: 'harness-outage', messages: [{ value: 'after' }] }),
    );

    expect(m.bootstrap).to.equal(bootstrapBefore);
    const values = (await readTopic(m.bootstrap, 'harness-outage', { minRecords: 3 })).map((r) => r.value?.toString());
    expect(values).to.deep.equal(['before', 'retried', 'after']);
  });

  it('down(id)/up(id) take one broker out and back; bad arguments reject', async function () {
    const m = broker();
    await m.down(2);
    try {
      expect(await tcpConnects(m.brokers[0])).to.equal('connected');
      expect(await tcpConnects(m.brokers[1])).to.equal('ECONNREFUSED');
      expect(await tcpConnects(m.brokers[2])).to.equal('connected');
    } finally {
      await m.up(2);
    }
    expect(await tcpConnects(m.brokers[1])).to.equal('connected');
    let error: Error | undefined;
    await m.down(4).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/no broker 4/);
    await m.createTopic('bad name', 1).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/invalid topic name/);
  });

  it('kill() + a new process on the same ports: clients reconnect by themselves; the old log is gone', async function () {
    // A second cluster of its own: killing the shared one would break the other tests.
    const topics = [{ name: 'harness-restart', partitions: 2 }];
    const first = await startKafkaMock({ brokers: 2, topics });
    let second: KafkaMock | undefined;
    try {
      const p = kafkaFor(first, PATIENT).producer({ allowAutoTopicCreation: true });
      producers.push(p);
      await p.connect();
      await p.send({ topic: 'harness-restart', messages: [{ value: 'before' }] });
      await timed('mock: SIGKILL (2 brokers)', () => first.kill());
      expect(await tcpConnects(first.brokers[0])).to.equal('ECONNREFUSED');
      // A send started while no broker process exists is delivered by the new one.
      const across = p.send({ topic: 'harness-restart', messages: [{ value: 'across' }] });
      await new Promise((resolve) => setTimeout(resolve, 500));
      second = await timed('mock: new process on the killed one\'s ports', () => startKafkaMock({ brokers: 2, topics, ports: first.ports }));
      expect(second.bootstrap).to.equal(first.bootstrap);
      expect(second.pid).to.not.equal(first.pid);
      await timed('kafkajs: send across the broker restart (retries 15)', () => across);
      await p.send({ topic: 'harness-restart', messages: [{ value: 'after' }] });
      const values = (await readTopic(second.bootstrap, 'harness-restart', { minRecords: 2 })).map((r) => r.value?.toString());
      expect(values.sort()).to.deep.equal(['across', 'after']);
      let error: Error | undefined;
      await startKafkaMock({ brokers: 2, ports: second.ports }).catch((e: Error) => (error = e));
      expect(error?.message, 'a port in use fails the start, naming the cause').to.match(/already in use/);
      await startKafkaMock({ brokers: 2, ports: [1] }).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/one per broker/);
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it('createTopic() over the launcher works; kafkajs admin createTopics fails against the mock', async function () {
    const m = broker();
    await timed('mock: createTopic (launcher command)', () => m.createTopic('harness-created', 5));
    const admin = kafkaFor(m, FAST_FAIL).admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: ['harness-created'] });
      expect(md.topics[0].partitions).to.have.length(5);

      const cluster = await admin.describeCluster();
      expect(cluster.controller, 'librdkafka 2.0.2 mock reports controller id 0').to.equal(0);

      let createError: unknown;
      await timed('kafkajs: admin.createTopics (fails)', () =>
        admin.createTopics({ topics: [{ topic: 'harness-admin', numPartitions: 2 }], timeout: 5000 }).catch((e: unknown) => {
          createError = e;
        }),
      );
      expect(createError).to.be.instanceOf(KafkaJSError);
      expect((createError as Error).name).to.equal('KafkaJSBrokerNotFound');
      expect((createError as Error).message).to.match(/Broker 0 not found/);

      // A topic nobody created: any metadata request — a consumer's too — auto-creates it.
      expect(await readTopic(m.bootstrap, 'harness-never-written')).to.deep.equal([]);
      const auto = await admin.fetchTopicMetadata({ topics: ['harness-never-written'] });
      expect(auto.topics[0].partitions, 'auto-created partition count').to.have.length(4);
    } finally {
      await admin.disconnect();
    }
  });

  it('kafkajs idempotent producer fails against the mock (controller id 0)', async function () {
    const p = kafkaFor(broker(), FAST_FAIL).producer({ idempotent: true, maxInFlightRequests: 1 });
    producers.push(p);
    let error: unknown;
    await timed('kafkajs: idempotent producer connect+send (fails)', async () => {
      try {
        await p.connect();
        await p.send({ topic: 'harness-idempotent', messages: [{ value: 'idempotent' }] });
      } catch (e) {
        error = e;
      }
    });
    expect(error).to.be.instanceOf(KafkaJSError);
    expect((error as Error).message).to.match(/Broker 0 not found/);
  });

  it('kafkajs consumer groups work; the first join takes about 3 s', async function () {
    const m = broker();
    const p = await producer();
    await p.send({ topic: 'harness-group', messages: Array.from({ length: 30 }, (_, i) => ({ value: `g${i}`, partition: i % PARTITIONS })) });
    const consumer = kafkaFor(m, FAST_FAIL).consumer({
      groupId: 'harness-group',
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      // The mock holds an empty fetch for the whole max wait, and disconnect() waits for it.
      maxWaitTimeInMs: 200,
    });
    let joinMs = -1;
    const t0 = Date.now();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (joinMs < 0) joinMs = Date.now() - t0;
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: 'harness-group', fromBeginning: true });
      const got: string[] = [];
      await timed('kafkajs: consumer group join + consume 30', async () => {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`consumer got ${got.length}/30 in 30 s`)), 30_000);
          void consumer.run({
            eachMessage: async ({ message: msg }) => {
              got.push(msg.value?.toString() ?? '');
              if (got.length === 30) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
      });
      timings.push(['kafkajs: consumer group first join (GROUP_JOIN event)', joinMs]);
      expect(got.sort()).to.deep.equal(Array.from({ length: 30 }, (_, i) => `g${i}`).sort());
      expect(joinMs).to.be.greaterThan(0);
    } finally {
      await timed('kafkajs: consumer disconnect (leave group)', () => consumer.disconnect());
    }
  });

  it('canonical records published with kafkajs, read by kcat and decoded by protoc equal flowToJson', async function () {
    const enc = new FlowEncoder();
    const records = Array.from({ length: 200 }, (_, i) => sampleRecord(i));
    const p = await producer();
    await p.send({ topic: 'harness-flows', messages: records.map((r) => ({ value: enc.encode(r) })), compression: CompressionTypes.GZIP });
    const got = await readTopic(broker().bootstrap, 'harness-flows', { minRecords: records.length });
    const values = got.map((r) => r.value ?? Buffer.alloc(0));
    const flows = await timed('protoc: decode 200 records (one process)', () => decodeWithProtoc(values));
    expect(flows).to.have.length(records.length);
    flows.forEach((f, i) => {
      expect(protocFlowToComparable(f), `record ${i}`).to.deep.equal(pickComparable(flowToJson(records[i])));
    });
  });
});

/** 'connected' or the connect error code for a plain TCP connection to host:port. */
function tcpConnects(hostPort: string): Promise<string> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const sock = net.connect({ host, port: Number(port) });
    sock.setTimeout(3000, () => {
      sock.destroy();
      resolve('timeout');
    });
    sock.once('connect', () => {
      sock.destroy();
      resolve('connected');
    });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

// ---- protoc text-format parsing, without Kafka

function sampleRecord(i: number): FlowRecord {
  const r = newFlowRecord();
  r.type = i % 2 ? FlowType.IPFIX : FlowType.NETFLOW_V9;
  r.time_received_us = 1_717_200_000_123_456 + i;
  r.sequence_num = 4_294_967_295 - i;
  r.sampling_rate = 1000;
  r.sampler_address = Uint8Array.from([192, 0, 2, i & 0xff]);
  r.time_flow_start_us = 1_717_199_990_000_001 + i;
  r.time_flow_end_us = 1_717_199_999_999_999 + i;
  r.bytes = 2 ** 40 + i;
  r.packets = 1 + i;
  // Bytes that protoc must escape: \n " \\ ' NUL, high bytes.
  r.src_addr = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x22, 0x5c, 0x27, 0, 0, 0xff, 0x80, 0x7f, 0x3f, 0, i & 0xff]);
  r.dst_addr = Uint8Array.from([10, 92, 34, 39]);
  r.etype = 0x86dd;
  r.proto = 6;
  r.src_port = 65535;
  r.dst_port = i;
  r.in_if = 7;
  r.out_if = 4_000_000_000;
  r.ip_tos = 0xb8;
  r.tcp_flags = 0x1b;
  r.src_as = 4_200_000_000;
  r.dst_as = 64_496;
  r.observation_domain_id = 0x7fffffff;
  return r;
}

describe('protoc text-format parsing (test/support/protoc.ts)', function () {
  this.timeout(60_000);

  before(function () {
    requireTool('protoc', 'protobuf-compiler');
  });

  it('unescapes C escapes: octal, \\n \\" \\\' \\\\, hex, verbatim printable', function () {
    const text = String.raw`"\303\251\n\"\'\\a\0\x7f\177z"`;
    const { bytes, end } = unescapeProtocString(text, 0);
    expect(end).to.equal(text.length);
    expect(bytes.toString('hex')).to.equal(Buffer.from([0xc3, 0xa9, 0x0a, 0x22, 0x27, 0x5c, 0x61, 0x00, 0x7f, 0x7f, 0x7a]).toString('hex'));
  });

  it('wraps values as FlowList field 1', function () {
    const long = Buffer.alloc(300, 1);
    const w = wrapAsFlowList([Buffer.from([1, 2]), long]);
    expect(w.subarray(0, 4).toString('hex')).to.equal('0a020102');
    expect(w.subarray(4, 7).toString('hex')).to.equal('0aac02'); // 300 = 0xac 0x02
    expect(w.length).to.equal(4 + 3 + 300);
  });

  it('decodes records from our encoder, bytes with every value 0..255 intact', async function () {
    const enc = new FlowEncoder();
    const r = sampleRecord(3);
    r.as_path = [64_496, 64_497, 4_200_000_000];
    r.layer_stack = [LayerStack.Ethernet, LayerStack.IPv6, LayerStack.TCP];
    r.mpls_ip = [Uint8Array.from([10, 0, 0, 1]), Uint8Array.from([0x5c, 0x22, 0x0a, 0x00])];
    r.src_mac = 0x0242ac110002;
    r.extra_fields = [
      { enterprise: 0, id: 95, value: ALL_BYTES },
      { enterprise: 29305, id: 1, value: Uint8Array.from([0x0a]) },
    ];
    const empty = newFlowRecord();
    const [f, e, g] = await timed('protoc: decode 3 records', () =>
      decodeWithProtoc([enc.encode(r), enc.encode(empty), enc.encode(sampleRecord(4))]),
    );

    expect(e, 'all-default record').to.deep.equal({});
    expect(protocFlowToComparable(e)).to.deep.equal(pickComparable(flowToJson(empty)));
    expect(protocFlowToComparable(f)).to.deep.equal(pickComparable(flowToJson(r)));
    expect(protocFlowToComparable(g)).to.deep.equal(pickComparable(flowToJson(sampleRecord(4))));

    expect(f.type).to.equal('IPFIX');
    expect(f.time_received_ns).to.equal('1717200000123459000');
    expect(f.bytes).to.equal(String(2 ** 40 + 3));
    expect(f.as_path).to.deep.equal(['64496', '64497', '4200000000']);
    // proto3 omits the default Ethernet (0) value only for singular fields; repeated keep it.
    expect(f.layer_stack).to.deep.equal(['Ethernet', 'IPv6', 'TCP']);
    expect(f.src_mac).to.equal(String(0x0242ac110002));
    expect(Buffer.isBuffer(f.src_addr) && f.src_addr.toString('hex')).to.equal(Buffer.from(r.src_addr).toString('hex'));
    const mplsIp = f.mpls_ip;
    expect(Array.isArray(mplsIp)).to.equal(true);
    expect((mplsIp as Buffer[]).map((b) => b.toString('hex'))).to.deep.equal(['0a000001', '5c220a00']);

    const extras = f.extra_fields;
    expect(Array.isArray(extras) && extras.length).to.equal(2);
    const [x0, x1] = extras as Array<Record<string, unknown>>;
    expect(x0.enterprise, 'enterprise 0 is the proto3 default: not printed').to.equal(undefined);
    expect(x0.id).to.equal('95');
    expect(Buffer.isBuffer(x0.value) && x0.value.toString('hex')).to.equal(ALL_BYTES.toString('hex'));
    expect(x1.enterprise).to.equal('29305');
    expect(Buffer.isBuffer(x1.value) && x1.value.toString('hex')).to.equal('0a');
  });

  it('parses protoc output for unknown fields and rejects malformed text', function () {
    const flows = parseProtocFlowList('flows {\n  sequence_num: 7\n  999: "\\001"\n  999: "\\002"\n}\nflows {\n}\n');
    expect(flows).to.have.length(2);
    expect(flows[0].sequence_num).to.equal('7');
    expect((flows[0]['999'] as Buffer[]).map((b) => b.toString('hex'))).to.deep.equal(['01', '02']);
    expect(() => parseProtocFlowList('flows {\n  src_addr: "abc\n}\n')).to.throw(/newline inside string|unterminated/);
    expect(() => parseProtocFlowList('flows {\n  sequence_num: 7\n')).to.throw(/missing "}"/);
  });

  it('reports protoc errors (bytes that are not a FlowMessage)', async function () {
    let error: Error | undefined;
    await decodeWithProtoc([Buffer.from([0xff, 0xff, 0xff])]).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/protoc .*exit code 1/);
  });
});
