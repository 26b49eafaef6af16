// sFlow version 5 decoder (sflow.org, sflow_version_5.txt): flow samples and expanded flow
// samples become one FlowRecord each, generic interface counter records become
// InterfaceCounters. Everything else is skipped by its length, as sFlow intends for formats
// a collector does not know.
//
// The datagram is XDR: big-endian 32-bit words, opaque data padded to 4 bytes. Every length
// and count read from it is checked against the bytes that remain in its container before it
// is used, so a hostile datagram cannot make us throw, loop past its end or allocate more
// than a small multiple of its own size. Bounds are checked explicitly rather than by
// catching RangeError: exceptions are slow, and a malformed sample must not take the rest of
// the datagram with it.
//
// Error policy: a sample whose own length overruns the datagram ends decoding (nothing after
// it can be located); a sample whose content is malformed is dropped whole, with an error,
// and decoding continues with the next sample. A partially decoded flow could be mistaken
// for a complete one, so none is emitted.

import {
  FlowType,
  NO_BYTES,
  SamplingRateSource,
  newFlowRecord,
  type FlowRecord,
  type InterfaceCounters,
} from '../canonical/flow-record';
import { ipToText } from '../util/ip';
import { copyAddress, parsePacketHeaderAt, u16, u32 } from './packet-header';
import { DomainMap } from './domain-map';
import type { SequenceTracker } from './sequence-tracker';
import { addError, emptyOutput, type DecodeOutput, type Exporter } from './types';

const SFLOW_VERSION = 5;

// Sample formats (enterprise 0): the whole 32-bit word, since enterprise << 12 is 0.
const SAMPLE_FLOW = 1;
const SAMPLE_COUNTERS = 2;
const SAMPLE_FLOW_EXPANDED = 3;
const SAMPLE_COUNTERS_EXPANDED = 4;

// Flow record formats (enterprise 0).
const FLOW_RAW_HEADER = 1;
const FLOW_ETHERNET = 2;
const FLOW_IPV4 = 3;
const FLOW_IPV6 = 4;
const FLOW_EXT_SWITCH = 1001;
const FLOW_EXT_ROUTER = 1002;
const FLOW_EXT_GATEWAY = 1003;

// Counter record formats (enterprise 0).
const COUNTERS_GENERIC_IF = 1;

// Fixed sizes of structures, in bytes.
const FLOW_SAMPLE_FIXED = 32;
const FLOW_SAMPLE_EXPANDED_FIXED = 44;
const COUNTER_SAMPLE_FIXED = 12;
const COUNTER_SAMPLE_EXPANDED_FIXED = 16;
const RAW_HEADER_FIXED = 16;
const ETHERNET_SIZE = 24;
const IPV4_SIZE = 32;
const IPV6_SIZE = 56;
const EXT_SWITCH_SIZE = 16;
const GENERIC_IF_SIZE = 88;

const ETYPE_IPV4 = 0x0800;
const ETYPE_IPV6 = 0x86dd;

/** What every sample of one datagram shares. */
interface Datagram {
  readonly buf: Buffer;
  readonly out: DecodeOutput;
  readonly exporter: Exporter;
  readonly receivedUs: number;
  readonly seq: SequenceTracker;
  readonly agent: Uint8Array;
  readonly subAgent: number;
  readonly sequence: number;
  readonly names: StreamNames;
}

/**
 * Names of the SequenceTracker streams of one (exporter, agent, sub-agent). Building and
 * hashing a fresh key string for every sample costs more than the rest of the sample's
 * bookkeeping, so the strings are memoised: a memoised string keeps its hash, and the
 * per-source lookup here is by number. Pure memo of names, shared by all trackers; bounded
 * by clearing, so an exporter spraying agents or source ids only makes itself slower.
 */
interface StreamNames {
  readonly datagram: string;
  readonly sourcePrefix: string;
  readonly sources: Map<number, string>;
}

const MAX_MEMO_ENTRIES = 4096;
const streamNamesMemo = new Map<string, StreamNames>();

// IPv4 agents (nearly all) are looked up by number, without formatting the address.
let streamNamesV4 = new DomainMap<Map<number, StreamNames>>();
let streamNamesV4Agents = 0;

function streamNames(exporter: Exporter, agent: Uint8Array, subAgent: number): StreamNames {
  if (agent.length === 4) {
    const a = ((agent[0] << 24) | (agent[1] << 16) | (agent[2] << 8) | agent[3]) >>> 0;
    let bySub = streamNamesV4.get(exporter.key, a);
    if (bySub === undefined) {
      // Bounded like the other memos: an exporter spraying agent addresses only slows itself.
      if (++streamNamesV4Agents > MAX_MEMO_ENTRIES) {
        streamNamesV4 = new DomainMap();
        streamNamesV4Agents = 1;
      }
      bySub = new Map();
      streamNamesV4.set(exporter.key, a, bySub);
    }
    let names = bySub.get(subAgent);
    if (names === undefined) {
      if (bySub.size >= MAX_MEMO_ENTRIES) bySub.clear();
      names = makeNames(`${exporter.key}|${ipToText(agent)}|${subAgent}`);
      bySub.set(subAgent, names);
    }
    return names;
  }
  const key = `${exporter.key}|${ipToText(agent)}|${subAgent}`;
  let names = streamNamesMemo.get(key);
  if (names === undefined) {
    if (streamNamesMemo.size >= MAX_MEMO_ENTRIES) streamNamesMemo.clear();
    names = makeNames(key);
    streamNamesMemo.set(key, names);
  }
  return names;
}

function makeNames(key: string): StreamNames {
  return { datagram: `sflow|${key}`, sourcePrefix: `sflowsrc|${key}|`, sources: new Map() };
}

function sourceStreamName(names: StreamNames, sourceType: number, sourceIndex: number): string {
  // type * 2^32 + index is exact below 2^53; larger (hostile) expanded types skip the memo.
  if (sourceType >= 0x200000) return `${names.sourcePrefix}${sourceType}:${sourceIndex}`;
  const id = sourceType * 0x100000000 + sourceIndex;
  let name = names.sources.get(id);
  if (name === undefined) {
    if (names.sources.size >= MAX_MEMO_ENTRIES) names.sources.clear();
    name = `${names.sourcePrefix}${sourceType}:${sourceIndex}`;
    names.sources.set(id, name);
  }
  return name;
}

export function decodeSflow(buf: Buffer, exporter: Exporter, receivedUs: number, seq: SequenceTracker): DecodeOutput {
  const out = emptyOutput('sflow');
  if (buf.length < 8) {
    addError(out, 'short_datagram', `sFlow datagram of ${buf.length} bytes`);
    return out;
  }
  const version = u32(buf, 0);
  if (version !== SFLOW_VERSION) {
    addError(out, 'unknown_protocol', `sFlow version ${version}`);
    return out;
  }
  const addrLen = addressLength(u32(buf, 4));
  if (addrLen < 0) {
    addError(out, 'bad_header', `sFlow agent address type ${u32(buf, 4)}`);
    return out;
  }
  let off = 8 + addrLen;
  if (buf.length < off + 16) {
    addError(out, 'short_datagram', `sFlow datagram of ${buf.length} bytes, header needs ${off + 16}`);
    return out;
  }
  const agent = copyAddress(buf, 8, addrLen === 4 ? 4 : 16);
  const subAgent = u32(buf, off);
  const sequence = u32(buf, off + 4);
  // off + 8: agent uptime, unused (sFlow samples carry no flow times to anchor to it)
  const sampleCount = u32(buf, off + 12);
  off += 16;

  const names = streamNames(exporter, agent, subAgent);
  // The datagram sequence counts datagrams, not flows, so its gaps are reported as an error
  // entry (count = datagrams missed) and kept out of out.sequenceGap, which counts samples.
  const missed = seq.observe(names.datagram, sequence, 1);
  if (missed > 0) addError(out, 'sequence_gap', `${missed} sFlow datagram(s) missed before sequence ${sequence}`, missed);

  const dg: Datagram = { buf, out, exporter, receivedUs, seq, agent, subAgent, sequence, names };
  for (let i = 0; i < sampleCount; i++) {
    if (buf.length - off < 8) {
      addError(out, 'bad_header', `sFlow datagram declares ${sampleCount} samples, ${i} fit`);
      break;
    }
    const format = u32(buf, off);
    const length = u32(buf, off + 4);
    const body = off + 8;
    if (length > buf.length - body) {
      addError(out, 'truncated', `sFlow sample ${i} of ${length} bytes overruns the datagram by ${length - (buf.length - body)}`);
      break;
    }
    decodeSample(dg, format, body, body + length);
    off = body + padded(length, buf.length - body);
  }
  return out;
}

/**
 * Bytes to skip for opaque data of `length` (already checked to fit in `remaining`): XDR pads
 * opaque data to 4 bytes. Real agents only produce multiples of 4; a final unpadded item is
 * tolerated rather than reported.
 */
function padded(length: number, remaining: number): number {
  return Math.min((length + 3) & ~3, remaining);
}

/** Bytes of an sFlow address of this type (1 IPv4, 2 IPv6); -1 for an unknown type. */
function addressLength(type: number): number {
  return type === 1 ? 4 : type === 2 ? 16 : -1;
}

function decodeSample(dg: Datagram, format: number, start: number, end: number): void {
  switch (format) {
    case SAMPLE_FLOW:
      decodeFlowSample(dg, start, end, false);
      return;
    case SAMPLE_FLOW_EXPANDED:
      decodeFlowSample(dg, start, end, true);
      return;
    case SAMPLE_COUNTERS:
      decodeCounterSample(dg, start, end, false);
      return;
    case SAMPLE_COUNTERS_EXPANDED:
      decodeCounterSample(dg, start, end, true);
      return;
    default:
      addError(dg.out, 'unsupported', `sFlow sample enterprise ${format >>> 12} format ${format & 0xfff}`);
  }
}

/**
 * Interface number of a flow sample's input/output. Only format 0 names one ifIndex; 1 (packet
 * discarded, value = reason) and 2 (sent to several interfaces, value = count) have none, so
 * they map to 0 rather than to a value that would read as an interface.
 */
function interfaceIndex(format: number, value: number): number {
  return format === 0 ? value : 0;
}

function decodeFlowSample(dg: Datagram, start: number, end: number, expanded: boolean): void {
  const b = dg.buf;
  const fixed = expanded ? FLOW_SAMPLE_EXPANDED_FIXED : FLOW_SAMPLE_FIXED;
  if (end - start < fixed) {
    addError(dg.out, 'truncated', `sFlow flow sample of ${end - start} bytes, needs at least ${fixed}`);
    return;
  }
  const sampleSeq = u32(b, start);
  let inIf: number;
  let outIf: number;
  let p = readSourceId(b, start + 4, expanded);
  const sourceType = SOURCE.type;
  const sourceIndex = SOURCE.index;
  const samplingRate = u32(b, p);
  // p + 4: sample_pool, p + 8: drops (agent-side losses); neither has a record field.
  p += 12;
  if (expanded) {
    inIf = interfaceIndex(u32(b, p), u32(b, p + 4));
    outIf = interfaceIndex(u32(b, p + 8), u32(b, p + 12));
    p += 16;
  } else {
    const input = u32(b, p);
    const output = u32(b, p + 4);
    inIf = interfaceIndex(input >>> 30, input & 0x3fffffff);
    outIf = interfaceIndex(output >>> 30, output & 0x3fffffff);
    p += 8;
  }
  const recordCount = u32(b, p);
  p += 4;

  // Loss ledger: each data source numbers its flow samples 1, 2, 3, ... independently of the
  // datagram sequence, so a gap here is the number of flow samples (= flow records) this
  // source generated that never reached us. Counted even if this sample turns out malformed:
  // it did arrive.
  dg.out.sequenceGap += dg.seq.observe(sourceStreamName(dg.names, sourceType, sourceIndex), sampleSeq, 1);

  const rec = newFlowRecord();
  rec.type = FlowType.SFLOW_5;
  rec.time_received_us = dg.receivedUs;
  rec.time_flow_start_us = dg.receivedUs;
  rec.time_flow_end_us = dg.receivedUs;
  rec.sequence_num = dg.sequence;
  rec.sampler_address = dg.agent;
  rec.sflow_sub_agent_id = dg.subAgent;
  // Expanded samples allow indexes beyond 24 bits; the canonical field keeps the compact form.
  rec.sflow_source_id = (((sourceType & 0xff) << 24) | (sourceIndex & 0xffffff)) >>> 0;
  rec.sampling_rate = samplingRate;
  rec.sampling_rate_source = SamplingRateSource.SAMPLING_SFLOW;
  rec.in_if = inIf;
  rec.out_if = outIf;
  rec.exporter_address = dg.exporter.address;
  rec.exporter_port = dg.exporter.port;

  if (decodeFlowRecords(dg, rec, p, end, recordCount)) dg.out.flows.push(rec);
}

function decodeFlowRecords(dg: Datagram, rec: FlowRecord, start: number, end: number, count: number): boolean {
  const b = dg.buf;
  let p = start;
  for (let i = 0; i < count; i++) {
    if (end - p < 8) {
      addError(dg.out, 'truncated', `sFlow flow sample declares ${count} records, ${i} fit`);
      return false;
    }
    const format = u32(b, p);
    const length = u32(b, p + 4);
    const body = p + 8;
    if (length > end - body) {
      addError(dg.out, 'truncated', `sFlow flow record format ${format} of ${length} bytes overruns its sample`);
      return false;
    }
    if (!decodeFlowRecord(dg, rec, format, body, length)) return false;
    p = body + padded(length, end - body);
  }
  return true;
}

/** Returns false (after adding an error) when the record is too short for its format. */
function decodeFlowRecord(dg: Datagram, rec: FlowRecord, format: number, p: number, length: number): boolean {
  switch (format) {
    case FLOW_RAW_HEADER:
      return decodeRawHeader(dg, rec, p, length);
    case FLOW_ETHERNET:
      return needs(dg, format, length, ETHERNET_SIZE) && decodeSampledEthernet(dg.buf, rec, p);
    case FLOW_IPV4:
      return needs(dg, format, length, IPV4_SIZE) && decodeSampledIp(dg.buf, rec, p, 4);
    case FLOW_IPV6:
      return needs(dg, format, length, IPV6_SIZE) && decodeSampledIp(dg.buf, rec, p, 16);
    case FLOW_EXT_SWITCH:
      return needs(dg, format, length, EXT_SWITCH_SIZE) && decodeExtendedSwitch(dg.buf, rec, p);
    case FLOW_EXT_ROUTER:
      return decodeExtendedRouter(dg, rec, p, p + length);
    case FLOW_EXT_GATEWAY:
      return decodeExtendedGateway(dg, rec, p, p + length);
    default:
      return true; // unknown formats are how sFlow is extended: skip silently
  }
}

function needs(dg: Datagram, format: number, length: number, size: number): boolean {
  if (length >= size) return true;
  addError(dg.out, 'bad_record', `sFlow flow record format ${format} of ${length} bytes, needs ${size}`);
  return false;
}

function decodeRawHeader(dg: Datagram, rec: FlowRecord, p: number, length: number): boolean {
  const b = dg.buf;
  if (!needs(dg, FLOW_RAW_HEADER, length, RAW_HEADER_FIXED)) return false;
  const protocol = u32(b, p);
  const frameLength = u32(b, p + 4);
  // p + 8: bytes stripped (e.g. the FCS); frame_length is already the length on the wire.
  const headerLength = u32(b, p + 12);
  if (headerLength > length - RAW_HEADER_FIXED) {
    addError(dg.out, 'bad_record', `sFlow raw header of ${headerLength} bytes in a record of ${length}`);
    return false;
  }
  rec.bytes = frameLength;
  rec.packets = 1;
  // A header we cannot dissect (unknown protocol, too short) still counts the packet.
  parsePacketHeaderAt(protocol, b, p + 16, p + 16 + headerLength, rec);
  return true;
}

// The sampled_ethernet/ipv4/ipv6 records summarise what a raw header would show. When both
// are present the raw header wins (it is parsed whatever the record order), so these only
// fill fields still at their default.

function decodeSampledEthernet(b: Buffer, rec: FlowRecord, p: number): boolean {
  if (rec.packets === 0) {
    rec.bytes = u32(b, p);
    rec.packets = 1;
  }
  // MACs are 6 bytes padded to 8.
  if (rec.src_mac === 0) rec.src_mac = u16(b, p + 4) * 0x100000000 + u32(b, p + 6);
  if (rec.dst_mac === 0) rec.dst_mac = u16(b, p + 12) * 0x100000000 + u32(b, p + 14);
  if (rec.etype === 0) rec.etype = u32(b, p + 20) & 0xffff;
  return true;
}

/** sampled_ipv4 / sampled_ipv6: same layout apart from the address size. */
function decodeSampledIp(b: Buffer, rec: FlowRecord, p: number, addrLen: 4 | 16): boolean {
  if (rec.packets === 0) {
    rec.bytes = u32(b, p);
    rec.packets = 1;
  }
  if (rec.etype === 0) rec.etype = addrLen === 4 ? ETYPE_IPV4 : ETYPE_IPV6;
  if (rec.src_addr.length === 0) {
    // No raw header filled the addresses, so the rest of the 5-tuple comes from here too.
    rec.proto = u32(b, p + 4);
    rec.src_addr = copyAddress(b, p + 8, addrLen);
    rec.dst_addr = copyAddress(b, p + 8 + addrLen, addrLen);
  }
  const q = p + 8 + 2 * addrLen;
  if (rec.src_port === 0) rec.src_port = u32(b, q) & 0xffff;
  if (rec.dst_port === 0) rec.dst_port = u32(b, q + 4) & 0xffff;
  if (rec.tcp_flags === 0) rec.tcp_flags = u32(b, q + 8) & 0x1ff;
  if (rec.ip_tos === 0) rec.ip_tos = u32(b, q + 12) & 0xff;
  return true;
}

function decodeExtendedSwitch(b: Buffer, rec: FlowRecord, p: number): boolean {
  rec.src_vlan = u32(b, p);
  // p + 4: src_priority, p + 12: dst_priority (802.1p; no record field)
  rec.dst_vlan = u32(b, p + 8);
  return true;
}

/**
 * An sFlow address (type + 4 or 16 bytes) at p, or null if its type is unknown or it does not
 * fit before `end`. Type 0 ("unknown") is valid and carries no bytes. The caller advances by
 * 4 + result.length.
 */
function readAddress(b: Buffer, p: number, end: number): Uint8Array | null {
  if (end - p < 4) return null;
  const type = u32(b, p);
  if (type === 0) return NO_BYTES;
  const len = addressLength(type);
  if (len < 0 || end - p - 4 < len) return null;
  return copyAddress(b, p + 4, len === 4 ? 4 : 16);
}

function decodeExtendedRouter(dg: Datagram, rec: FlowRecord, start: number, end: number): boolean {
  const b = dg.buf;
  const nextHop = readAddress(b, start, end);
  if (nextHop === null || end - (start + 4 + nextHop.length) < 8) {
    addError(dg.out, 'bad_record', 'sFlow extended router record truncated or with a bad address type');
    return false;
  }
  const p = start + 4 + nextHop.length;
  rec.next_hop = nextHop;
  rec.src_net = u32(b, p);
  rec.dst_net = u32(b, p + 4);
  return true;
}

function decodeExtendedGateway(dg: Datagram, rec: FlowRecord, start: number, end: number): boolean {
  const b = dg.buf;
  const bad = (what: string): boolean => {
    addError(dg.out, 'bad_record', `sFlow extended gateway: ${what}`);
    return false;
  };
  const nextHop = readAddress(b, start, end);
  if (nextHop === null) return bad('next hop truncated or of unknown type');
  let p = start + 4 + nextHop.length;
  // as (the router's own AS), src_as, src_peer_as, path segment count
  if (end - p < 16) return bad('truncated before the AS path');
  const srcAs = u32(b, p + 4);
  const segments = u32(b, p + 12);
  p += 16;
  // Each segment needs at least 8 bytes (type, count): bounds the loop by the record size.
  if (segments > (end - p) / 8) return bad(`${segments} AS path segments do not fit`);
  const path: number[] = [];
  for (let s = 0; s < segments; s++) {
    if (end - p < 8) return bad('AS path segment truncated');
    // p: segment type (1 AS_SET, 2 AS_SEQUENCE); both are flattened in order.
    const n = u32(b, p + 4);
    p += 8;
    if (n > (end - p) / 4) return bad(`AS path segment of ${n} ASNs does not fit`);
    for (let i = 0; i < n; i++) path.push(u32(b, p + 4 * i));
    p += 4 * n;
  }
  if (end - p < 4) return bad('truncated before the communities');
  const nCommunities = u32(b, p);
  p += 4;
  if (nCommunities > (end - p) / 4) return bad(`${nCommunities} communities do not fit`);
  const communities: number[] = new Array<number>(nCommunities);
  for (let i = 0; i < nCommunities; i++) communities[i] = u32(b, p + 4 * i);
  p += 4 * nCommunities;
  if (end - p < 4) return bad('truncated before local preference');
  // p: localpref; like the router's own AS and src_peer_as it has no canonical field.

  rec.bgp_next_hop = nextHop;
  rec.src_as = srcAs;
  if (path.length > 0) {
    rec.as_path = path;
    rec.next_hop_as = path[0];
    rec.dst_as = path[path.length - 1];
  }
  if (nCommunities > 0) rec.bgp_communities = communities;
  return true;
}

// Scratch result of readSourceId: one per process, so reading a sample allocates nothing.
const SOURCE = { type: 0, index: 0 };

/**
 * Compact samples pack the data source as type << 24 | index in one word; expanded ones
 * use two words. Fills SOURCE and returns the offset after the field.
 */
function readSourceId(b: Buffer, p: number, expanded: boolean): number {
  if (expanded) {
    SOURCE.type = u32(b, p);
    SOURCE.index = u32(b, p + 4);
    return p + 8;
  }
  const sourceId = u32(b, p);
  SOURCE.type = sourceId >>> 24;
  SOURCE.index = sourceId & 0xffffff;
  return p + 4;
}

function decodeCounterSample(dg: Datagram, start: number, end: number, expanded: boolean): void {
  const b = dg.buf;
  const out = dg.out;
  const fixed = expanded ? COUNTER_SAMPLE_EXPANDED_FIXED : COUNTER_SAMPLE_FIXED;
  if (end - start < fixed) {
    addError(out, 'truncated', `sFlow counter sample of ${end - start} bytes, needs at least ${fixed}`);
    return;
  }
  const sampleSeq = u32(b, start);
  let p = readSourceId(b, start + 4, expanded);
  const sourceType = SOURCE.type;
  const sourceIndex = SOURCE.index;
  const count = u32(b, p);
  p += 4;
  // Same all-or-nothing rule as flow samples: undo what this sample added if it is malformed.
  const before = out.counters.length;
  for (let i = 0; i < count; i++) {
    if (end - p < 8) {
      addError(out, 'truncated', `sFlow counter sample declares ${count} records, ${i} fit`);
      out.counters.length = before;
      return;
    }
    const format = u32(b, p);
    const length = u32(b, p + 4);
    const body = p + 8;
    if (length > end - body) {
      addError(out, 'truncated', `sFlow counter record format ${format} of ${length} bytes overruns its sample`);
      out.counters.length = before;
      return;
    }
    if (format === COUNTERS_GENERIC_IF) {
      if (length < GENERIC_IF_SIZE) {
        addError(out, 'bad_record', `sFlow generic interface counters of ${length} bytes, needs ${GENERIC_IF_SIZE}`);
        out.counters.length = before;
        return;
      }
      out.counters.push(genericCounters(dg, body, sampleSeq, sourceType, sourceIndex));
    }
    p = body + padded(length, end - body);
  }
}

function genericCounters(dg: Datagram, p: number, sampleSeq: number, sourceType: number, sourceIndex: number): InterfaceCounters {
  const b = dg.buf;
  return {
    time_received_us: dg.receivedUs,
    agent_address: dg.agent,
    sub_agent_id: dg.subAgent,
    sequence_num: sampleSeq,
    source_id_type: sourceType,
    source_id_index: sourceIndex,
    if_index: u32(b, p),
    if_type: u32(b, p + 4),
    if_speed: b.readBigUInt64BE(p + 8),
    if_direction: u32(b, p + 16),
    if_status: u32(b, p + 20),
    if_in_octets: b.readBigUInt64BE(p + 24),
    if_in_ucast_pkts: u32(b, p + 32),
    if_in_multicast_pkts: u32(b, p + 36),
    if_in_broadcast_pkts: u32(b, p + 40),
    if_in_discards: u32(b, p + 44),
    if_in_errors: u32(b, p + 48),
    if_in_unknown_protos: u32(b, p + 52),
    if_out_octets: b.readBigUInt64BE(p + 56),
    if_out_ucast_pkts: u32(b, p + 64),
    if_out_multicast_pkts: u32(b, p + 68),
    if_out_broadcast_pkts: u32(b, p + 72),
    if_out_discards: u32(b, p + 76),
    if_out_errors: u32(b, p + 80),
    if_promiscuous_mode: u32(b, p + 84),
    exporter_address: dg.exporter.address,
    exporter_port: dg.exporter.port,
  };
}
