// Everything one NetFlow v9 source ID owns: its sysUptime base, its sequence number (export
// packets sent, RFC 3954 §5.1), when it last sent its templates, which sampling rates the
// collector already knows, and the packet being filled.

import type { FlowRecord } from '../../canonical/flow-record';
import { DatagramBuilder } from './datagram-builder';
import type { RecordContext } from './field-writers';
import { DEFAULT_RECORD_LENGTH, SAMPLER_RECORD_LENGTH, writeDefaultRecord, writeSamplerRecord } from './options-templates';
import type { PacketPlan } from './packet-plan';
import { UptimeBase } from './uptime-base';

export type SkipReason = 'no_ip_address' | 'mixed_address_families' | 'time_out_of_range' | 'sampling_rate_out_of_range' | 'record_too_large';

/** A finished export packet and what it carries, for the sender and for durability. */
export interface ExportPacket {
  bytes: Buffer;
  sourceId: number;
  records: number;
  templates: boolean;
  /** Durability token (absent for a packet of templates only). */
  token: PacketToken | undefined;
}

/** Identifies a packet's records to the output's durability count. */
export interface PacketToken {
  /** Position of the packet's first record among all records written. */
  firstSeq: number;
}

/** What every stream of one output shares. */
export interface StreamShared extends PacketPlan {
  mtu: number;
  refreshPackets: number;
  refreshMs: number;
  ctx: RecordContext;
  /** A packet got its first record: its records are pending until it is sent. */
  opened(token: PacketToken): void;
  emit(p: ExportPacket): void;
}

/** Why a record cannot go into any NetFlow v9 packet, judged before it is given a source ID. */
export function unexportable(r: FlowRecord): SkipReason | undefined {
  const sl = r.src_addr.length;
  const dl = r.dst_addr.length;
  const fam = sl || dl;
  if (fam !== 4 && fam !== 16) return 'no_ip_address';
  if ((sl !== 0 && sl !== fam) || (dl !== 0 && dl !== fam)) return 'mixed_address_families';
  if (r.sampling_rate > 0xffffffff) return 'sampling_rate_out_of_range';
  return undefined;
}

function recordMs(us: number, fallbackUs: number, nowMs: number): number {
  if (us > 0) return Math.floor(us / 1000);
  if (fallbackUs > 0) return Math.floor(fallbackUs / 1000);
  return nowMs;
}

export class SourceStream {
  private readonly uptime = new UptimeBase();
  private sequence = 0;
  private packetsSinceTemplates = 0;
  private lastTemplatesMs = -Infinity;
  private readonly announced = new Map<number, number>();
  private defaultAnnounced = 0;
  private dg: DatagramBuilder | undefined;
  private token: PacketToken | undefined;
  openedMs = 0;
  /** Export time (header unix_secs × 1000) of the open packet, and of the next one opened after a flush. */
  private exportMs = 0;

  constructor(readonly sourceId: number, private readonly sh: StreamShared) {}

  get rebases(): number {
    return this.uptime.rebases;
  }

  get hasOpenPacket(): boolean {
    return this.dg !== undefined;
  }

  /** Encodes one record into the open packet; returns why it was skipped, if it was. */
  add(r: FlowRecord, seq: number, nowMs: number): SkipReason | undefined {
    const sh = this.sh;
    const bad = unexportable(r);
    if (bad) return bad;
    const tpl = (r.src_addr.length || r.dst_addr.length) === 4 ? sh.ipv4 : sh.ipv6;
    const rate = r.sampling_rate;

    const s = recordMs(r.time_flow_start_us, r.time_received_us, nowMs);
    const e = recordMs(r.time_flow_end_us, r.time_received_us, nowMs);
    if (this.dg && !this.uptime.fits(s, e, this.exportMs)) this.flush();
    if (!this.dg) {
      const h = this.uptime.packetTime(s, e, nowMs);
      if (h === undefined) return 'time_out_of_range';
      if (!this.uptime.fits(s, e, h)) this.uptime.rebase(s, e, h);
      this.exportMs = h;
    }

    // Which rate announcement the record needs before it (none if the collector knows it).
    const samplerId = tpl.samplerIdLength > 0 ? r.sampler_id : 0;
    let announce: 0 | 1 | 2 = 0;
    if (rate > 0) {
      if (samplerId !== 0) announce = this.announced.get(samplerId) === rate ? 0 : 1;
      else announce = this.defaultAnnounced === rate ? 0 : 2;
    }

    for (let attempt = 0; attempt < 2; attempt++) {
      // A packet opened after a flush for room keeps the export time and base checked above.
      if (!this.dg) this.open(nowMs);
      const dg = this.dg as DatagramBuilder;
      // Announcements are cleared when templates are (re)sent in open(): look again.
      if (rate > 0 && announce === 0) {
        if (samplerId !== 0) announce = this.announced.get(samplerId) === rate ? 0 : 1;
        else announce = this.defaultAnnounced === rate ? 0 : 2;
      }
      const optId = announce === 1 ? sh.samplerOptionsId : sh.defaultOptionsId;
      const optLen = announce === 1 ? SAMPLER_RECORD_LENGTH : DEFAULT_RECORD_LENGTH;
      const fitsOpt = announce === 0 || dg.roomForNewSet() >= optLen;
      // After an options set the data record needs a new flowset header of its own.
      const fitsData = announce === 0 ? dg.fits(tpl.id, tpl.length) : dg.roomForNewSet() - optLen - 4 - 3 >= tpl.length;
      if (!fitsOpt || !fitsData) {
        if (dg.records === 0 && attempt > 0) return 'record_too_large';
        this.flush();
        continue;
      }
      if (announce === 1) {
        writeSamplerRecord(dg.buf, dg.add(optId, optLen, true), this.sourceId, samplerId > 0xffffffff ? 0xffffffff : samplerId, rate);
        this.announced.set(samplerId, rate);
      } else if (announce === 2) {
        writeDefaultRecord(dg.buf, dg.add(optId, optLen, true), this.sourceId, rate);
        this.defaultAnnounced = rate;
      }
      const base = this.uptime.baseMs as number;
      sh.ctx.firstSwitched = s - base;
      sh.ctx.lastSwitched = e - base;
      tpl.write(dg.buf, dg.add(tpl.id, tpl.length), r, sh.ctx);
      if (dg.records === 0) {
        this.token = { firstSeq: seq };
        sh.opened(this.token);
      }
      dg.records++;
      if (dg.roomForNewSet() < 4 + Math.min(sh.ipv4.length, sh.ipv6.length)) this.flush();
      return undefined;
    }
    return 'record_too_large';
  }

  private open(nowMs: number): void {
    const sh = this.sh;
    const dg = new DatagramBuilder(sh.mtu);
    const due = this.lastTemplatesMs === -Infinity
      || (sh.refreshPackets > 0 && this.packetsSinceTemplates >= sh.refreshPackets)
      || (sh.refreshMs > 0 && nowMs - this.lastTemplatesMs >= sh.refreshMs);
    if (due) {
      dg.addSet(0, sh.templateSet, 2);
      dg.addSet(1, sh.samplerOptionsSet, 1);
      dg.addSet(1, sh.defaultOptionsSet, 1);
      dg.templates = true;
      this.lastTemplatesMs = nowMs;
      this.packetsSinceTemplates = 0;
      // A collector that (re)learns the templates now learns the rates again with them.
      this.announced.clear();
      this.defaultAnnounced = 0;
    }
    this.dg = dg;
    this.openedMs = nowMs;
  }

  /** Finishes the open packet (if any) and hands it to the sender. */
  flush(): void {
    const dg = this.dg;
    if (!dg) return;
    this.dg = undefined;
    // Nothing in it, nothing to send. (A packet of templates only, when a record did not fit
    // after them, is sent: it refreshes the collector.)
    if (dg.empty) return;
    const token = dg.records > 0 ? this.token : undefined;
    this.token = undefined;
    const { uptimeMs, unixSecs } = this.uptime.header(this.exportMs);
    const bytes = dg.finish(uptimeMs, unixSecs, this.sequence, this.sourceId);
    this.sequence = (this.sequence + 1) % 4294967296;
    this.packetsSinceTemplates++;
    this.sh.emit({ bytes, sourceId: this.sourceId, records: dg.records, templates: dg.templates, token });
  }
}
