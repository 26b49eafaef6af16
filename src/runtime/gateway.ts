// Wires the data path top to bottom: listeners → decoder → canonical encoder → framing →
// bus, with the template state restored before the first datagram and saved as it changes,
// metrics for every step and a one-line summary at an interval.

import { WireBatch } from '../canonical/wire-batch';
import { encodeCounters } from '../canonical/counters-encoder';
import type { Bus, BusLog, BusMessage } from '../bus/bus';
import { COUNTERS_SCHEMA_NAME, RecordFramer, framingHeaders } from '../bus/record-framer';
import type { GatewayConfig } from '../config/types';
import { DatagramDecoder, type ProtocolChoice } from '../decode/datagram-decoder';
import type { DecodeOutput, Exporter } from '../decode/types';
import { UdpListener } from '../ingest/udp-listener';
import { ExporterRateLimit } from '../ingest/exporter-rate-limit';
import { readKernelDrops } from '../ingest/kernel-drops';
import type { RateLimitedLog } from '../log/rate-limited';
import type { GatewayMetrics, ListenerMetrics } from '../metrics/gateway-metrics';
import type { StateKeeper } from '../state/state-keeper';

export const FLOW_TOPIC = 'flows';
export const COUNTERS_TOPIC = 'flow-counters';

export interface GatewayStats {
  datagrams: number;
  records: number;
  counters: number;
  errors: Record<string, number>;
  sequenceGaps: number;
  exporters: Set<string>;
  /** Datagrams dropped undecoded: exporter over decoder.max_records_per_second_per_exporter. */
  throttled: number;
  /** Per listener (same order as config.listeners): the kernel's drop count at the last read. */
  kernelDrops: number[];
}

/** How often kernel drop counters are read besides at every scrape (and in the summary). */
const KERNEL_DROPS_INTERVAL_MS = 5000;

export interface GatewayParts {
  bus: Bus;
  log: BusLog;
  /** Rate-limited log for bad input (malformed datagrams are normal on an open port). */
  badInput?: RateLimitedLog;
  metrics?: GatewayMetrics;
  state?: StateKeeper;
  /** Summary lines go here (default: the log at info). */
  summary?: (fields: Record<string, unknown>) => void;
}

const NOOP_LOG: BusLog = { debug() {}, info() {}, warn() {}, error() {} };

export class Gateway {
  readonly decoder: DatagramDecoder;
  readonly listeners: UdpListener[];
  readonly stats: GatewayStats = { datagrams: 0, records: 0, counters: 0, errors: {}, sequenceGaps: 0, exporters: new Set(), throttled: 0, kernelDrops: [] };
  readonly topic: string;
  readonly countersTopic: string;
  private readonly bus: Bus;
  private readonly log: BusLog;
  private readonly framer: RecordFramer;
  private readonly countersHeaders = framingHeaders('raw', COUNTERS_SCHEMA_NAME);
  // One reused batch: the decoder writes a datagram's records into it as protobuf.
  private readonly batch = new WireBatch();
  private readonly timers: NodeJS.Timeout[] = [];
  private lastLearned = 0;
  private lastExpired = 0;
  private stateVersion = '';
  private readonly rateLimit: ExporterRateLimit | undefined;
  private listenerMetrics: Array<ListenerMetrics | undefined> = [];

  constructor(private readonly config: GatewayConfig, private readonly parts: GatewayParts) {
    const c = config.decoder;
    this.bus = parts.bus;
    this.log = parts.log ?? NOOP_LOG;
    this.topic = config.kafka?.topic ?? FLOW_TOPIC;
    this.countersTopic = config.kafka?.counters_topic ?? COUNTERS_TOPIC;
    this.framer = new RecordFramer(config.kafka?.framing ?? 'raw', config.kafka?.key ?? 'none', config.kafka?.delimited_max_bytes);
    this.decoder = new DatagramDecoder({
      keepUnmapped: c.keep_unmapped_fields,
      templateLimits: {
        expiryUs: c.template_expiry_seconds * 1e6,
        maxTemplatesPerExporter: c.max_templates_per_exporter,
        maxFieldsPerTemplate: c.max_fields_per_template,
        maxFieldsPerExporter: c.max_fields_per_exporter,
      },
      pendingLimits: {
        maxBytesPerExporter: c.pending_max_bytes_per_exporter,
        maxBytesTotal: c.pending_max_bytes_total,
        maxAgeUs: c.pending_max_age_seconds * 1e6,
      },
    });
    this.rateLimit = c.max_records_per_second_per_exporter > 0 ? new ExporterRateLimit(c.max_records_per_second_per_exporter) : undefined;
    this.listeners = config.listeners.map((spec) => new UdpListener(spec, (b, ex, t, p) => this.onDatagram(b, ex, t, p)));
    const m = parts.metrics;
    if (m) {
      m.onCollect(() => {
        const t = this.decoder.state.templates;
        m.setTemplatesActive(t.size);
        m.setPendingBytes(this.decoder.state.pending.bytes);
        if (t.learnedTotal > this.lastLearned) m.templatesLearned(t.learnedTotal - this.lastLearned);
        if (t.expiredTotal > this.lastExpired) m.templatesExpired(t.expiredTotal - this.lastExpired);
        this.lastLearned = t.learnedTotal;
        this.lastExpired = t.expiredTotal;
      });
    }
  }

  /** The state keeper needs the decoder's state, so it is attached after construction. */
  attachState(keeper: StateKeeper): void {
    this.parts.state = keeper;
  }

  /** Restores state, then opens the sockets: the first datagram already finds its templates. */
  async start(): Promise<void> {
    if (this.parts.state) {
      const n = await this.parts.state.restore();
      this.parts.metrics?.setStateRestoredTemplates(n);
      this.stateVersion = this.stateMark();
    }
    for (const l of this.listeners) {
      await l.start();
      const a = l.address();
      const name = a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : `${l.spec.host}:${l.spec.port}`;
      const lm = this.parts.metrics?.listener(name, l.spec.protocol);
      this.listenerMetrics.push(lm);
      if (lm) {
        l.onError(() => lm.receiveError());
        l.onDenied(() => lm.denied());
      } else l.onError(() => undefined);
      const rcvbuf = l.receiveBufferBytes();
      lm?.setReceiveBufferBytes(rcvbuf);
      const rb = l.receiveBuffer;
      this.log.info({
        address: a?.address, port: a?.port, protocol: l.spec.protocol, receive_buffer_bytes: rcvbuf,
        receive_buffer_requested: rb?.requested, allow: l.spec.allow,
      }, 'listening');
      if (rb?.shortfall) this.log.warn({ address: a?.address, port: a?.port, requested: rb.requested, receive_buffer_bytes: rcvbuf, sysctl: 'net.core.rmem_max' }, `listener ${name}: ${rb.shortfall}`);
    }
    if (this.listeners.length) {
      this.readKernelDrops();
      this.every(KERNEL_DROPS_INTERVAL_MS, () => this.readKernelDrops());
      this.parts.metrics?.onCollect(() => this.readKernelDrops());
    }
    if (this.config.summary_interval_seconds > 0) {
      this.every(this.config.summary_interval_seconds * 1000, () => this.emitSummary());
    }
    if (this.parts.state && this.config.state) {
      this.every(this.config.state.save_interval_seconds * 1000, () => this.saveState(false));
    }
  }

  /**
   * Reads the kernel's per-socket drop counters (/proc/net/udp, udp6) into stats and metrics.
   * Runs at start, every few seconds and at every scrape; cheap enough for that (two small
   * files and /proc/self/fd), far too dear for the datagram path.
   */
  readKernelDrops(): number[] {
    const totals = readKernelDrops(this.listeners.map((l) => l.address()));
    totals.forEach((t, i) => {
      if (t === undefined) return;
      this.stats.kernelDrops[i] = t;
      this.listenerMetrics[i]?.kernelDrops(t);
    });
    return this.stats.kernelDrops;
  }

  /** Closes the sockets, saves state, flushes the bus. Nothing held is silently lost. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.listeners.some((l) => l.address())) this.readKernelDrops();
    for (const l of this.listeners) await l.stop();
    // After the sockets closed: the sequence numbers saved now are where this process
    // stopped reading, so the next start counts everything after them as a gap.
    this.saveState(true, true);
    await this.bus.close();
    this.emitSummary();
  }

  summaryFields(): Record<string, unknown> {
    const s = this.stats;
    const b = this.bus.stats();
    return {
      datagrams: s.datagrams, records: s.records, counter_samples: s.counters, exporters: s.exporters.size,
      sequence_gaps: s.sequenceGaps, templates: this.decoder.state.templates.size, pending_bytes: this.decoder.state.pending.bytes,
      published: b.published, buffered: b.buffered, dropped: b.dropped, errors: s.errors,
      denied: this.listeners.reduce((n, l) => n + l.denied, 0), throttled: s.throttled,
      kernel_drops: s.kernelDrops.reduce((n, d) => n + d, 0),
    };
  }

  private emitSummary(): void {
    const f = this.summaryFields();
    if (this.parts.summary) this.parts.summary(f);
    else this.log.info(f, 'summary');
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Changes whenever what the state keeper saves changes: templates learned, expired or withdrawn, options values. */
  private stateMark(): string {
    const st = this.decoder.state;
    return `${st.templates.learnedTotal}/${st.templates.expiredTotal}/${st.templates.size}/${st.options.changes}`;
  }


  private saveState(force: boolean, final = false): void {
    const keeper = this.parts.state;
    if (!keeper) return;
    const mark = this.stateMark();
    if (!force && mark === this.stateVersion) return;
    this.stateVersion = mark;
    const before = keeper.counts.saveErrors;
    keeper.save(Date.now(), final);
    if (keeper.counts.saveErrors > before) this.parts.metrics?.stateSaveError();
    else this.parts.metrics?.stateSaved();
  }

  private onDatagram(b: Buffer, exporter: Exporter, receivedUs: number, protocol: ProtocolChoice): void {
    // Over its record rate an exporter's datagrams are dropped undecoded (its own bucket:
    // others are unaffected). Without the limit this is one test of a field.
    const bucket = this.rateLimit?.admit(exporter.addressText, receivedUs);
    if (this.rateLimit && bucket === undefined) {
      this.stats.throttled++;
      this.parts.metrics?.exporterLimited(exporter.addressText, 'records_per_second');
      return;
    }
    const batch = this.batch;
    batch.reset();
    const out = this.decoder.decodeWire(b, exporter, receivedUs, protocol, batch);
    if (bucket !== undefined) ExporterRateLimit.charge(bucket, batch.count);
    const s = this.stats;
    s.datagrams++;
    // Bounded: spoofed sources must not grow it without end (the count is for the summary).
    if (s.exporters.size >= 100_000) s.exporters.clear();
    s.exporters.add(exporter.key);
    s.records += batch.count;
    s.counters += out.counters.length;
    s.sequenceGaps += out.sequenceGap;
    if (out.errors.length) this.countErrors(out, exporter);
    this.parts.metrics?.observeDatagram(exporter.addressText, b.length, out, batch.count);
    if (batch.count) this.bus.publish(this.topic, this.framer.frame(batch, exporter));
    if (out.counters.length) this.publishCounters(out);
  }

  private countErrors(out: DecodeOutput, exporter: Exporter): void {
    const s = this.stats;
    for (const e of out.errors) {
      s.errors[e.reason] = (s.errors[e.reason] ?? 0) + e.count;
      if (e.reason === 'template_limit' || e.reason === 'pending_overflow') this.parts.metrics?.exporterLimited(e.exporter ?? exporter.addressText, e.reason, e.count);
      // Held data is not an error yet: it decodes when the template comes.
      if (e.reason !== 'template_missing') this.parts.badInput?.badInput(e.reason, e.detail, { exporter: exporter.key, protocol: out.protocol ?? 'unknown' });
    }
  }

  private publishCounters(out: DecodeOutput): void {
    const msgs: BusMessage[] = [];
    for (const c of out.counters) msgs.push({ key: null, value: encodeCounters(c), headers: this.countersHeaders, records: 0 });
    this.bus.publish(this.countersTopic, msgs);
  }
}
