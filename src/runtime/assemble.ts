// Builds a running gateway from a validated config: logger, metrics (and their HTTP
// endpoint), the bus (Kafka or embedded), state keeper, then the gateway itself. `flowgate
// run` and the end-to-end tests both start the gateway through here, so tests exercise the
// same assembly operators get.

import type { Logger } from 'pino';
import { EmbeddedBus } from '../bus/embedded-bus';
import { KafkaBus, type KafkaBusObserver } from '../bus/kafka-bus';
import { ensureTopics } from '../bus/topic-setup';
import type { Bus } from '../bus/bus';
import type { GatewayConfig } from '../config/types';
import { createLogger } from '../log/logger';
import { RateLimitedLog } from '../log/rate-limited';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { startMetricsServer } from '../metrics/metrics-server';
import { StateKeeper } from '../state/state-keeper';
import { Gateway } from './gateway';
import { Converter } from '../converters/converter';
import { createKafka } from '../bus/kafka-client';
import { registerConverterMetrics } from '../metrics/converter-metrics';
import { isLoopbackHost } from '../config/warnings';
import { worldReadableSecrets } from '../config/secrets';

export interface RunningGateway {
  /** Ingest (listeners → bus); present even without listeners, then it has no sockets. */
  gateway: Gateway;
  converters: Converter[];
  bus: Bus;
  metrics: GatewayMetrics;
  /** Bound address of /metrics, when configured. */
  metricsAddress?: { host: string; port: number };
  log: Logger;
  stop(): Promise<void>;
}

export interface AssembleOptions {
  /** Log destination (default stdout). */
  destination?: { write(line: string): void };
  /** Use this bus instead of building one (tests). */
  bus?: Bus;
}

function metricsObserver(m: GatewayMetrics): KafkaBusObserver {
  return {
    batchSent(topic, records, _messages, seconds) {
      const t = m.topic(topic);
      t.batch();
      t.published(records);
      m.observeProduceLatency(seconds);
    },
    sendFailed(topic, error) {
      m.topic(topic).produceError(error);
    },
    dropped(reason, records) {
      m.kafkaDropped(reason, records);
    },
    connected(up) {
      m.setKafkaConnected(up);
    },
  };
}

export async function startGateway(config: GatewayConfig, o: AssembleOptions = {}): Promise<RunningGateway> {
  const log = createLogger({ level: config.log.level, destination: o.destination });
  const badInput = new RateLimitedLog(log, { perMinute: config.log.bad_input_per_minute });
  const metrics = new GatewayMetrics();
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (config.metrics) {
    server = await startMetricsServer(metrics.registry, config.metrics);
    log.info({ address: server.address }, 'metrics: serving /metrics');
    if (!isLoopbackHost(config.metrics.host)) log.warn({ address: server.address }, 'metrics: /metrics is reachable from other machines (metrics.listen is not a loopback address)');
  }
  for (const w of worldReadableSecrets(config.kafka)) log.warn({ key: w.key, file: w.file, mode: w.mode }, 'secret file is readable by every user');
  let bus: Bus;
  let state: StateKeeper | undefined;
  const ingest = config.listeners.length > 0;
  if (o.bus) bus = o.bus;
  else if (config.kafka && ingest) {
    const kb = new KafkaBus(config.kafka, log, metricsObserver(metrics));
    await ensureTopics(kb.kafka, config.kafka, log);
    await kb.start();
    metrics.onCollect(() => metrics.setKafkaBuffered(kb.stats().buffered, kb.bufferedByteCount));
    bus = kb;
  } else {
    bus = new EmbeddedBus((topic, n) => metrics.topic(topic).published(n));
  }
  const kafkaState = config.kafka && config.kafka.state_topic && bus instanceof KafkaBus
    ? { client: bus.kafka, bus, topic: config.kafka.state_topic, groupPrefix: config.kafka.client_id, loadTimeoutMs: Math.min(config.kafka.timeout_ms, 15_000) }
    : undefined;
  const gateway = new Gateway(config, { bus, log, badInput, metrics });
  if (ingest && (config.state || kafkaState)) {
    state = new StateKeeper(gateway.decoder.state, { directory: config.state?.directory, kafka: kafkaState }, log);
    gateway.attachState(state);
  }
  // Converters first: with the embedded bus they must be subscribed before the first record.
  const converters: Converter[] = [];
  const converterKafka = config.kafka && config.outputs.length ? (bus instanceof KafkaBus ? bus.kafka : createKafka(config.kafka, log)) : undefined;
  for (const oc of config.outputs) {
    const source = converterKafka
      ? { kind: 'kafka' as const, kafka: converterKafka, sessionTimeoutMs: config.kafka?.session_timeout_ms ?? 30_000 }
      : bus instanceof EmbeddedBus
        ? { kind: 'embedded' as const, bus }
        : undefined;
    if (!source) throw new Error(`outputs.${oc.name}: no source (needs kafka or the embedded bus)`);
    const c = new Converter(oc, source, { log, badInput, registry: metrics.registry, config, kafka: converterKafka });
    await c.start();
    converters.push(c);
  }
  registerConverterMetrics(metrics.registry, converters.map((c) => ({
    name: c.config.name,
    type: c.config.type,
    counts: () => ({ ...c.counts, ...c.output.counts() }),
  })));
  if (ingest) await gateway.start();
  return {
    gateway,
    converters,
    bus,
    metrics,
    metricsAddress: server?.address,
    log,
    async stop() {
      // Ingest first (its bus drains into embedded converters), then the converters.
      if (ingest) await gateway.stop();
      else await bus.close();
      for (const c of converters) await c.stop();
      badInput.close();
      if (server) await server.close();
    },
  };
}
