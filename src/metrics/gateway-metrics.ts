// The gateway's Prometheus metrics: one GatewayMetrics per process (tests may create several),
// each owning its own prom-client Registry so nothing leaks into the library's global one.
// docs/METRICS.md lists every metric; the names are a contract with dashboards and tests.
//
// How the owner uses it (the data path lives elsewhere; this is the whole surface):
//
//   const metrics = new GatewayMetrics({ version, maxExporters: 1000 });
//   const server = await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: 9590 });
//
//   // per listener, once at start:
//   const lm = metrics.listener('0.0.0.0:2055', 'auto');     // sets flowgate_listener_info
//   socket.on('error', () => lm.receiveError());
//
//   // per datagram, after decoding (hot path, ~50,000/s):
//   metrics.observeDatagram(exporter.addressText, datagram.length, out, batch.count);
//   // ...which is exporter(...).datagram/records/counterSamples/gap + decodeErrors(out.errors);
//   // callers that already hold a handle can call those directly.
//
//   // state gauges are pulled, not pushed: the callback runs once per scrape.
//   metrics.onCollect(() => {
//     metrics.setTemplatesActive(decoder.state.templates.size);
//     metrics.setPendingBytes(decoder.state.pending.bytes);
//     metrics.setKafkaBuffered(producer.bufferedRecords, producer.bufferedBytes);
//   });
//
//   // Kafka path, per produce request (not per record):
//   const t = metrics.topic('flows');
//   t.batch(); t.published(n); metrics.observeProduceLatency(seconds);
//   t.produceError(err.name);  metrics.kafkaDropped('buffer_full', n);  metrics.setKafkaConnected(true);
//
// Why counters are "deferred": prom-client's child.inc() hashes the label set and validates it
// on every call (hundreds of ns). The hot path instead adds to a plain number in a Cell, and each
// counter's collect hook (run by prom-client whenever the registry is read) moves the pending
// delta into prom-client. A scrape therefore always sees every increment made before it.
//
// Exporter label: the exporter's address text ("192.0.2.1", "2001:db8::1"), without the UDP
// port. Exporters send from changing source ports (per process, per line card, after restarts);
// dashboards want one series per device, and a port in the label would multiply cardinality.
// The number of exporter label values is bounded (maxExporters): later exporters are folded
// into exporter="other" and counted in flowgate_exporters_folded_total.
//
// Measured cost per call (test/unit/metrics.test.ts "micro-benchmark"; Node 20 on this 2-core
// machine; 1000 exporters round-robin so lookups are not all cache-hot; the ~4 ns of the
// benchmark loop itself subtracted):
//   handle.datagram(bytes)                                  ~5 ns
//   handle.records(n)                                       ~4 ns
//   metrics.exporter(addressText, protocol), cached        ~24 ns (a Map lookup by address)
//   metrics.observeDatagram(addr, bytes, out, n), no errors ~40 ns
//   metrics.decodeErrors([one error])                       ~4 ns
//   for comparison, prom-client child.inc(n)              ~360 ns
// So at 50,000 datagrams/s the metrics cost about 2 ms of CPU per second (0.2 % of a core).
// Hot loops that keep their own per-exporter state can hold the handle and skip the lookup.

import * as fs from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DecodeError, DecodeOutput, ErrorReason, Protocol } from '../decode/types';
import { packagePath } from '../util/paths';

/** Protocol label value: a decoded protocol, or "unknown" when no decoder recognised the datagram. */
export type ProtocolLabel = Protocol | 'unknown';

/** Why the Kafka producer dropped records (label of flowgate_kafka_dropped_records_total). */
export type KafkaDropReason =
  | 'buffer_full'        // outage buffer at its record or byte limit: the newest records are refused
  | 'message_too_large'  // the broker rejects the message for its size; retrying cannot help
  | 'shutdown';          // still buffered when the shutdown flush gave up

/** Why an exporter was held to its limits (label of flowgate_exporter_limited_total). */
export type ExporterLimitReason =
  | 'records_per_second' // decoder.max_records_per_second_per_exporter: datagrams dropped undecoded
  | 'template_limit'     // a template refused: max_templates_per_exporter / max_fields_per_* reached
  | 'pending_overflow';  // a held data set dropped: pending_max_bytes_per_exporter (or _total) reached

export const KAFKA_DROP_REASONS: readonly KafkaDropReason[] = ['buffer_full', 'message_too_large', 'shutdown'];

// A Record over the union makes the compiler reject a reason added to ErrorReason but not here,
// so every reason is pre-initialised to 0 and dashboards never miss a series.
const REASONS: Record<ErrorReason, true> = {
  unknown_protocol: true, short_datagram: true, bad_header: true, bad_set: true, truncated: true,
  bad_template: true, template_limit: true, template_missing: true, pending_overflow: true,
  pending_expired: true, bad_record: true, unsupported: true, no_system_init_time: true,
  sequence_gap: true, internal_error: true,
};
export const DECODE_ERROR_REASONS: readonly ErrorReason[] = Object.keys(REASONS) as ErrorReason[];

const PROTOCOL_LABELS: readonly ProtocolLabel[] = ['netflow5', 'netflow9', 'ipfix', 'sflow', 'unknown'];

export const OTHER_EXPORTER = 'other';
/** Label value that replaces free-form label values (Kafka error names) past their bound. */
export const OTHER_LABEL = 'other';

/** Produce round trips range from sub-millisecond (local broker) to the request timeout. */
export const PRODUCE_LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const MAX_PRODUCE_ERROR_NAMES = 32;

export interface GatewayMetricsOptions {
  /** flowgate_build_info{version}; default: the version in package.json. */
  version?: string;
  /** Distinct exporter label values before folding into "other"; default 1000. */
  maxExporters?: number;
  /** How many folded exporter addresses are remembered so each is counted once in
   * flowgate_exporters_folded_total; default max(10 * maxExporters, 10000). The memory is
   * cleared when full (spoofed sources must not grow it), after which addresses count again. */
  maxFoldedRemembered?: number;
  /** Process/Node.js metrics (flowgate_process_*, flowgate_nodejs_*); default true. */
  defaultMetrics?: boolean;
}

/** Turns a cumulative total kept elsewhere into increments. A smaller total than last time
 * means its owner was re-created (socket, decoder), so the new total is all new. */
class TotalTracker {
  private last = 0;

  delta(total: number): number {
    const d = total >= this.last ? total - this.last : total;
    this.last = total;
    return d;
  }
}

/** A pending increment; the owning counter moves it into prom-client at collect time. */
class Cell {
  n = 0;
  constructor(readonly labels: Readonly<Record<string, string>>) {}
}

class DeferredCounter<L extends string> {
  private readonly cells: Cell[] = [];
  readonly counter: Counter<L>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[], beforeCollect: () => void) {
    const cells = this.cells;
    this.counter = new Counter<L>({
      name, help, labelNames, registers: [registry],
      collect(this: Counter<L>): void {
        beforeCollect();
        for (const c of cells) {
          if (c.n !== 0) {
            const n = c.n;
            c.n = 0;
            this.inc(c.labels as Partial<Record<L, string>>, n);
          }
        }
      },
    });
  }

  /** A new series, exposed at 0 from now on. Callers keep the Cell; never call twice per label set. */
  cell(labels: Readonly<Record<L, string>>): Cell {
    const c = new Cell(labels);
    this.counter.inc(labels as Partial<Record<L, string>>, 0);
    this.cells.push(c);
    return c;
  }
}

/** Per (exporter, protocol) hot-path counters. Obtain from GatewayMetrics.exporter(); cached. */
export class ExporterMetrics {
  /** @internal construct through GatewayMetrics.exporter() */
  constructor(
    /** The exporter label value: the address text, or "other" when folded. */
    readonly exporter: string,
    readonly protocol: ProtocolLabel,
    private readonly datagrams: Cell,
    private readonly bytes: Cell,
    private readonly decoded: Cell,
    private readonly counterSampleCell: Cell,
    private readonly gaps: Cell,
  ) {}

  /** One datagram of `bytes` bytes received (whether or not it decoded). */
  datagram(bytes: number): void {
    this.datagrams.n++;
    this.bytes.n += bytes;
  }

  /** Flow records decoded (and handed to the encoder). */
  records(n: number): void {
    this.decoded.n += n;
  }

  /** sFlow counter samples decoded. */
  counterSamples(n: number): void {
    this.counterSampleCell.n += n;
  }

  /** Units the exporter's sequence numbers say were lost upstream (DecodeOutput.sequenceGap). */
  gap(n: number): void {
    this.gaps.n += n;
  }
}

// One slot per protocol, all present from construction, so every entry has the same shape and
// the per-datagram lookup stays a monomorphic field load.
class ExporterEntry {
  readonly handles: Record<ProtocolLabel, ExporterMetrics | undefined> = {
    netflow5: undefined, netflow9: undefined, ipfix: undefined, sflow: undefined, unknown: undefined,
  };
  constructor(readonly label: string) {}
}

/** Per Kafka topic counters. Obtain from GatewayMetrics.topic(); cached. */
export class TopicMetrics {
  private readonly errors = new Map<string, Cell>();

  /** @internal construct through GatewayMetrics.topic() */
  constructor(
    readonly topic: string,
    private readonly publishedCell: Cell,
    private readonly batches: Cell,
    private readonly errorCounter: DeferredCounter<'topic' | 'error'>,
  ) {}

  /** Records the broker acknowledged on this topic. */
  published(n: number): void {
    this.publishedCell.n += n;
  }

  /** One produce request sent to this topic. */
  batch(): void {
    this.batches.n++;
  }

  /** A failed produce request; `error` is a short stable name (kafkajs error.type or .name),
   * never a message. At most 32 series per topic: the 32nd distinct name and later ones count as "other". */
  produceError(error: string): void {
    let c = this.errors.get(error);
    if (c === undefined) {
      // One slot stays free for "other", so a topic never has more than the bound in series.
      if (this.errors.size >= MAX_PRODUCE_ERROR_NAMES - 1) {
        c = this.errors.get(OTHER_LABEL) ?? this.newError(OTHER_LABEL);
      } else {
        c = this.newError(error);
      }
    }
    c.n++;
  }

  private newError(error: string): Cell {
    const c = this.errorCounter.cell({ topic: this.topic, error });
    this.errors.set(error, c);
    return c;
  }
}

/** Per UDP listener metrics. Obtain from GatewayMetrics.listener(); cached. */
export class ListenerMetrics {
  private readonly kernelDropTotal = new TotalTracker();

  /** @internal construct through GatewayMetrics.listener() */
  constructor(
    readonly listener: string,
    private readonly receiveErrors: Cell,
    private readonly deniedCell: Cell,
    private readonly kernelDropCell: Cell,
    private readonly receiveBuffer: Gauge<'listener'>,
  ) {}

  /** The socket reported a receive error. */
  receiveError(): void {
    this.receiveErrors.n++;
  }

  /** Datagrams dropped before decoding because their source is outside the allowlist. */
  denied(n = 1): void {
    this.deniedCell.n += n;
  }

  /** The kernel's cumulative drop count for this socket (/proc/net/udp "drops"): pass the
   * absolute value each time it is read; the counter advances by the difference. A smaller value
   * means the socket was re-created, and the new value counts in full. */
  kernelDrops(total: number): void {
    this.kernelDropCell.n += this.kernelDropTotal.delta(total);
  }

  /** The socket's effective SO_RCVBUF (what the kernel granted, not what was asked). */
  setReceiveBufferBytes(bytes: number): void {
    this.receiveBuffer.set({ listener: this.listener }, bytes);
  }
}

type ReasonCells = Record<ErrorReason, { readonly events: Cell; readonly units: Cell }>;

export class GatewayMetrics {
  readonly registry: Registry;
  readonly maxExporters: number;

  private readonly collectors: Array<() => void> = [];
  private collecting = false;

  private readonly exporterByAddress = new Map<string, ExporterEntry>();
  private readonly foldedAddresses = new Map<string, ExporterEntry>();
  private readonly maxFoldedRemembered: number;
  private readonly otherEntry = new ExporterEntry(OTHER_EXPORTER);
  private readonly topics = new Map<string, TopicMetrics>();
  private readonly listeners = new Map<string, ListenerMetrics>();

  private readonly datagramsReceived: DeferredCounter<'exporter' | 'protocol'>;
  private readonly bytesReceived: DeferredCounter<'exporter' | 'protocol'>;
  private readonly recordsDecoded: DeferredCounter<'exporter' | 'protocol'>;
  private readonly counterSamplesTotal: DeferredCounter<'exporter'>;
  private readonly sequenceGaps: DeferredCounter<'exporter' | 'protocol'>;
  private readonly counterSampleByExporter = new Map<string, Cell>();
  private readonly exporterLimitedCounter: DeferredCounter<'exporter' | 'reason'>;
  private readonly exporterLimitedCells = new Map<string, Cell>();
  private readonly reasons: ReasonCells;
  private readonly pendingLost: Cell;
  private readonly foldedCell: Cell;
  private readonly templatesExpiredCell: Cell;
  private readonly templatesLearnedCell: Cell;
  private readonly collectErrors: Cell;
  private readonly learnedTotal = new TotalTracker();
  private readonly expiredTotal = new TotalTracker();

  private readonly socketReceiveErrors: DeferredCounter<'listener'>;
  private readonly datagramsDenied: DeferredCounter<'listener'>;
  private readonly kernelDropsCounter: DeferredCounter<'listener'>;
  private readonly receiveBufferGauge: Gauge<'listener'>;
  private readonly listenerInfo: Gauge<'listener' | 'protocol'>;

  private readonly recordsPublished: DeferredCounter<'topic'>;
  private readonly kafkaBatches: DeferredCounter<'topic'>;
  private readonly kafkaProduceErrors: DeferredCounter<'topic' | 'error'>;
  private readonly produceLatency: Histogram<string>;
  private readonly kafkaDroppedCells: Record<KafkaDropReason, Cell>;
  private readonly kafkaBufferedRecords: Gauge<string>;
  private readonly kafkaBufferedBytes: Gauge<string>;
  private readonly kafkaConnected: Gauge<string>;

  private readonly templatesActive: Gauge<string>;
  private readonly pendingBytes: Gauge<string>;
  private readonly exportersTracked: Gauge<string>;

  private readonly stateSaves: Cell;
  private readonly stateSaveErrors: Cell;
  private readonly stateRestoredTemplates: Gauge<string>;

  constructor(options: GatewayMetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    this.maxExporters = Math.max(0, Math.floor(options.maxExporters ?? 1000));
    this.maxFoldedRemembered = Math.max(1, Math.floor(options.maxFoldedRemembered ?? Math.max(10 * this.maxExporters, 10_000)));
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'flowgate_' });

    const before = (): void => this.beforeCollect();
    const counter = <L extends string>(name: string, help: string, labels: readonly L[]): DeferredCounter<L> =>
      new DeferredCounter<L>(registry, name, help, labels, before);
    const single = (name: string, help: string): Cell => counter<never>(name, help, []).cell({});
    const gauge = (name: string, help: string): Gauge<string> =>
      new Gauge({ name, help, registers: [registry], collect: before });

    // --- ingest and decode
    this.datagramsReceived = counter('flowgate_datagrams_received_total',
      'UDP datagrams received, by exporter address and detected protocol', ['exporter', 'protocol']);
    this.bytesReceived = counter('flowgate_bytes_received_total',
      'UDP payload bytes received, by exporter address and detected protocol', ['exporter', 'protocol']);
    this.recordsDecoded = counter('flowgate_records_decoded_total',
      'Flow records decoded, by exporter address and protocol', ['exporter', 'protocol']);
    this.counterSamplesTotal = counter('flowgate_counter_samples_total',
      'sFlow counter samples decoded, by exporter address', ['exporter']);
    this.sequenceGaps = counter('flowgate_sequence_gaps_total',
      'Loss ledger: units the exporter sequence numbers say were lost before reaching us ' +
      '(netflow5/ipfix: records, netflow9: export packets, sflow: flow samples)', ['exporter', 'protocol']);
    const errorEvents = counter('flowgate_decode_errors_total',
      'Decode problems by reason, one per datagram/set/record affected (reason=sequence_gap: sFlow datagram sequence jumps)', ['reason']);
    const errorUnits = counter('flowgate_decode_error_units_total',
      'Units (records, sets or datagrams) the decode problems stand for, by reason', ['reason']);
    const reasons: Partial<ReasonCells> = {};
    for (const reason of DECODE_ERROR_REASONS) {
      reasons[reason] = { events: errorEvents.cell({ reason }), units: errorUnits.cell({ reason }) };
    }
    this.reasons = reasons as ReasonCells;
    this.exporterLimitedCounter = counter('flowgate_exporter_limited_total',
      'Per-exporter limits applied, by exporter address and reason: records_per_second (datagrams dropped undecoded), ' +
      'template_limit (templates refused), pending_overflow (held data sets dropped)', ['exporter', 'reason']);
    this.pendingLost = single('flowgate_pending_lost_total',
      'Loss ledger: data sets dropped from the pending queue (pending_overflow + pending_expired units)');
    this.foldedCell = single('flowgate_exporters_folded_total',
      'Exporter addresses counted under exporter="other" because the exporter label limit was reached');
    this.exportersTracked = gauge('flowgate_exporters_tracked', 'Distinct exporter label values in use (at most the configured limit)');
    this.templatesActive = gauge('flowgate_templates_active', 'Templates currently known (NetFlow v9 and IPFIX, all exporters)');
    this.templatesExpiredCell = single('flowgate_templates_expired_total', 'Templates dropped because no refresh arrived in time');
    this.templatesLearnedCell = single('flowgate_templates_learned_total', 'Template definitions learned or replaced');
    this.pendingBytes = gauge('flowgate_pending_bytes', 'Bytes of data sets held while waiting for their template');

    // --- sockets
    this.socketReceiveErrors = counter('flowgate_socket_receive_errors_total', 'Receive errors reported by a UDP socket', ['listener']);
    this.datagramsDenied = counter('flowgate_datagrams_denied_total',
      'Datagrams dropped before decoding: source outside the listener allowlist', ['listener']);
    this.kernelDropsCounter = counter('flowgate_socket_kernel_drops_total',
      'Loss ledger: datagrams the kernel dropped on the socket (receive buffer full), from /proc/net/udp', ['listener']);
    this.receiveBufferGauge = new Gauge({ name: 'flowgate_socket_receive_buffer_bytes',
      help: 'Effective socket receive buffer size granted by the kernel', labelNames: ['listener'], registers: [registry] });
    this.listenerInfo = new Gauge({ name: 'flowgate_listener_info',
      help: 'Configured UDP listeners (value always 1)', labelNames: ['listener', 'protocol'], registers: [registry] });

    // --- bus / Kafka
    this.recordsPublished = counter('flowgate_records_published_total', 'Records accepted by the bus (acknowledged by Kafka)', ['topic']);
    this.kafkaBatches = counter('flowgate_kafka_batches_total', 'Kafka produce requests sent', ['topic']);
    this.kafkaProduceErrors = counter('flowgate_kafka_produce_errors_total', 'Failed Kafka produce requests, by error name', ['topic', 'error']);
    this.produceLatency = new Histogram({ name: 'flowgate_kafka_produce_latency_seconds',
      help: 'Time from sending a Kafka produce request to its acknowledgement',
      buckets: [...PRODUCE_LATENCY_BUCKETS], registers: [registry] });
    const dropped = counter('flowgate_kafka_dropped_records_total',
      'Loss ledger: records dropped by the Kafka producer, by reason', ['reason']);
    const droppedCells: Partial<Record<KafkaDropReason, Cell>> = {};
    for (const reason of KAFKA_DROP_REASONS) droppedCells[reason] = dropped.cell({ reason });
    this.kafkaDroppedCells = droppedCells as Record<KafkaDropReason, Cell>;
    this.kafkaBufferedRecords = gauge('flowgate_kafka_buffered_records', 'Records waiting for Kafka (outage buffer and batches in flight)');
    this.kafkaBufferedBytes = gauge('flowgate_kafka_buffered_bytes', 'Bytes of records waiting for Kafka');
    this.kafkaConnected = gauge('flowgate_kafka_connected', '1 while the Kafka producer is connected, else 0 (also 0 without Kafka)');

    // --- state
    this.stateSaves = single('flowgate_state_saves_total', 'Template/sampling state snapshots written');
    this.stateSaveErrors = single('flowgate_state_save_errors_total', 'Template/sampling state snapshots that failed to write');
    this.stateRestoredTemplates = gauge('flowgate_state_restored_templates', 'Templates restored from saved state at start');

    this.collectErrors = single('flowgate_metrics_collect_errors_total', 'onCollect callbacks that threw during a scrape');

    const buildInfo = new Gauge({ name: 'flowgate_build_info', help: 'flowgate version (value always 1)',
      labelNames: ['version'], registers: [registry] });
    buildInfo.set({ version: options.version ?? packageVersion() }, 1);
  }

  // ---------------------------------------------------------------- hot path

  /**
   * The cached counters of one exporter address and protocol. Cheap on a hit (one Map lookup);
   * the first call for a new address past maxExporters returns the exporter="other" handle.
   * `address` is Exporter.addressText (no port).
   */
  exporter(address: string, protocol: ProtocolLabel): ExporterMetrics {
    const entry = this.exporterByAddress.get(address) ?? this.admit(address);
    return entry.handles[protocol] ?? this.createHandle(entry, protocol);
  }

  /**
   * Everything one decoded datagram contributes: datagram and bytes, `records` decoded (the
   * wire batch count, or out.flows.length), counter samples, sequence gap and decode errors.
   */
  observeDatagram(address: string, bytes: number, out: DecodeOutput, records: number): ExporterMetrics {
    const h = this.exporter(address, out.protocol ?? 'unknown');
    h.datagram(bytes);
    if (records !== 0) h.records(records);
    if (out.counters.length !== 0) h.counterSamples(out.counters.length);
    if (out.sequenceGap !== 0) h.gap(out.sequenceGap);
    if (out.errors.length !== 0) this.decodeErrors(out.errors);
    return h;
  }

  /** Counts each error under its reason; pending_overflow/pending_expired also feed pending_lost. */
  decodeErrors(errors: readonly DecodeError[]): void {
    for (let i = 0; i < errors.length; i++) {
      const e = errors[i];
      this.decodeError(e.reason, e.count);
    }
  }

  /** One decode problem standing for `count` units (records, sets, datagrams). */
  decodeError(reason: ErrorReason, count = 1): void {
    // An unknown string can only come from an untyped caller; count it rather than throw.
    const c = this.reasons[reason] ?? this.reasons.internal_error;
    c.events.n++;
    c.units.n += count;
    if (reason === 'pending_overflow' || reason === 'pending_expired') this.pendingLost.n += count;
  }

  /**
   * An exporter held to one of its limits, `n` times (datagrams for records_per_second,
   * templates for template_limit, data sets for pending_overflow). Same exporter label folding
   * as the other per-exporter series. Not on every datagram: only when a limit bites.
   */
  exporterLimited(address: string, reason: ExporterLimitReason, n = 1): void {
    const label = (this.exporterByAddress.get(address) ?? this.admit(address)).label;
    const key = `${label}|${reason}`;
    let c = this.exporterLimitedCells.get(key);
    if (c === undefined) {
      c = this.exporterLimitedCounter.cell({ exporter: label, reason });
      this.exporterLimitedCells.set(key, c);
    }
    c.n += n;
  }

  // ---------------------------------------------------------------- decoder state

  /**
   * For owners that keep cumulative totals (TemplateCache.learnedTotal/expiredTotal): pass the
   * absolute values, e.g. from an onCollect callback; the counters advance by the difference.
   * A total smaller than the last one means its owner was re-created, and counts in full.
   * Use this or templatesLearned/templatesExpired, not both.
   */
  setTemplateTotals(learned: number, expired: number): void {
    this.templatesLearnedCell.n += this.learnedTotal.delta(learned);
    this.templatesExpiredCell.n += this.expiredTotal.delta(expired);
  }

  templatesLearned(n = 1): void {
    this.templatesLearnedCell.n += n;
  }

  templatesExpired(n = 1): void {
    this.templatesExpiredCell.n += n;
  }

  /** Meant for an onCollect callback. */
  setTemplatesActive(n: number): void {
    this.templatesActive.set(n);
  }

  /** Meant for an onCollect callback. */
  setPendingBytes(n: number): void {
    this.pendingBytes.set(n);
  }

  // ---------------------------------------------------------------- listeners

  /** The metrics of one UDP listener ("0.0.0.0:2055"); the first call sets flowgate_listener_info. */
  listener(listener: string, protocol: string): ListenerMetrics {
    let l = this.listeners.get(listener);
    if (l === undefined) {
      this.listenerInfo.set({ listener, protocol }, 1);
      l = new ListenerMetrics(listener, this.socketReceiveErrors.cell({ listener }), this.datagramsDenied.cell({ listener }),
        this.kernelDropsCounter.cell({ listener }), this.receiveBufferGauge);
      this.listeners.set(listener, l);
    }
    return l;
  }

  // ---------------------------------------------------------------- bus / Kafka

  /** The counters of one topic; cached. Topics come from the config, so they are few. */
  topic(topic: string): TopicMetrics {
    let t = this.topics.get(topic);
    if (t === undefined) {
      t = new TopicMetrics(topic, this.recordsPublished.cell({ topic }), this.kafkaBatches.cell({ topic }), this.kafkaProduceErrors);
      this.topics.set(topic, t);
    }
    return t;
  }

  /** One produce request's round trip, in seconds. */
  observeProduceLatency(seconds: number): void {
    this.produceLatency.observe(seconds);
  }

  kafkaDropped(reason: KafkaDropReason, n: number): void {
    this.kafkaDroppedCells[reason].n += n;
  }

  /** Meant for an onCollect callback. */
  setKafkaBuffered(records: number, bytes: number): void {
    this.kafkaBufferedRecords.set(records);
    this.kafkaBufferedBytes.set(bytes);
  }

  setKafkaConnected(connected: boolean): void {
    this.kafkaConnected.set(connected ? 1 : 0);
  }

  // ---------------------------------------------------------------- persistent state

  stateSaved(): void {
    this.stateSaves.n++;
  }

  stateSaveError(): void {
    this.stateSaveErrors.n++;
  }

  setStateRestoredTemplates(n: number): void {
    this.stateRestoredTemplates.set(n);
  }

  // ---------------------------------------------------------------- collection

  /**
   * Runs `fn` once per scrape (any read of the registry), before values are exposed, so gauges
   * that mirror state are set only when someone looks. A callback that throws is counted in
   * flowgate_metrics_collect_errors_total and does not fail the scrape. Returns an unsubscribe.
   */
  onCollect(fn: () => void): () => void {
    this.collectors.push(fn);
    return () => {
      const i = this.collectors.indexOf(fn);
      if (i >= 0) this.collectors.splice(i, 1);
    };
  }

  /** The exposition text (what GET /metrics serves). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  // Every metric fed by callbacks or Cells calls this from its collect hook. prom-client calls
  // all collect hooks of one registry read synchronously, so the flag (cleared in a microtask)
  // makes the callbacks run once per scrape whichever metric comes first; if a read ever spanned
  // ticks the callbacks would merely run again.
  private beforeCollect(): void {
    if (this.collecting) return;
    this.collecting = true;
    queueMicrotask(() => {
      this.collecting = false;
    });
    this.exportersTracked.set(this.exporterByAddress.size + (this.otherUsed() ? 1 : 0));
    for (const fn of this.collectors) {
      try {
        fn();
      } catch {
        this.collectErrors.n++;
      }
    }
  }

  private otherUsed(): boolean {
    for (const p of PROTOCOL_LABELS) if (this.otherEntry.handles[p] !== undefined) return true;
    return false;
  }

  private admit(address: string): ExporterEntry {
    const folded = this.foldedAddresses.get(address);
    if (folded !== undefined) return folded;
    if (this.exporterByAddress.size < this.maxExporters) {
      const entry = new ExporterEntry(address);
      this.exporterByAddress.set(address, entry);
      return entry;
    }
    if (this.foldedAddresses.size >= this.maxFoldedRemembered) this.foldedAddresses.clear();
    this.foldedAddresses.set(address, this.otherEntry);
    this.foldedCell.n++;
    return this.otherEntry;
  }

  private createHandle(entry: ExporterEntry, protocol: ProtocolLabel): ExporterMetrics {
    if (!PROTOCOL_LABELS.includes(protocol)) protocol = 'unknown';
    const existing = entry.handles[protocol];
    if (existing !== undefined) return existing;
    const exporter = entry.label;
    const labels = { exporter, protocol };
    let samples = this.counterSampleByExporter.get(exporter);
    if (samples === undefined) {
      samples = this.counterSamplesTotal.cell({ exporter });
      this.counterSampleByExporter.set(exporter, samples);
    }
    const h = new ExporterMetrics(exporter, protocol, this.datagramsReceived.cell(labels), this.bytesReceived.cell(labels),
      this.recordsDecoded.cell(labels), samples, this.sequenceGaps.cell(labels));
    entry.handles[protocol] = h;
    return h;
  }
}

function packageVersion(): string {
  try {
    const pkg: unknown = JSON.parse(fs.readFileSync(packagePath('package.json'), 'utf8'));
    if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // a missing or odd package.json must not stop the gateway; the label says so instead
  }
  return 'unknown';
}
