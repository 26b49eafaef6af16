// One place that turns the `kafka` config section into a kafkajs client: brokers, SASL and
// TLS (secrets were resolved from the environment or files by the config loader), compression
// codecs and where kafkajs's own log lines go.

import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
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

/** What a client needs to authenticate: the kafka section's sasl and tls (secrets resolved). */
export type KafkaSecurity = Pick<KafkaConfig, 'sasl' | 'tls'>;

function sasl(c: KafkaSecurity): SASLOptions | undefined {
  if (!c.sasl) return undefined;
  const { mechanism, username, password } = c.sasl;
  // kafkajs' SASLOptions is a union keyed by mechanism; ours are all username + password ones.
  return { mechanism, username, password } as SASLOptions;
}

function tls(c: KafkaSecurity): KafkaJsConfig['ssl'] {
  if (!c.tls) return undefined;
  const t = c.tls;
  // Only the keys the config gives, so what kafkajs hands to tls.connect is exactly what the
  // operator configured (and what test/unit/kafka-security.test.ts checks key by key).
  const ssl: TlsOptions = { rejectUnauthorized: t.reject_unauthorized };
  if (t.ca_file) ssl.ca = [readFileSync(t.ca_file)];
  if (t.cert_file) ssl.cert = readFileSync(t.cert_file);
  if (t.key_file) ssl.key = readFileSync(t.key_file);
  if (t.key_passphrase) ssl.passphrase = t.key_passphrase;
  return ssl;
}

/**
 * The sasl and ssl options of a kafkajs client, from the config's kafka section. Every client
 * flowgate makes (bus, state store, converters, `flowgate dump`) gets its security here, so
 * one config applies everywhere. Reads the PEM files; throws when one cannot be read.
 */
export function kafkaSecurityOptions(c: KafkaSecurity): Pick<KafkaJsConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaJsConfig, 'ssl' | 'sasl'> = {};
  const ssl = tls(c);
  if (ssl) out.ssl = ssl;
  const s = sasl(c);
  if (s) out.sasl = s;
  return out;
}

const LEVEL: Record<number, keyof BusLog> = {
  [logLevel.ERROR]: 'debug', // connection errors repeat on every retry; the bus logs outages itself
  [logLevel.WARN]: 'debug',
  [logLevel.INFO]: 'debug',
  [logLevel.DEBUG]: 'debug',
};

/** The kafkajs client configuration for the gateway's kafka section, as passed to new Kafka(). */
export function kafkaClientConfig(c: KafkaConfig, log: BusLog): KafkaJsConfig {
  return {
    clientId: c.client_id,
    brokers: c.brokers,
    ...kafkaSecurityOptions(c),
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
  };
}

export function createKafka(c: KafkaConfig, log: BusLog): Kafka {
  return new Kafka(kafkaClientConfig(c, log));
}
