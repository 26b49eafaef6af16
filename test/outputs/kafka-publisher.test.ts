// The publisher behind split and reduce, against the real Kafka-protocol mock broker: durable
// advances only over batches Kafka acknowledged, in order; during an outage nothing becomes
// durable and nothing is dropped; after the broker returns every batch is delivered once per
// send (read back with kcat) and durable reaches the end.

import { expect } from 'chai';
import { Kafka, logLevel } from 'kafkajs';
import { newFlowRecord } from '../../src/canonical/flow-record';
import { parseConfig } from '../../src/config/config';
import { recordsOf } from '../../src/converters/message-records';
import { KafkaPublisher } from '../../src/outputs/kafka-publisher';
import { RecordMessages } from '../../src/outputs/record-messages';
import { startKafkaMock, type KafkaMock } from '../support/kafka-broker';
import { readTopic } from '../support/kcat';
import { waitFor } from '../support/gateway-harness';
import type { FlowRecord } from '../../src/canonical/flow-record';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('KafkaPublisher (split/reduce output side)', function () {
  this.timeout(120_000);
  let kafka: KafkaMock;
  let publisher: KafkaPublisher | undefined;

  before(async () => {
    kafka = await startKafkaMock({ topics: [{ name: 'pub-a', partitions: 2 }, { name: 'pub-b', partitions: 2 }] });
  });
  afterEach(async () => {
    await kafka.up();
    await publisher?.close();
    publisher = undefined;
  });
  after(async () => {
    await kafka?.stop();
  });

  it('holds durable back during an outage, drops nothing, and delivers everything after it', async () => {
    const config = parseConfig(`kafka: { brokers: [${kafka.brokers.map((b) => JSON.stringify(b)).join(', ')}], framing: delimited, key: exporter, timeout_ms: 5000 }\noutputs: [{ type: csv, directory: /tmp/unused }]`);
    const k = config.kafka;
    if (!k) throw new Error('no kafka section');
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } });
    const p = new KafkaPublisher(client, k, quiet, 'test');
    publisher = p;
    const durables: number[] = [];
    p.onDurable((d) => durables.push(d));
    const messages = new RecordMessages(k.framing, k.key, 2000);
    let written = 0;
    const batch = (n: number): void => {
      const copies = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const r = newFlowRecord();
        r.sequence_num = written + i;
        r.exporter_address = Uint8Array.from([192, 0, 2, (written + i) % 3]);
        const e = messages.encode(r);
        const topic = (written + i) % 2 ? 'pub-a' : 'pub-b';
        messages.add(topic, e);
        copies.set(topic, (copies.get(topic) ?? 0) + 1);
      }
      written += n;
      p.publish(messages.take(), written, copies);
    };

    batch(100);
    await waitFor(() => p.durableCount === 100, 30_000, () => `first batch acknowledged (durable ${p.durableCount})`);
    await kafka.down();
    for (let i = 0; i < 5; i++) batch(100);
    await waitFor(() => p.stats.sendFailures > 0, 30_000, () => 'a failed send while the broker is down');
    expect(p.durableCount, 'nothing acknowledged while down becomes durable').to.equal(100);
    await kafka.up();
    await waitFor(() => p.durableCount === 600, 60_000, () => `all batches acknowledged after up (durable ${p.durableCount})`);
    expect(durables, 'durable only moves forward').to.deep.equal([...durables].sort((a, b) => a - b));

    const seqs: number[] = [];
    for (const topic of ['pub-a', 'pub-b']) {
      const recs: FlowRecord[] = [];
      for (const m of await readTopic(kafka.bootstrap, topic, { minRecords: 1 })) {
        expect(m.headers['flowgate-framing']).to.equal('delimited');
        expect(m.key?.toString()).to.match(/^192\.0\.2\.[0-2]$/);
        expect(recordsOf(m.value, m.headers, recs)).to.equal(true);
      }
      for (const r of recs) expect(r.sequence_num % 2 ? 'pub-a' : 'pub-b').to.equal(topic);
      seqs.push(...recs.map((r) => r.sequence_num));
    }
    const distinct = new Set(seqs);
    expect(distinct.size, 'every record delivered').to.equal(600);
    // A send that failed on the client side may still have reached the broker before it went
    // away; then its retry repeats it. Count, never lose.
    process.stdout.write(`      (${p.stats.sendFailures} failed sends retried; ${seqs.length - distinct.size} duplicate records)\n`);
  });
});
