// One place that turns the `kafka` config section into a kafkajs client: brokers, SASL and
// TLS (secrets were resolved from the environment by the config loader), compression codecs
// and where kafkajs's own log lines go.

import { readFileSync } from 'node:fs';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Compression, KafkaConfig } from '../config/types';
import type { BusLog } from './bus';

/** kafkajs's compression type for our config value; registers the codec package if needed. */
export function compressionType(c: Compression): CompressionTypes {
  switch (c) {
    case 'none': return CompressionTypes.None;
    case 'gzip': return CompressionTypes.GZIP; // built into kafkajs
    case 'snappy': return registerCodec(CompressionTypes.Snappy, 'kafkajs-snappy', 'snappy');
    case 'lz4': return registerCodec(CompressionTypes.LZ4, 'kafkajs-lz4', 'lz4');
  }
}

function registerCodec(type: CompressionTypes, pkg: string, name: string): CompressionTypes {
  const codecs = CompressionCodecs as unknown as Record<number, (() => unknown) | undefined>;
  if (codecs[type]) return type;
  let mod: unknown;
  try {
    // Optional packages: only operators who choose this compression need them installed.
    mod = require(pkg);
  } catch {
    throw new Error(`kafka.compression: ${name} needs the npm package ${pkg}; install it (npm install ${pkg}) or use gzip`);
  }
  const codec = (mod as { default?: unknown }).default ?? mod;
  if (typeof codec !== 'function') throw new Error(`kafka.compression: ${pkg} does not export a codec factory`);
  codecs[type] = codec as () => unknown;
  return type;
}

function sasl(c: KafkaConfig): SASLOptions | undefined {
  if (!c.sasl) return undefined;
  const { mechanism, username, password } = c.sasl;
  return { mechanism, username, password } as SASLOptions;
}

function tls(c: KafkaConfig): KafkaJsConfig['ssl'] {
  if (!c.tls) return undefined;
  const t = c.tls;
  const read = (f: string | undefined): Buffer | undefined => (f ? readFileSync(f) : undefined);
  return { rejectUnauthorized: t.reject_unauthorized, ca: t.ca_file ? [read(t.ca_file) as Buffer] : undefined, cert: read(t.cert_file), key: read(t.key_file) };
}

const LEVEL: Record<number, keyof BusLog> = {
  [logLevel.ERROR]: 'debug', // connection errors repeat on every retry; the bus logs outages itself
  [logLevel.WARN]: 'debug',
  [logLevel.INFO]: 'debug',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka(c: KafkaConfig, log: BusLog): Kafka {
  return new Kafka({
    clientId: c.client_id,
    brokers: c.brokers,
    ssl: tls(c),
    sasl: sasl(c),
    connectionTimeout: Math.min(c.timeout_ms, 10_000),
    requestTimeout: c.timeout_ms,
    // The bus has its own outage buffer and backoff; kafkajs retrying for half a minute
    // underneath would only hide the outage from it.
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      log[LEVEL[entry.level] ?? 'debug']({ component: 'kafkajs', namespace: entry.namespace, ...rest }, String(message));
    },
  });
}
