// Decodes the records of one data set with a compiled template. Shared by v9 and IPFIX.

import { FlowEncoder, protoFields, v32, vnum } from '../canonical/flow-encoder';
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

function protoTag(field: string): number[] {
  const info = protoFields().get(field);
  if (!info) throw new Error(`flow.proto has no field for ${field}`);
  return info.tag;
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

const WIRE: WireState = { q: 0, samplerId: 0, hasRate: false };
const encoder = new FlowEncoder();
// One record reused for building prefixes: it only ever holds the common fields.
const scratch = newFlowRecord();
let samplingTags: { rate: number[]; source: number[] } | undefined;

function putTag(o: Uint8Array, q: number, tag: readonly number[]): number {
  for (let i = 0; i < tag.length; i++) o[q++] = tag[i];
  return q;
}

/**
 * The per-datagram fields as protobuf, copied before every record, with the options-data
 * sampling rate when it cannot differ between a set's records. The record encoder writes
 * them (FlowEncoder.commonBytes), so which fields are "per datagram" is decided in one place.
 * Cached per datagram on `c`.
 */
function commonPrefix(c: RecordCommon, setRate: number): Uint8Array {
  if (c.prefix && c.prefix.rate === setRate) return c.prefix.bytes;
  fillCommon(scratch, c);
  scratch.sampling_rate = setRate;
  scratch.sampling_rate_source = setRate > 0 ? SamplingRateSource.SAMPLING_OPTIONS : SamplingRateSource.SAMPLING_NONE;
  c.prefix = { rate: setRate, bytes: encoder.commonBytes(scratch) };
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
  samplingTags ??= { rate: protoTag('sampling_rate'), source: protoTag('sampling_rate_source') };
  const t = samplingTags;
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
