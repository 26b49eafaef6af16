// Wires the data path top to bottom: listeners → decoder → canonical encoder → bus, and
// prints a one-line summary of what it received at an interval.

import { WireBatch } from '../canonical/wire-batch';
import type { Bus, BusMessage } from '../bus/bus';
import type { GatewayConfig } from '../config/config';
import { DatagramDecoder, type ProtocolChoice } from '../decode/datagram-decoder';
import type { Exporter } from '../decode/types';
import { UdpListener } from '../ingest/udp-listener';

export const FLOW_TOPIC = 'flows';
export const COUNTERS_TOPIC = 'flow-counters';

export interface GatewayStats {
  datagrams: number;
  records: number;
  counters: number;
  errors: Record<string, number>;
  sequenceGaps: number;
  exporters: Set<string>;
}

export class Gateway {
  readonly decoder: DatagramDecoder;
  readonly listeners: UdpListener[];
  readonly stats: GatewayStats = { datagrams: 0, records: 0, counters: 0, errors: {}, sequenceGaps: 0, exporters: new Set() };
  // One reused batch: the decoder writes a datagram's records into it as protobuf.
  private readonly batch = new WireBatch();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly bus: Bus,
    private readonly log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  ) {
    const c = config.decoder;
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
    this.listeners = config.listeners.map((spec) => new UdpListener(spec, (b, ex, t, p) => this.onDatagram(b, ex, t, p)));
  }

  async start(): Promise<void> {
    for (const l of this.listeners) await l.start();
    for (const l of this.listeners) {
      const a = l.address();
      this.log(JSON.stringify({ level: 'info', msg: 'listening', address: a?.address, port: a?.port, protocol: l.spec.protocol }));
    }
    if (this.config.summary_interval_seconds > 0) {
      this.timer = setInterval(() => this.log(this.summaryLine()), this.config.summary_interval_seconds * 1000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const l of this.listeners) await l.stop();
    await this.bus.close();
    this.log(this.summaryLine());
  }

  summaryLine(): string {
    const s = this.stats;
    return JSON.stringify({
      level: 'info', msg: 'summary', datagrams: s.datagrams, records: s.records, counter_samples: s.counters,
      exporters: s.exporters.size, sequence_gaps: s.sequenceGaps, templates: this.decoder.state.templates.size,
      pending_bytes: this.decoder.state.pending.bytes, errors: s.errors,
    });
  }

  private onDatagram(b: Buffer, exporter: Exporter, receivedUs: number, protocol: ProtocolChoice): void {
    const batch = this.batch;
    batch.reset();
    const out = this.decoder.decodeWire(b, exporter, receivedUs, protocol, batch);
    const s = this.stats;
    s.datagrams++;
    // Bounded: spoofed sources must not grow it without end (the count is for the summary).
    if (s.exporters.size >= 100_000) s.exporters.clear();
    s.exporters.add(exporter.key);
    s.records += batch.count;
    s.counters += out.counters.length;
    s.sequenceGaps += out.sequenceGap;
    for (const e of out.errors) s.errors[e.reason] = (s.errors[e.reason] ?? 0) + e.count;
    if (batch.count) {
      const values = batch.messages();
      const msgs: BusMessage[] = new Array(values.length);
      for (let i = 0; i < values.length; i++) msgs[i] = { key: null, value: values[i] };
      this.bus.publish(FLOW_TOPIC, msgs);
    }
  }
}
