// Creates flowgate's topics when it may. Many production clusters forbid topic creation by
// clients (and librdkafka's mock cluster rejects the admin call), so a failure is a warning:
// the topics are then expected to exist or to be auto-created by the broker.

import type { Kafka } from 'kafkajs';
import type { KafkaConfig } from '../config/types';
import type { BusLog } from './bus';
import { withTimeout } from '../util/with-timeout';

export async function ensureTopics(kafka: Kafka, c: KafkaConfig, log: BusLog): Promise<boolean> {
  if (!c.create_topics) return false;
  const topics = [
    { topic: c.topic, numPartitions: c.topic_partitions, replicationFactor: c.replication_factor },
    { topic: c.counters_topic, numPartitions: 1, replicationFactor: c.replication_factor },
  ];
  if (c.state_topic) {
    topics.push({
      topic: c.state_topic, numPartitions: 1, replicationFactor: c.replication_factor,
      // Compaction keeps the newest document per exporter key.
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    } as (typeof topics)[number]);
  }
  const admin = kafka.admin();
  try {
    await withTimeout(admin.connect(), c.timeout_ms, () => new Error(`no answer within ${c.timeout_ms} ms`));
    const created = await withTimeout(admin.createTopics({ topics, waitForLeaders: true, timeout: c.timeout_ms }), c.timeout_ms,
      () => new Error(`no answer within ${c.timeout_ms} ms`));
    log.info({ topics: topics.map((t) => t.topic), created }, 'kafka: topics ensured');
    return true;
  } catch (e) {
    log.warn({ topics: topics.map((t) => t.topic), error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) },
      'kafka: createTopics failed; relying on existing or broker auto-created topics');
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
