// NetFlow v5: a 24-byte header and fixed 48-byte records, IPv4 only. Times are sysUptime
// milliseconds; the header's export time has nanoseconds, so records are placed to the µs.

import { FlowType, newFlowRecord, SamplingRateSource } from '../canonical/flow-record';
import { copyIpv4 } from '../util/ip';
import type { SequenceTracker } from './sequence-tracker';
import { addError, emptyOutput, type DecodeOutput, type Exporter } from './types';

const HEADER = 24;
const RECORD = 48;

export function decodeNetflow5(b: Buffer, exporter: Exporter, receivedUs: number, seq: SequenceTracker): DecodeOutput {
  const out = emptyOutput('netflow5');
  if (b.length < HEADER) {
    addError(out, 'short_datagram', `NetFlow v5 datagram of ${b.length} bytes is shorter than its 24-byte header`);
    return out;
  }
  let count = b.readUInt16BE(2);
  const uptimeMs = b.readUInt32BE(4);
  const secs = b.readUInt32BE(8);
  const nsecs = b.readUInt32BE(12);
  const sequence = b.readUInt32BE(16);
  const engine = b.readUInt16BE(20); // engine type << 8 | engine id: v5's only "source id"
  const sampling = b.readUInt16BE(22);
  const rate = sampling & 0x3fff;
  const exportUs = secs * 1e6 + Math.floor(Math.min(nsecs, 999999999) / 1000);

  const fits = Math.floor((b.length - HEADER) / RECORD);
  if (count > fits) {
    addError(out, 'truncated', `header says ${count} records, datagram holds ${fits}`, count - fits);
    count = fits;
  }
  for (let i = 0, p = HEADER; i < count; i++, p += RECORD) {
    const r = newFlowRecord();
    r.type = FlowType.NETFLOW_V5;
    r.time_received_us = receivedUs;
    r.sequence_num = sequence;
    r.sampler_address = exporter.address;
    r.exporter_address = exporter.address;
    r.exporter_port = exporter.port;
    r.src_addr = copyIpv4(b, p);
    r.dst_addr = copyIpv4(b, p + 4);
    r.next_hop = copyIpv4(b, p + 8);
    r.in_if = b.readUInt16BE(p + 12);
    r.out_if = b.readUInt16BE(p + 14);
    r.packets = b.readUInt32BE(p + 16);
    r.bytes = b.readUInt32BE(p + 20);
    // Signed 32-bit difference: correct across the sysUptime wrap at 2^32 ms (49.7 days).
    r.time_flow_start_us = exportUs - ((uptimeMs - b.readUInt32BE(p + 24)) | 0) * 1000;
    r.time_flow_end_us = exportUs - ((uptimeMs - b.readUInt32BE(p + 28)) | 0) * 1000;
    r.src_port = b.readUInt16BE(p + 32);
    r.dst_port = b.readUInt16BE(p + 34);
    r.tcp_flags = b[p + 37];
    r.proto = b[p + 38];
    r.ip_tos = b[p + 39];
    r.src_as = b.readUInt16BE(p + 40);
    r.dst_as = b.readUInt16BE(p + 42);
    r.src_net = b[p + 44];
    r.dst_net = b[p + 45];
    r.etype = 0x0800;
    // v5 has no ICMP fields; exporters put type << 8 | code in the destination port.
    if (r.proto === 1 && r.src_port === 0) {
      r.icmp_type = r.dst_port >>> 8;
      r.icmp_code = r.dst_port & 0xff;
    }
    if (rate > 0) {
      r.sampling_rate = rate;
      r.sampling_rate_source = SamplingRateSource.SAMPLING_IN_RECORD;
    }
    out.flows.push(r);
  }
  // v5's sequence counts flows, not datagrams.
  out.sequenceGap = seq.observe(`nf5|${exporter.key}|${engine}`, sequence, count);
  return out;
}
