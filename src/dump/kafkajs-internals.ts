// The pieces of kafkajs (2.2.x) that its public API does not export and the direct-fetch
// reader (fetch-reader.ts) needs:
//   - a Cluster built from a Kafka client's own settings (brokers, TLS, SASL, timeouts,
//     retry), for metadata, leaders and broker connections;
//   - a Fetch request sent on a broker's connection (kafkajs' own request encoder, version
//     negotiation, SASL and connection handling) whose response body comes back as bytes,
//     for fetch-response.ts and record-batch.ts to parse;
//   - kafkajs' own response decoder for the same bytes, the fallback for what those parsers
//     leave alone (pre-0.11 message sets, transactions with aborted messages), and its
//     aborted-transaction filter and protocol error table.
//
// Why not the public consumer: it always joins a consumer group, and a new group's first
// join waits for the broker's group.initial.rebalance.delay.ms (3 s by default on Apache
// Kafka, a fixed 3 s on the librdkafka mock) before its first fetch: 30 % of a 1M-record dump
// at 100,000 records/s. And it decodes every record into objects (Long offsets, header maps,
// Buffer views), ~6 µs per message, more than all of dump's own work per record.
//
// Everything is checked when the reader is set up (shapes, not just presence). A mismatch (a
// kafkajs upgrade that moved these internals) makes internalFetchApi() return undefined and
// `dump` falls back to the public consumer-group reader (group-reader.ts) with a note.

import type { Kafka, KafkaMessage } from 'kafkajs';

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** A partition of a response as kafkajs decodes it. */
export interface KafkajsFetchPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset?: string;
  abortedTransactions?: AbortedTransaction[];
  messages: Array<KafkaMessage & { isControlRecord?: boolean }>;
}

export interface KafkajsFetchResponse {
  responses: Array<{ topicName: string; partitions: KafkajsFetchPartition[] }>;
}

export interface FetchRequest {
  maxWaitTime: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
}

/** A Fetch response body as bytes, with the version that says how to read it. */
export interface RawFetch {
  version: number;
  payload: Buffer;
  /** kafkajs' decoding of the same bytes (slow path). */
  kafkajsDecode(): Promise<KafkajsFetchResponse>;
}

export interface InternalBroker {
  readonly lookupRequest: (apiKey: number, definition: unknown) => (args: Record<string, unknown>) => ProtocolRequest;
}

export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  /** Leader node id (as an object key) → partitions it leads. */
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(query: { nodeId: string }): Promise<InternalBroker>;
}

interface ProtocolRequest {
  request: { apiVersion: number };
  response: { decode(b: Buffer): Promise<unknown>; parse(d: unknown): Promise<unknown> };
  requestTimeout?: number;
}

export type AbortFilter = (o: { messages: KafkajsFetchPartition['messages']; abortedTransactions: AbortedTransaction[] }) => KafkajsFetchPartition['messages'];

export interface InternalFetchApi {
  createCluster(): InternalCluster;
  fetchRaw(broker: InternalBroker, request: FetchRequest): Promise<RawFetch>;
  filterAborted: AbortFilter;
  /** kafkajs' error for a protocol error code (type, retriable); OFFSET_OUT_OF_RANGE names the partition. */
  protocolError(code: number, topic: string, partition: number): Error;
}

/** kafkajs' isolation levels (protocol values). */
export const READ_COMMITTED = 1;

const CLUSTER_METHODS = ['connect', 'disconnect', 'addTargetTopic', 'refreshMetadata', 'findLeaderForPartitions', 'findBroker'] as const;

function isObject(v: unknown): v is Record<string | symbol, unknown> {
  return typeof v === 'object' && v !== null;
}

function isCluster(c: unknown): c is InternalCluster {
  return isObject(c) && CLUSTER_METHODS.every((m) => typeof c[m] === 'function');
}

function privateSymbol(o: object, description: string): symbol | undefined {
  for (let p: object | null = o; p; p = Object.getPrototypeOf(p) as object | null) {
    const s = Object.getOwnPropertySymbols(p).find((x) => x.description === description);
    if (s) return s;
  }
  return undefined;
}

function load(path: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path) as unknown;
  } catch {
    return undefined;
  }
}

/** kafkajs' internal fetch API for this client, or undefined when this kafkajs lacks it. */
export function internalFetchApi(kafka: Kafka): InternalFetchApi | undefined {
  const createSym = privateSymbol(kafka, 'private:Kafka:createCluster');
  const create = createSym ? (kafka as unknown as Record<symbol, unknown>)[createSym] : undefined;
  const filterAborted = load('kafkajs/src/consumer/filterAbortedMessages');
  const requestsModule = load('kafkajs/src/protocol/requests');
  const apiKeys = load('kafkajs/src/protocol/requests/apiKeys');
  const errorModule = load('kafkajs/src/protocol/error');
  const errorsModule = load('kafkajs/src/errors');
  if (typeof create !== 'function' || typeof filterAborted !== 'function') return undefined;
  if (!isObject(requestsModule) || !isObject(requestsModule.requests) || !isObject(requestsModule.requests.Fetch)) return undefined;
  if (!isObject(apiKeys) || typeof apiKeys.Fetch !== 'number') return undefined;
  if (!isObject(errorModule) || typeof errorModule.createErrorFromCode !== 'function') return undefined;
  if (!isObject(errorsModule) || typeof errorsModule.KafkaJSOffsetOutOfRange !== 'function') return undefined;
  const fetchDefinition = requestsModule.requests.Fetch;
  const fetchKey = apiKeys.Fetch;
  const createErrorFromCode = errorModule.createErrorFromCode as (code: number) => Error;
  const OffsetOutOfRange = errorsModule.KafkaJSOffsetOutOfRange as new (e: Error, o: { topic: string; partition: number }) => Error;

  const createCluster = (): InternalCluster => {
    // The settings kafka.consumer() passes: no topic auto-creation (a dump must not create
    // the topic it was asked to read), read-committed like the consumer's default.
    const c: unknown = (create as (o: Record<string, unknown>) => unknown).call(kafka, {
      metadataMaxAge: 300_000,
      allowAutoTopicCreation: false,
      maxInFlightRequests: null,
      instrumentationEmitter: null,
      isolationLevel: READ_COMMITTED,
    });
    if (!isCluster(c)) throw new Error('kafkajs internals changed: the cluster lacks the methods the fetch reader uses');
    return c;
  };

  const fetchRaw = async (broker: InternalBroker, request: FetchRequest): Promise<RawFetch> => {
    if (typeof broker.lookupRequest !== 'function') throw new Error('kafkajs internals changed: broker.lookupRequest is missing');
    const built = broker.lookupRequest(fetchKey, fetchDefinition)({ replicaId: -1, rackId: '', ...request });
    const version = built.request.apiVersion;
    // The response body is handed back as it came off the socket: decode and parse are
    // identities here, and parsing happens in fetch-response.ts.
    const passThrough = {
      decode: async (payload: Buffer) => ({ payload, clientSideThrottleTime: 0 }),
      parse: async (d: unknown) => d,
    };
    const sendSym = privateSymbol(broker, 'private:Broker:sendRequest');
    const send = sendSym ? (broker as unknown as Record<symbol, unknown>)[sendSym] : undefined;
    const pool = (broker as unknown as { connectionPool?: { send?: unknown } }).connectionPool;
    const req = { ...built, response: passThrough };
    let result: unknown;
    if (typeof send === 'function') result = await (send as (r: unknown) => Promise<unknown>).call(broker, req);
    else if (pool && typeof pool.send === 'function') result = await (pool.send as (r: unknown) => Promise<unknown>).call(pool, req);
    else throw new Error('kafkajs internals changed: no way to send a request on a broker');
    const payload = isObject(result) ? result.payload : undefined;
    if (!Buffer.isBuffer(payload)) throw new Error('kafkajs internals changed: a fetch response body is not a Buffer');
    return {
      version,
      payload,
      kafkajsDecode: async () => (await built.response.parse(await built.response.decode(payload))) as KafkajsFetchResponse,
    };
  };

  const protocolError = (code: number, topic: string, partition: number): Error => {
    const e = createErrorFromCode(code);
    // 1 = OFFSET_OUT_OF_RANGE: kafkajs' consumer reports it with the partition, as do we.
    return code === 1 ? new OffsetOutOfRange(e, { topic, partition }) : e;
  };

  try {
    createCluster();
  } catch {
    return undefined;
  }
  return { createCluster, fetchRaw, filterAborted: filterAborted as AbortFilter, protocolError };
}
