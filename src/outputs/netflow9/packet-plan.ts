// The fixed parts of every export packet, built once from the template file: the compiled
// data templates and the bodies of the template and options template flowsets.

import { CompiledTemplate } from './compiled-template';
import { HEADER_LENGTH } from './datagram-builder';
import { DEFAULT_RECORD_LENGTH, SAMPLER_RECORD_LENGTH, defaultOptionsTemplate, samplerOptionsTemplate } from './options-templates';
import type { ExportTemplates } from './template-file';

export interface PacketPlan {
  ipv4: CompiledTemplate;
  ipv6: CompiledTemplate;
  samplerOptionsId: number;
  defaultOptionsId: number;
  /** Bodies of the template flowset (id 0) and of the two options template flowsets (id 1). */
  templateSet: Buffer;
  samplerOptionsSet: Buffer;
  defaultOptionsSet: Buffer;
}

function padded(b: Buffer): Buffer {
  const pad = (4 - ((b.length + 4) % 4)) % 4;
  return pad === 0 ? b : Buffer.concat([b, Buffer.alloc(pad)]);
}

export function packetPlan(t: ExportTemplates): PacketPlan {
  const ipv4 = new CompiledTemplate(t.ipv4);
  const ipv6 = new CompiledTemplate(t.ipv6);
  return {
    ipv4,
    ipv6,
    samplerOptionsId: t.samplerOptionsId,
    defaultOptionsId: t.defaultOptionsId,
    // Template records are multiples of 4 bytes, so the set needs no padding.
    templateSet: Buffer.concat([ipv4.definition, ipv6.definition]),
    // Options template records are 6 + 4n bytes: each set is padded to 4 (RFC 3954 §6.1).
    samplerOptionsSet: padded(samplerOptionsTemplate(t.samplerOptionsId)),
    defaultOptionsSet: padded(defaultOptionsTemplate(t.defaultOptionsId)),
  };
}

/** Smallest MTU that holds header, both template flowsets, a rate announcement and the largest record. */
export function minimumMtu(t: ExportTemplates): number {
  const p = packetPlan(t);
  const sets = 4 + p.templateSet.length + 4 + p.samplerOptionsSet.length + 4 + p.defaultOptionsSet.length;
  const record = Math.max(p.ipv4.length, p.ipv6.length);
  const opt = Math.max(SAMPLER_RECORD_LENGTH, DEFAULT_RECORD_LENGTH);
  return HEADER_LENGTH + sets + (4 + opt + 3) + (4 + record + 3);
}
