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
const prefixEncoder = { enc: undefined as FlowEncoder | undefined };
let samplingTags: { rate: number[]; source: number[] } | undefined;

/**
 * The per-datagram fields, encoded once per data set and copied before every record; with
 * the options-data sampling rate too when it cannot differ between the set's records.
 */
function commonPrefix(c: RecordCommon, setRate: number): Buffer {
  const r = newFlowRecord();
  fillCommon(r, c);
  if (setRate > 0) {
    r.sampling_rate = setRate;
    r.sampling_rate_source = SamplingRateSource.SAMPLING_OPTIONS;
  }
  prefixEncoder.enc ??= new FlowEncoder();
  return prefixEncoder.enc.prefix(r);
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
  samplingTags ??= { rate: protoFields().get('sampling_rate')?.tag ?? [], source: protoFields().get('sampling_rate_source')?.tag ?? [] };
  const tags = samplingTags;
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
        for (const t of tags.rate) o[q++] = t;
        q = vnum(o, q, rate);
        for (const t of tags.source) o[q++] = t;
        q = v32(o, q, SamplingRateSource.SAMPLING_OPTIONS);
      }
    }
    wire.pos = q;
    wire.endRecord();
    n++;
    p = next;
  }
  return n;
}
