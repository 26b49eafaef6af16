// NetFlow v9 (RFC 3954): 20-byte header, then flowsets: 0 templates, 1 options templates,
// >= 256 data. Times in records are sysUptime milliseconds, placed with the header's
// sysUptime and export time.

import { FlowType } from '../canonical/flow-record';
import { decodeSetWith, holdSet, learnTemplate, type SetContext } from './template-learning';
import type { TemplateField, TimeContext } from './template-compiler';
import type { TemplateState } from './template-state';
import type { WireBatch } from '../canonical/wire-batch';
import { addError, emptyOutput, type DecodeOutput, type Exporter } from './types';

const HEADER = 20;

export function decodeNetflow9(b: Buffer, exporter: Exporter, receivedUs: number, st: TemplateState, wire?: WireBatch): DecodeOutput {
  const out = emptyOutput('netflow9', wire);
  if (b.length < HEADER) {
    addError(out, 'short_datagram', `NetFlow v9 datagram of ${b.length} bytes is shorter than its 20-byte header`);
    return out;
  }
  const uptimeMs = b.readUInt32BE(4);
  const unixSecs = b.readUInt32BE(8);
  const sequence = b.readUInt32BE(12);
  const sourceId = b.readUInt32BE(16);
  const ctx: TimeContext = { exportMs: unixSecs * 1000, exportUs: unixSecs * 1e6, uptimeMs, hasUptime: true };
  const c: SetContext = { st, exporter, domain: sourceId, receivedUs, sequence, type: FlowType.NETFLOW_V9, netflow9: true, ctx, out };

  let p = HEADER;
  while (b.length - p >= 4) {
    const id = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    if (len < 4) {
      // Some exporters (PAN-OS) pad the datagram with zeros after the last flowset.
      if (!isAllZero(b, p)) addError(out, 'bad_set', `flowset ${id} at offset ${p} has length ${len} (< 4)`);
      break;
    }
    if (p + len > b.length) {
      addError(out, 'bad_set', `flowset ${id} at offset ${p} claims ${len} bytes, only ${b.length - p} left`);
      break;
    }
    const end = p + len;
    if (id === 0) readTemplates(c, b, p + 4, end);
    else if (id === 1) readOptionsTemplates(c, b, p + 4, end);
    else if (id >= 256) readData(c, id, b, p + 4, end);
    else addError(out, 'unsupported', `reserved flowset id ${id}`);
    p = end;
  }
  if (p < b.length && b.length - p < 4 && !isAllZero(b, p)) addError(out, 'bad_set', `${b.length - p} stray bytes after the last flowset`);
  out.sequenceGap = st.seqV9.observe(exporter.key, sourceId, sequence, 1);
  return out;
}

function readData(c: SetContext, id: number, b: Buffer, p: number, end: number): void {
  const entry = c.st.templates.get(c.exporter.key, c.domain, id, c.receivedUs);
  if (entry) decodeSetWith(c, entry, b, p, end);
  else holdSet(c, id, b, p, end);
}

function readTemplates(c: SetContext, b: Buffer, p: number, end: number): void {
  while (end - p >= 4) {
    const id = b.readUInt16BE(p);
    const count = b.readUInt16BE(p + 2);
    p += 4;
    if (id === 0 && count === 0) break; // padding to a 4-byte boundary
    if (id < 256) {
      addError(c.out, 'bad_template', `template id ${id} is below 256`);
      return;
    }
    if (count === 0 || p + count * 4 > end) {
      addError(c.out, 'bad_template', `template ${id} with ${count} fields does not fit its flowset`);
      return;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++, p += 4) fields[i] = { id: b.readUInt16BE(p), length: b.readUInt16BE(p + 2), enterprise: 0 };
    learnTemplate(c, 'data', id, fields, 0);
  }
}

function readOptionsTemplates(c: SetContext, b: Buffer, p: number, end: number): void {
  while (end - p >= 6) {
    const id = b.readUInt16BE(p);
    const scopeLen = b.readUInt16BE(p + 2);
    const optLen = b.readUInt16BE(p + 4);
    p += 6;
    if (id === 0 && scopeLen === 0 && optLen === 0) break;
    if (id < 256 || scopeLen % 4 !== 0 || optLen % 4 !== 0 || p + scopeLen + optLen > end || scopeLen + optLen === 0) {
      addError(c.out, 'bad_template', `options template ${id} (scope ${scopeLen} B, options ${optLen} B) is malformed`);
      return;
    }
    const count = (scopeLen + optLen) / 4;
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++, p += 4) fields[i] = { id: b.readUInt16BE(p), length: b.readUInt16BE(p + 2), enterprise: 0 };
    learnTemplate(c, 'options', id, fields, scopeLen / 4);
    // Options template records are padded individually to 4 bytes in some exporters: the
    // loop condition skips a short tail.
  }
}

function isAllZero(b: Buffer, from: number): boolean {
  for (let i = from; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
