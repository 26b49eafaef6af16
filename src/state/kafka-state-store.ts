// Template/sampling state in a compacted Kafka topic (kafka.state_topic): one message per
// exporter, keyed by the exporter ("address|port"), so compaction keeps the latest document
// for each and a restarted gateway, or a second one behind the same load balancer, reads
// every exporter's templates at start.
//
// Writing goes through the bus (same outage buffer as flows). Reading happens once at start:
// the end offsets are fetched first, and an empty topic needs no consumer at all; otherwise a
// throw-away consumer group reads from the beginning to those offsets and never commits.

import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Bus, BusLog, BusMessage } from '../bus/bus';
import { withTimeout } from '../util/with-timeout';
import { parseExporterState, STATE_FORMAT, type ExporterState } from './state-snapshot';

export const STATE_HEADERS: Readonly<Record<string, Buffer>> = Object.freeze({ 'flowgate-schema': Buffer.from(STATE_FORMAT) });

export interface KafkaStateLoad {
  docs: ExporterState[];
  rejected: string[];
  /** False when the deadline passed before the end of the topic was reached. */
  complete: boolean;
}

export function stateMessage(d: ExporterState): BusMessage {
  return { key: Buffer.from(d.exporter), value: Buffer.from(JSON.stringify(d)), headers: STATE_HEADERS, records: 0 };
}

export function publishStates(bus: Bus, topic: string, docs: Iterable<ExporterState>): number {
  const msgs = [...docs].map(stateMessage);
  bus.publish(topic, msgs);
  return msgs.length;
}

export async function loadKafkaState(kafka: Kafka, topic: string, groupPrefix: string, timeoutMs: number, log: BusLog): Promise<KafkaStateLoad> {
  const latest = new Map<string, ExporterState>();
  const rejected: string[] = [];
  const admin = kafka.admin();
  let ends: Map<number, bigint>;
  try {
    await admin.connect();
    const offsets = await withTimeout(admin.fetchTopicOffsets(topic), timeoutMs, () => new Error(`timed out after ${timeoutMs} ms fetching state topic offsets`));
    ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } catch (e) {
    // A missing topic (first start, auto-create pending) is an empty state, not a failure.
    const msg = e instanceof Error ? e.message : String(e);
    if (/does not host this topic-partition|UNKNOWN_TOPIC|not exist/i.test(msg)) return { docs: [], rejected, complete: true };
    log.warn({ topic, error: msg }, 'state topic: cannot read offsets; starting without its state');
    return { docs: [], rejected, complete: false };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  if (ends.size === 0) return { docs: [], rejected, complete: true };

  const consumer = kafka.consumer({ groupId: `${groupPrefix}-state-${randomBytes(4).toString('hex')}`, allowAutoTopicCreation: false });
  let complete = false;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const remaining = new Map(ends);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const key = message.key?.toString();
              if (key !== undefined) {
                if (!message.value || message.value.length === 0) latest.delete(key);
                else {
                  try {
                    const d = parseExporterState(JSON.parse(message.value.toString()));
                    if (typeof d === 'string') rejected.push(`${key}: ${d}`);
                    else latest.set(key, d);
                  } catch (e) {
                    rejected.push(`${key}: ${(e as Error).message}`);
                  }
                }
              }
              const end = remaining.get(partition);
              if (end !== undefined && BigInt(message.offset) + 1n >= end) remaining.delete(partition);
              if (remaining.size === 0) resolve();
            },
          })
          .catch(reject);
      }),
      timeoutMs,
      () => new Error(`timed out after ${timeoutMs} ms reading the state topic`),
    );
    complete = true;
  } catch (e) {
    log.warn({ topic, error: e instanceof Error ? e.message : String(e), exporters_read: latest.size }, 'state topic: not read to the end; continuing with what was read');
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return { docs: [...latest.values()], rejected, complete };
}
