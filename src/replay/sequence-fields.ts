// Where the sequence numbers and export times sit in a flow datagram, and how far each
// sequence number advances per datagram. Stream names are at least as fine as the decoder's
// (DatagramDecoder keys v5 by engine, v9 by source id, IPFIX by observation domain, sFlow by
// agent, sub-agent and data source), so an offset computed per stream here keeps every stream
// the gateway tracks continuous.

import type { Protocol } from '../decode/types';
import type { IpfixRecordCounter } from './ipfix-record-count';

export interface SequenceField {
  /** Byte offset of the 32-bit big-endian sequence number in the datagram. */
  offset: number;
  stream: string;
  value: number;
  /** How far this datagram moves the stream on; undefined when it cannot be known. */
  advance: number | undefined;
}

export const enum TimeField {
  None = 0,
  /** v5: unix_secs at 8, unix_nsecs at 12. */
  Netflow5 = 1,
  /** v9: unix_secs at 8. */
  Netflow9 = 2,
  /** IPFIX: export time (seconds) at 4. */
  Ipfix = 3,
}

export function timeFieldOf(protocol: Protocol, b: Buffer): TimeField {
  switch (protocol) {
    case 'netflow5': return b.length >= 24 ? TimeField.Netflow5 : TimeField.None;
    case 'netflow9': return b.length >= 20 ? TimeField.Netflow9 : TimeField.None;
    case 'ipfix': return b.length >= 16 ? TimeField.Ipfix : TimeField.None;
    case 'sflow': return TimeField.None; // sFlow carries only the agent's uptime, no wall clock
  }
}

export function writeTime(kind: TimeField, b: Buffer, nowMs: number): void {
  const secs = Math.floor(nowMs / 1000) >>> 0;
  switch (kind) {
    case TimeField.Netflow5:
      b.writeUInt32BE(secs, 8);
      b.writeUInt32BE(Math.floor(nowMs % 1000) * 1_000_000, 12);
      return;
    case TimeField.Netflow9:
      b.writeUInt32BE(secs, 8);
      return;
    case TimeField.Ipfix:
      b.writeUInt32BE(secs, 4);
      return;
    case TimeField.None:
      return;
  }
}

/** Appends the datagram's sequence fields to `out`; malformed parts are left alone. */
export function sequenceFields(protocol: Protocol, exporterKey: string, b: Buffer, ipfix: IpfixRecordCounter, out: SequenceField[]): void {
  switch (protocol) {
    case 'netflow5': {
      if (b.length < 24) return;
      // Same clamp as the decoder: records that do not fit were not counted by the gateway.
      const count = Math.min(b.readUInt16BE(2), Math.floor((b.length - 24) / 48));
      out.push({ offset: 16, stream: `nf5|${exporterKey}|${b.readUInt16BE(20)}`, value: b.readUInt32BE(16), advance: count });
      return;
    }
    case 'netflow9':
      if (b.length < 20) return;
      out.push({ offset: 12, stream: `nf9|${exporterKey}|${b.readUInt32BE(16)}`, value: b.readUInt32BE(12), advance: 1 });
      return;
    case 'ipfix': {
      if (b.length < 16) return;
      const stream = `ipfix|${exporterKey}|${b.readUInt32BE(12)}`;
      out.push({ offset: 8, stream, value: b.readUInt32BE(8), advance: ipfix.count(stream, b) });
      return;
    }
    case 'sflow':
      sflowFields(exporterKey, b, out);
      return;
  }
}

const SFLOW_FLOW_SAMPLE = 1;
const SFLOW_COUNTER_SAMPLE = 2;
const SFLOW_FLOW_SAMPLE_EXPANDED = 3;
const SFLOW_COUNTER_SAMPLE_EXPANDED = 4;

/**
 * The datagram sequence (+1 per datagram per agent/sub-agent) and every sample's sequence
 * (+1 per sample per data source, flow and counter samples numbered separately).
 */
function sflowFields(exporterKey: string, b: Buffer, out: SequenceField[]): void {
  if (b.length < 8) return;
  const addrType = b.readUInt32BE(4);
  const addrLen = addrType === 1 ? 4 : addrType === 2 ? 16 : -1;
  if (addrLen < 0 || b.length < 8 + addrLen + 16) return;
  const agent = `${b.toString('hex', 8, 8 + addrLen)}|${b.readUInt32BE(8 + addrLen)}`;
  const head = 8 + addrLen;
  out.push({ offset: head + 4, stream: `sflow|${exporterKey}|${agent}`, value: b.readUInt32BE(head + 4), advance: 1 });
  const samples = b.readUInt32BE(head + 12);
  let p = head + 16;
  for (let i = 0; i < samples && b.length - p >= 8; i++) {
    const format = b.readUInt32BE(p);
    const length = b.readUInt32BE(p + 4);
    const body = p + 8;
    if (length > b.length - body) return;
    const kind = format === SFLOW_FLOW_SAMPLE || format === SFLOW_FLOW_SAMPLE_EXPANDED ? 'flow' : 'counter';
    let source: string | undefined;
    if ((format === SFLOW_FLOW_SAMPLE || format === SFLOW_COUNTER_SAMPLE) && length >= 8) {
      const id = b.readUInt32BE(body + 4);
      source = `${id >>> 24}:${id & 0xffffff}`;
    } else if ((format === SFLOW_FLOW_SAMPLE_EXPANDED || format === SFLOW_COUNTER_SAMPLE_EXPANDED) && length >= 12) {
      source = `${b.readUInt32BE(body + 4)}:${b.readUInt32BE(body + 8)}`;
    }
    if (source !== undefined) {
      out.push({ offset: body, stream: `sflow-${kind}|${exporterKey}|${agent}|${source}`, value: b.readUInt32BE(body), advance: 1 });
    }
    p = body + Math.min((length + 3) & ~3, b.length - body);
  }
}
