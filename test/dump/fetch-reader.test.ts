// The direct-fetch reader of `dump` (src/dump/fetch-reader.ts) on the mock broker: every
// message of each range exactly once, in offset order, also when the broker goes away in the
// middle of the read and comes back (the reader refreshes metadata and resumes where the
// records it handed on end).

import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { FetchReader } from '../../src/dump/fetch-reader';
import { internalFetchApi } from '../../src/dump/kafkajs-internals';
import type { PartitionRange } from '../../src/dump/offset-plan';
import type { ReaderSettings } from '../../src/dump/reader';
import { startKafkaMock, type KafkaMock } from '../support/kafka-broker';

const TOPIC = 'reader';
const PER_PARTITION = 600;

describe('dump: direct-fetch reader (mock broker)', function () {
  this.timeout(60_000);
  let kafka: KafkaMock;
  let client: Kafka;

  before(async () => {
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 3 }] });
    client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer();
    await producer.connect();
    // 20 sends of 90: the mock answers a fetch with one record batch, so reading takes 20
    // fetches per partition, and an outage can fall between them.
    for (let s = 0; s < 20; s++) {
      await producer.send({
        topic: TOPIC,
        messages: Array.from({ length: 90 }, (_, j) => ({ value: Buffer.from(`m${s * 90 + j}`), partition: (s * 90 + j) % 3, timestamp: String(1_000 + s) })),
      });
    }
    await producer.disconnect();
  });
  after(async () => {
    await kafka?.stop();
  });

  function settings(notes: string[]): ReaderSettings {
    return {
      maxBytes: 1 << 20,
      maxBytesPerPartition: 1 << 20,
      maxWaitMs: 50,
      watermarks: async () => ({ low: 0, high: PER_PARTITION }),
      note: (s) => notes.push(s),
    };
  }

  function ranges(start: number, end: number): PartitionRange[] {
    return [0, 1, 2].map((partition) => ({ partition, start, end, low: 0, high: PER_PARTITION, byTimestamp: true }));
  }

  it('reads each range [start, end) exactly, in order, and stops at its end', async () => {
    const api = internalFetchApi(client);
    if (!api) throw new Error('kafkajs internals missing');
    const seen = new Map<number, number[]>([[0, []], [1, []], [2, []]]);
    const progress = new Map<number, number>();
    await new FetchReader(api, settings([])).read(TOPIC, ranges(95, 410), (b) => {
      (seen.get(b.partition) as number[]).push(...b.messages.map((m) => m.offset));
      progress.set(b.partition, b.next);
    });
    for (const p of [0, 1, 2]) {
      expect(seen.get(p), `partition ${p}`).to.deep.equal(Array.from({ length: 410 - 95 }, (_, i) => 95 + i));
      expect(progress.get(p)).to.equal(410);
    }
  });

  it('survives the broker going away mid-read: no message lost or repeated', async () => {
    const api = internalFetchApi(client);
    if (!api) throw new Error('kafkajs internals missing');
    const seen = new Map<number, number[]>([[0, []], [1, []], [2, []]]);
    let outage = false;
    let batches = 0;
    await new FetchReader(api, settings([])).read(TOPIC, ranges(0, PER_PARTITION), async (b) => {
      (seen.get(b.partition) as number[]).push(...b.messages.map((m) => m.offset));
      if (++batches === 4 && !outage) {
        outage = true;
        await kafka.down();
        setTimeout(() => void kafka.up(), 800);
      }
    });
    expect(outage).to.equal(true);
    for (const p of [0, 1, 2]) expect(seen.get(p), `partition ${p}`).to.deep.equal(Array.from({ length: PER_PARTITION }, (_, i) => i));
  });
});
