// dump's own Fetch-response and record-batch parsing (src/dump/fetch-response.ts,
// record-batch.ts) against kafkajs' decoding of the very same response bytes, on a real
// Kafka-protocol broker (the librdkafka mock): messages with null, empty and binary values,
// keys, repeated and binary headers, our two headers with every kind of value, gzip and
// uncompressed batches, batches starting before the fetch offset, LogAppendTime.

import { expect } from 'chai';
import { CompressionTypes, Kafka, logLevel, type IHeaders, type Message } from 'kafkajs';
import { fromKafkaMessage, type DumpMessage } from '../../src/dump/dump-message';
import { parseFetchResponse } from '../../src/dump/fetch-response';
import { internalFetchApi, READ_COMMITTED, type InternalFetchApi, type RawFetch } from '../../src/dump/kafkajs-internals';
import { parseRecords, recordBytes } from '../../src/dump/record-batch';
import { startKafkaMock, type KafkaMock } from '../support/kafka-broker';

const TOPIC = 'parse';
const T0 = Date.UTC(2024, 5, 1);

function headersOf(i: number): IHeaders | undefined {
  switch (i % 7) {
    case 0: return undefined;
    case 1: return { 'flowgate-framing': 'raw', 'flowgate-schema': 'flowpb.FlowMessage' };
    case 2: return { 'flowgate-framing': Buffer.from('delimited'), other: Buffer.from([0, 255, 10]) };
    case 3: return { 'flowgate-framing': ['delimited', 'raw'], 'flowgate-schema': 'flowgate.InterfaceCounters' };
    case 4: return { 'flowgate-framing': 'json', x: 'é→✓' };
    case 5: return { 'flowgate-schema': Buffer.alloc(0), 'flowgate-framing': Buffer.alloc(0) };
    default: return { a: 'b', b: ['c', 'd'] };
  }
}

function messageOf(i: number): Message {
  let value: Buffer | null = Buffer.from(Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j * 13) & 0xff));
  if (i % 11 === 3) value = null;
  if (i % 13 === 4) value = Buffer.alloc(0);
  return {
    key: i % 5 === 0 ? null : Buffer.from(`k${i}`),
    value,
    headers: headersOf(i),
    partition: i % 2,
    // Not monotonic: CreateTimes as producers set them.
    timestamp: String(T0 + ((i * 7919) % 1000)),
  };
}

function comparable(m: DumpMessage): Record<string, unknown> {
  return {
    offset: m.offset,
    timestamp: m.timestamp,
    value: m.valueStart < 0 ? null : Buffer.from(m.data.subarray(m.valueStart, m.valueEnd)).toString('hex'),
    framing: m.framing,
    schema: m.schema,
  };
}

async function fetchAt(api: InternalFetchApi, partition: number, offset: number): Promise<RawFetch> {
  const cluster = api.createCluster();
  await cluster.connect();
  try {
    await cluster.addTargetTopic(TOPIC);
    const [[leader]] = Object.entries(cluster.findLeaderForPartitions(TOPIC, [partition]));
    const broker = await cluster.findBroker({ nodeId: leader });
    return await api.fetchRaw(broker, {
      maxWaitTime: 100, minBytes: 1, maxBytes: 64 << 20, isolationLevel: READ_COMMITTED,
      topics: [{ topic: TOPIC, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 32 << 20 }] }],
    });
  } finally {
    await cluster.disconnect();
  }
}

/** Our parse of a response for one partition, every message of every batch. */
async function ours(raw: RawFetch, partition: number): Promise<DumpMessage[]> {
  const parsed = parseFetchResponse(raw.payload, raw.version);
  const p = parsed.topics[0].partitions.find((x) => x.partition === partition);
  if (!p) throw new Error('partition missing');
  expect(p.legacy).to.equal(false);
  const out: DumpMessage[] = [];
  for (const b of p.batches) {
    const bytes = await recordBytes(p.data, b);
    parseRecords(bytes.data, bytes.start, bytes.end, b, out);
  }
  return out;
}

async function theirs(raw: RawFetch, partition: number): Promise<DumpMessage[]> {
  const d = await raw.kafkajsDecode();
  return (d.responses[0].partitions.find((x) => x.partition === partition)?.messages ?? []).map(fromKafkaMessage);
}

describe('dump: Fetch response and record batch parsing (vs kafkajs, on the mock broker)', function () {
  this.timeout(60_000);
  let kafka: KafkaMock;
  let client: Kafka;
  let api: InternalFetchApi;
  const N = 400;

  before(async () => {
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 2 }] });
    client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const found = internalFetchApi(client);
    if (!found) throw new Error('kafkajs internals not found: the direct-fetch reader would fall back to the group reader');
    api = found;
    const producer = client.producer();
    await producer.connect();
    // Batches of varied sizes, gzip and not, so fetches see several batches per response.
    for (let start = 0; start < N; start += 50) {
      const msgs = Array.from({ length: 50 }, (_, j) => messageOf(start + j));
      await producer.send({ topic: TOPIC, messages: msgs, compression: (start / 50) % 2 ? CompressionTypes.GZIP : CompressionTypes.None });
    }
    await producer.disconnect();
  });
  after(async () => {
    await kafka?.stop();
  });

  it('finds every message kafkajs finds, with the same offset, timestamp, value and headers', async () => {
    for (const partition of [0, 1]) {
      // The mock answers a fetch with one batch: fetch on from each response's end.
      const mine: Array<Record<string, unknown>> = [];
      let next = 0;
      while (next < N / 2) {
        const raw = await fetchAt(api, partition, next);
        const got = (await ours(raw, partition)).map(comparable);
        expect(got.length).to.be.greaterThan(0);
        expect(got).to.deep.equal((await theirs(raw, partition)).map(comparable));
        mine.push(...got);
        next = (got[got.length - 1].offset as number) + 1;
      }
      // The data itself: every message of the partition, in offset order.
      expect(mine.map((m) => m.offset)).to.deep.equal(Array.from({ length: N / 2 }, (_, i) => i));
      const sent = Array.from({ length: N }, (_, i) => i).filter((i) => i % 2 === partition).map(messageOf);
      expect(mine.map((m) => m.timestamp)).to.deep.equal(sent.map((m) => Number(m.timestamp)));
      expect(mine.map((m) => m.value)).to.deep.equal(sent.map((m) => (m.value === null || m.value === undefined ? null : Buffer.from(m.value as Buffer).toString('hex'))));
      // Header codes as the messages were sent (repeated header: the last value counts).
      expect(new Set(mine.map((m) => `${m.framing}/${m.schema}`))).to.have.length.greaterThan(3);
    }
  });

  it('finds kafkajs internals on a real client, and reports their absence (the group-reader fallback) otherwise', () => {
    expect(internalFetchApi(client)).to.not.equal(undefined);
    // Any object without kafkajs' private cluster factory: what an incompatible kafkajs looks like.
    expect(internalFetchApi(Object.create(Kafka.prototype) as Kafka)).to.equal(undefined);
  });

  it('a fetch from the middle of a compressed batch returns the whole batch; offsets say where it starts', async () => {
    const raw = await fetchAt(api, 1, 35); // partition 1 offsets 25-49: the second send, gzip
    const mine = (await ours(raw, 1)).map(comparable);
    expect(mine).to.deep.equal((await theirs(raw, 1)).map(comparable));
    expect(mine[0].offset).to.equal(25);
  });

  it('reads LogAppendTime batches as kafkajs does: every record gets the batch max timestamp', async () => {
    const raw = await fetchAt(api, 0, 0);
    const parsed = parseFetchResponse(raw.payload, raw.version);
    const patched = Buffer.from(raw.payload);
    // Set the timestamp-type bit in every batch's attributes (the CRC is checked by neither).
    for (const b of parsed.topics[0].partitions[0].batches) patched.writeInt16BE(b.attributes | 0x08, b.start + 21);
    const other: RawFetch = { version: raw.version, payload: patched, kafkajsDecode: async () => ({ responses: [] }) };
    const batches = parsed.topics[0].partitions[0].batches;
    const mine = await ours(other, 0);
    expect(mine.length).to.be.greaterThan(0);
    for (const m of mine) {
      const b = batches.find((x) => x.baseOffset <= m.offset && m.offset <= x.lastOffset);
      expect(m.timestamp, `offset ${m.offset}`).to.equal(b?.maxTimestamp);
    }
  });
});
