// Decodes the records of one data set with a compiled template. Shared by v9 and IPFIX.

import { bytes, protoFields, v32, vnum, vus } from '../canonical/flow-encoder';
import { newFlowRecord, SamplingRateSource, type FlowRecord, type FlowType } from '../canonical/flow-record';
import type { WireBatch } from '../canonical/wire-batch';
import { lookupRate, type SamplingInfo } from './exporter-options';
import type { CompiledTemplate, TimeContext, WireState } from './template-compiler';
import { addError, type DecodeOutput, type Exporter } from './types';

/** Per-datagram values every record of the set gets. */
export interface RecordCommon {
  type: FlowType;
  exporter: Exporter;
  receivedUs: number;
  sequence: number;
  domain: number;
  /** Wire path: the encoded form of the fields above, built once per datagram. */
  prefix?: { rate: number; bytes: Uint8Array };
}

/** Returns the number of records decoded. */
export function decodeDataSet(
  b: Buffer,
  p: number,
  end: number,
  tpl: CompiledTemplate,
  ctx: TimeContext,
  common: RecordCommon,
  sampling: SamplingInfo | undefined,
  out: DecodeOutput,
): number {
  const min = tpl.minRecordLength;
  if (tpl.usesUptime && !ctx.hasUptime) {
    addError(out, 'no_system_init_time', `${common.exporter.key} domain ${common.domain}: sysUpTime-relative times but no systemInitTimeMilliseconds yet; times left 0`);
  }
  if (out.wire) return decodeDataSetWire(b, p, end, tpl, ctx, common, sampling, out, out.wire);
  const flows = out.flows;
  let n = 0;
  // Bytes left over that cannot hold a record are padding (RFC 7011 §3.3.1, RFC 3954 §5.3).
  while (end - p >= min) {
    const r = newFlowRecord();
    const next = tpl.decode(b, p, end, r, ctx);
    if (next < 0) {
      addError(out, 'bad_record', `template record overruns the set at offset ${p}`);
      break;
    }
    fillCommon(r, common);
    if (r.sampling_rate_source === SamplingRateSource.SAMPLING_NONE && sampling !== undefined) {
      const rate = lookupRate(sampling, r.sampler_id);
      if (rate > 0) {
        r.sampling_rate = rate;
        r.sampling_rate_source = SamplingRateSource.SAMPLING_OPTIONS;
      }
    }
    flows.push(r);
    n++;
    p = next;
  }
  return n;
}

function fillCommon(r: FlowRecord, c: RecordCommon): void {
  r.type = c.type;
  r.time_received_us = c.receivedUs;
  r.sequence_num = c.sequence;
  r.sampler_address = c.exporter.address;
  r.exporter_address = c.exporter.address;
  r.exporter_port = c.exporter.port;
  r.observation_domain_id = c.domain;
}

const WIRE = { q: 0, samplerId: 0, hasRate: false } as WireState;

/**
 * The per-datagram fields as protobuf, copied before every record; with the options-data
 * sampling rate when it cannot differ between a set's records. Field order does not matter
 * on the wire (every protobuf reader accepts any order).
 */
interface PrefixTags {
  type: number[]; seq: number[]; sampler: number[]; domain: number[]; received: number[];
  port: number[]; exporter: number[]; rate: number[]; source: number[];
}
let tagCache: PrefixTags | undefined;
function tags(): PrefixTags {
  if (tagCache) return tagCache;
  const t = protoFields();
  const tag = (f: string): number[] => {
    const info = t.get(f);
    if (!info) throw new Error(`flow.proto has no field for ${f}`);
    return info.tag;
  };
  tagCache = {
    type: tag('type'), seq: tag('sequence_num'), sampler: tag('sampler_address'), domain: tag('observation_domain_id'),
    received: tag('time_received_us'), port: tag('exporter_port'), exporter: tag('exporter_address'),
    rate: tag('sampling_rate'), source: tag('sampling_rate_source'),
  };
  return tagCache;
}

function putTag(o: Uint8Array, q: number, tag: readonly number[]): number {
  for (let i = 0; i < tag.length; i++) o[q++] = tag[i];
  return q;
}

const PREFIX_SCRATCH = new Uint8Array(256);

/**
 * The per-datagram fields as protobuf, copied before every record; with the options-data
 * sampling rate when it cannot differ between a set's records. Field order does not matter
 * on the wire (every protobuf reader accepts any order). Cached per datagram.
 */
function commonPrefix(c: RecordCommon, setRate: number): Uint8Array {
  if (c.prefix && c.prefix.rate === setRate) return c.prefix.bytes;
  const t = tags();
  const o = PREFIX_SCRATCH;
  let q = 0;
  if (c.type) q = v32(o, putTag(o, q, t.type), c.type);
  if (c.sequence) q = v32(o, putTag(o, q, t.seq), c.sequence >>> 0);
  q = bytes(o, putTag(o, q, t.sampler), c.exporter.address);
  if (c.domain) q = v32(o, putTag(o, q, t.domain), c.domain >>> 0);
  if (c.receivedUs > 0) q = vus(o, putTag(o, q, t.received), c.receivedUs);
  if (c.exporter.port) q = v32(o, putTag(o, q, t.port), c.exporter.port);
  q = bytes(o, putTag(o, q, t.exporter), c.exporter.address);
  if (setRate > 0) {
    q = vnum(o, putTag(o, q, t.rate), setRate);
    q = v32(o, putTag(o, q, t.source), SamplingRateSource.SAMPLING_OPTIONS);
  }
  c.prefix = { rate: setRate, bytes: o.slice(0, q) };
  return c.prefix.bytes;
}

/** The same records as decodeDataSet, written straight into `wire` as protobuf. */
function decodeDataSetWire(
  b: Buffer,
  p: number,
  end: number,
  tpl: CompiledTemplate,
  ctx: TimeContext,
  common: RecordCommon,
  sampling: SamplingInfo | undefined,
  out: DecodeOutput,
  wire: WireBatch,
): number {
  const min = tpl.minRecordLength;
  const perRecord = sampling !== undefined && tpl.perRecordSampling;
  const prefix = commonPrefix(common, sampling !== undefined && !perRecord ? lookupRate(sampling, 0) : 0);
  const plen = prefix.length;
  const st = WIRE;
  const t = tags();
  const room = plen + tpl.wireBound + 24;
  let n = 0;
  while (end - p >= min) {
    // Room for the prefix, the template's bound, copied variable-length bytes, sampling.
    wire.ensure(tpl.variableLength ? room + end - p : room);
    const o = wire.buf;
    let q = wire.pos;
    o.set(prefix, q);
    st.q = q + plen;
    const next = tpl.wire(b, p, end, o, ctx, st);
    if (next < 0) {
      addError(out, 'bad_record', `template record overruns the set at offset ${p}`);
      break;
    }
    q = st.q;
    if (perRecord && !st.hasRate && sampling !== undefined) {
      const rate = lookupRate(sampling, st.samplerId);
      if (rate > 0) {
        q = vnum(o, putTag(o, q, t.rate), rate);
        q = v32(o, putTag(o, q, t.source), SamplingRateSource.SAMPLING_OPTIONS);
      }
    }
    wire.pos = q;
    wire.endRecord();
    n++;
    p = next;
  }
  return n;
}
