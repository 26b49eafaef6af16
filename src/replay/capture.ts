// Which datagrams of a capture are replayed: flow datagrams only (by the decoder's own protocol
// detection), optionally only those sent to one port, each tagged with its original exporter.

import { detectProtocol } from '../decode/datagram-decoder';
import type { Protocol } from '../decode/types';
import { streamCaptureFile, type CapturedDatagram } from '../pcap/reader';
import { ipToText } from '../util/ip';

export interface ReplayDatagram {
  /** "address|port" of the original exporter (the capture's UDP source), as Exporter.key. */
  readonly exporterKey: string;
  readonly timestampUs: number;
  readonly protocol: Protocol;
  /** Original UDP destination port. */
  readonly dstPort: number;
  readonly payload: Buffer;
}

export interface ReplayCapture {
  /** In capture order. */
  readonly datagrams: ReplayDatagram[];
  /** Distinct original exporters among `datagrams`. */
  readonly exporters: number;
  /** Packets in the file (selectFlowDatagrams: datagrams it was given). */
  readonly packets: number;
  /** Reason -> count: the reader's reasons, plus `not_flow` and `port_filter`. */
  readonly skipped: Record<string, number>;
}

export interface SelectOptions {
  /** Keep only datagrams whose original destination port is this. */
  port?: number;
}

/** Filters and tags datagrams as they come; shared by the file loader and by selectFlowDatagrams. */
class FlowDatagramSelector {
  readonly datagrams: ReplayDatagram[] = [];
  readonly skipped: Record<string, number> = {};
  private readonly keys = new Set<string>();

  constructor(private readonly opts: SelectOptions = {}) {}

  add(d: CapturedDatagram): void {
    if (this.opts.port !== undefined && d.dstPort !== this.opts.port) return this.skip('port_filter');
    const protocol = detectProtocol(d.payload);
    if (protocol === undefined) return this.skip('not_flow');
    const exporterKey = `${ipToText(d.srcAddr)}|${d.srcPort}`;
    this.keys.add(exporterKey);
    // A copy, so the kept datagrams do not pin the reader's multi-megabyte chunks.
    this.datagrams.push({ exporterKey, timestampUs: d.timestampUs, protocol, dstPort: d.dstPort, payload: Buffer.from(d.payload) });
  }

  skip(reason: string, n = 1): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + n;
  }

  get exporters(): number {
    return this.keys.size;
  }
}

export function selectFlowDatagrams(captured: Iterable<CapturedDatagram>, opts: SelectOptions = {}): ReplayCapture {
  const sel = new FlowDatagramSelector(opts);
  let packets = 0;
  for (const d of captured) {
    sel.add(d);
    packets++;
  }
  return { datagrams: sel.datagrams, exporters: sel.exporters, packets, skipped: sel.skipped };
}

/** Throws (with the reader's message) only when the file cannot be read or is no capture. */
export function loadReplayDatagrams(file: string, opts: SelectOptions = {}): ReplayCapture {
  const sel = new FlowDatagramSelector(opts);
  const r = streamCaptureFile(file, (d) => sel.add(d));
  for (const [reason, n] of Object.entries(r.skipped)) sel.skip(reason, n);
  return { datagrams: sel.datagrams, exporters: sel.exporters, packets: r.packets, skipped: sel.skipped };
}
