// The netflow9 output: canonical records → NetFlow v9 export packets (RFC 3954) → UDP to each
// collector. Records are grouped by source ID (one per original exporter and observation
// domain by default); each source ID fills its own packet up to the MTU and sends it when
// full or `flush_ms` after its first record. Durability (src/converters/output.ts): a record
// is durable once the packet holding it has been handed to every target's socket.
//
// Throughput: `npm run bench -- netflow9` (docs/PERFORMANCE.md).

import type { FlowRecord } from '../../canonical/flow-record';
import type { Netflow9OutputConfig } from '../../config/types';
import type { OutputContext } from '../../converters/converter';
import type { FlowOutput, OutputCounts } from '../../converters/output';
import { Durability } from '../csv/durability';
import type { RecordContext } from './field-writers';
import { registerNetflow9, type Netflow9Counts } from './netflow9-metrics';
import { PacketSender } from './packet-sender';
import { packetPlan } from './packet-plan';
import { SourceIds } from './source-ids';
import { SourceStream, unexportable, type ExportPacket, type PacketToken, type SkipReason, type StreamShared } from './source-stream';
import { parseTarget, type Target } from './targets';
import { loadExportTemplates } from './template-file';

// write() keeps taking records while fewer packets than this wait to be sent; beyond it,
// ready() holds the converter (pacing, or a slow socket) so memory stays bounded.
const MAX_QUEUED_PACKETS = 512;

export interface Netflow9Stats {
  records: number;
  skipped: number;
  packets: number;
  sendErrors: number;
}

export class Netflow9Output implements FlowOutput {
  readonly id: string;
  private readonly durability = new Durability();
  private readonly sender: PacketSender;
  private readonly streams = new Map<number, SourceStream>();
  private readonly sourceIds: SourceIds;
  private readonly shared: StreamShared;
  private readonly ctx: RecordContext = { firstSwitched: 0, lastSwitched: 0, clamped: 0 };
  private readonly counts_: Netflow9Counts;
  private readyWaiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private reportScheduled = false;
  private closed = false;
  readonly stats: Netflow9Stats = { records: 0, skipped: 0, packets: 0, sendErrors: 0 };

  constructor(private readonly config: Netflow9OutputConfig, private readonly out: OutputContext, private readonly clock: () => number = Date.now) {
    this.id = `netflow9:${config.name}`;
    const targets = config.targets.map((t): Target => {
      const r = parseTarget(t);
      if (typeof r === 'string') throw new Error(`outputs ${config.name}: targets: ${r}`);
      return r;
    });
    const plan = packetPlan(loadExportTemplates(config.template_file));
    this.shared = {
      ...plan,
      mtu: config.mtu,
      refreshPackets: config.template_refresh.packets,
      refreshMs: config.template_refresh.seconds * 1000,
      ctx: this.ctx,
      opened: (t) => this.durability.opened(t, t.firstSeq),
      emit: (p) => this.emit(p),
    };
    const perTarget = targets.map((t) => ({ text: t.text, packets: 0, bytes: 0, errors: 0 }));
    this.counts_ = {
      name: config.name,
      records: 0,
      skipped: new Map(),
      targets: perTarget,
      templatePackets: 0,
      clamped: 0,
      rebases: () => [...this.streams.values()].reduce((n, s) => n + s.rebases, 0),
      sources: () => this.streams.size,
      queued: () => this.sender.pending,
      sourceInfo: [],
    };
    registerNetflow9(out.registry, this.counts_);
    this.sourceIds = new SourceIds(config.source_id === 'per-exporter' ? undefined : config.source_id, (a) => {
      this.counts_.sourceInfo.push(a);
      this.out.log.info({ output: this.id, source_id: a.id, exporter: a.exporter, domain: a.domain }, 'netflow9: new source ID');
    });
    this.sender = new PacketSender(targets, config.rate_limit, {
      sent: (p, _t, i) => {
        perTarget[i].packets++;
        perTarget[i].bytes += p.bytes.length;
      },
      failed: (p, t, i, err) => {
        this.stats.sendErrors++;
        perTarget[i].errors++;
        this.out.badInput.badInput('netflow9_send_error', () => `send of a ${p.bytes.length}-byte export packet to ${t.text} failed: ${err.message}`, { output: this.id });
      },
      done: (p) => this.packetDone(p),
    });
  }

  async start(): Promise<void> {
    await this.sender.start();
    const every = Math.max(5, Math.min(100, Math.floor(this.config.flush_ms / 4)));
    this.timer = setInterval(() => this.flushIdle(this.clock()), every);
    this.timer.unref();
  }

  write(records: readonly FlowRecord[]): void {
    if (this.closed) {
      this.out.log.error({ output: this.id, records: records.length }, 'netflow9 output written to after close(); records not taken');
      return;
    }
    const now = this.clock();
    let ok = 0;
    for (const r of records) {
      const seq = this.durability.next();
      let why: SkipReason | 'internal_error' | undefined;
      try {
        why = unexportable(r) ?? this.stream(this.sourceIds.idFor(r)).add(r, seq, now);
      } catch (e) {
        // An encoder bug must cost one record, not the converter.
        why = 'internal_error';
        this.out.log.error({ output: this.id, err: (e as Error).stack }, 'netflow9: encoding a record threw');
      }
      if (why === undefined) ok++;
      else this.skip(why, r);
    }
    this.stats.records += ok;
    this.counts_.records += ok;
    this.counts_.clamped = this.ctx.clamped;
    this.scheduleReport();
  }

  private skip(why: string, r: FlowRecord): void {
    this.stats.skipped++;
    this.counts_.skipped.set(why, (this.counts_.skipped.get(why) ?? 0) + 1);
    this.out.badInput.badInput(`netflow9_${why}`, () => `record not exportable as NetFlow v9 (${why}): start ${r.time_flow_start_us} µs, end ${r.time_flow_end_us} µs, src ${r.src_addr.length} B, dst ${r.dst_addr.length} B, sampling ${r.sampling_rate}`, { output: this.id });
  }

  private stream(id: number): SourceStream {
    let s = this.streams.get(id);
    if (!s) {
      s = new SourceStream(id, this.shared);
      this.streams.set(id, s);
    }
    return s;
  }

  private emit(p: ExportPacket): void {
    this.stats.packets++;
    if (p.templates) this.counts_.templatePackets++;
    this.sender.send(p);
  }

  private packetDone(p: ExportPacket): void {
    if (p.token) this.durability.completed(p.token as PacketToken);
    this.scheduleReport();
    if (this.readyWaiters.length && this.sender.pending < MAX_QUEUED_PACKETS) for (const w of this.readyWaiters.splice(0)) w();
  }

  // `durable` looks at every packet still open or in flight: computed once per event-loop turn,
  // not once per packet (the commit it drives is per batch anyway).
  private scheduleReport(): void {
    if (this.reportScheduled) return;
    this.reportScheduled = true;
    setImmediate(() => {
      this.reportScheduled = false;
      this.durability.report();
    });
  }

  private flushIdle(now: number): void {
    for (const s of this.streams.values()) if (s.hasOpenPacket && now - s.openedMs >= this.config.flush_ms) s.flush();
  }

  counts(): OutputCounts {
    return { written: this.durability.written, durable: this.durability.durable() };
  }

  onDurable(listener: (durable: number) => void): void {
    this.durability.onDurable(listener);
  }

  ready(): Promise<void> {
    if (this.sender.pending < MAX_QUEUED_PACKETS) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.streams.values()) s.flush();
    await this.sender.close();
    this.durability.report();
    for (const w of this.readyWaiters.splice(0)) w();
  }
}
