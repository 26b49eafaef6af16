// Decodes the records of one data set with a compiled template. Shared by v9 and IPFIX.

import { newFlowRecord, SamplingRateSource, type FlowRecord, type FlowType } from '../canonical/flow-record';
import { lookupRate, type SamplingInfo } from './exporter-options';
import type { CompiledTemplate, TimeContext } from './template-compiler';
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
