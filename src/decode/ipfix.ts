// IPFIX (RFC 7011): 16-byte message header, then sets: 2 templates, 3 options templates,
// >= 256 data. Enterprise-specific fields carry a 4-byte PEN; variable-length fields use a
// 1-byte length or 255 + 2-byte length; a template with zero fields withdraws it.

import { FlowType } from '../canonical/flow-record';
import { decodeSetWith, holdSet, learnTemplate, type SetContext } from './template-learning';
import type { TemplateField, TimeContext } from './template-compiler';
import type { TemplateState } from './template-state';
import type { WireBatch } from '../canonical/wire-batch';
import { addError, emptyOutput, type DecodeOutput, type Exporter } from './types';

const HEADER = 16;
const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;

export function decodeIpfix(b: Buffer, exporter: Exporter, receivedUs: number, st: TemplateState, wire?: WireBatch): DecodeOutput {
  const out = emptyOutput('ipfix', wire);
  if (b.length < HEADER) {
    addError(out, 'short_datagram', `IPFIX message of ${b.length} bytes is shorter than its 16-byte header`);
    return out;
  }
  let length = b.readUInt16BE(2);
  if (length < HEADER) {
    addError(out, 'bad_header', `IPFIX message length ${length} is below the header size`);
    return out;
  }
  if (length > b.length) {
    addError(out, 'truncated', `IPFIX message says ${length} bytes, datagram has ${b.length}; decoding what arrived`);
    length = b.length;
  }
  const exportSecs = b.readUInt32BE(4);
  const sequence = b.readUInt32BE(8);
  const domain = b.readUInt32BE(12);
  const exportMs = exportSecs * 1000;
  const ctx: TimeContext = { exportMs, exportUs: exportSecs * 1e6, uptimeMs: 0, hasUptime: false };
  placeUptime(ctx, st, exporter, domain);
  const c: SetContext = { st, exporter, domain, receivedUs, sequence, type: FlowType.IPFIX, netflow9: false, ctx, out };

  let dataRecords = 0;
  let held = false;
  let p = HEADER;
  while (length - p >= 4) {
    const id = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    if (len < 4 || p + len > length) {
      addError(out, 'bad_set', `set ${id} at offset ${p} has length ${len} (${length - p} bytes left)`);
      break;
    }
    const end = p + len;
    if (id === TEMPLATE_SET) readTemplates(c, b, p + 4, end, false);
    else if (id === OPTIONS_TEMPLATE_SET) readTemplates(c, b, p + 4, end, true);
    else if (id >= 256) {
      // Options data earlier in this very message may just have told us the init time.
      if (!ctx.hasUptime) placeUptime(ctx, st, exporter, domain);
      const entry = st.templates.get(exporter.key, domain, id, receivedUs);
      if (entry) {
        // Options records count in the IPFIX sequence too (RFC 7011 §3.1).
        dataRecords += decodeSetWith(c, entry, b, p + 4, end);
      } else {
        holdSet(c, id, b, p + 4, end);
        held = true;
      }
    } else addError(out, 'bad_set', `set id ${id} is reserved in IPFIX`);
    p = end;
  }
  if (length - p > 0) addError(out, 'bad_set', `${length - p} stray bytes after the last set`);

  // The IPFIX sequence counts data records, so a message whose records we could not count
  // (held for a template) breaks the chain: restart it rather than report a false gap.
  if (held) st.seqIpfix.reset(exporter.key, domain);
  else out.sequenceGap = st.seqIpfix.observe(exporter.key, domain, sequence, dataRecords);
  return out;
}

/** IPFIX has no sysUpTime in its header: derive it from systemInitTimeMilliseconds. */
function placeUptime(ctx: TimeContext, st: TemplateState, exporter: Exporter, domain: number): void {
  const initMs = st.options.systemInitMs(exporter.key, domain);
  if (initMs === undefined) return;
  ctx.uptimeMs = ctx.exportMs - initMs;
  ctx.hasUptime = true;
}

function readTemplates(c: SetContext, b: Buffer, p: number, end: number, options: boolean): void {
  const headerLen = options ? 6 : 4;
  // Withdrawals are 4 bytes even in options template sets (RFC 7011 §8.1), so the loop
  // only needs 4 bytes to look at the next record.
  while (end - p >= 4) {
    const id = b.readUInt16BE(p);
    const count = b.readUInt16BE(p + 2);
    if (count === 0) {
      withdraw(c, id, options);
      p += 4;
      continue;
    }
    if (end - p < headerLen) {
      addError(c.out, 'bad_template', `options template ${id}: header runs past the set`);
      return;
    }
    const scopeCount = options ? b.readUInt16BE(p + 4) : 0;
    p += headerLen;
    if (id < 256) {
      addError(c.out, 'bad_template', `template id ${id} is below 256`);
      return;
    }
    if (options && (scopeCount === 0 || scopeCount > count)) {
      addError(c.out, 'bad_template', `options template ${id}: scope field count ${scopeCount} of ${count} fields`);
      return;
    }
    const fields: TemplateField[] = new Array(count);
    for (let i = 0; i < count; i++) {
      if (end - p < 4) {
        addError(c.out, 'bad_template', `template ${id}: field ${i + 1} of ${count} runs past the set`);
        return;
      }
      const raw = b.readUInt16BE(p);
      const length = b.readUInt16BE(p + 2);
      p += 4;
      let enterprise = 0;
      if (raw & 0x8000) {
        if (end - p < 4) {
          addError(c.out, 'bad_template', `template ${id}: enterprise number of field ${i + 1} runs past the set`);
          return;
        }
        enterprise = b.readUInt32BE(p);
        p += 4;
      }
      fields[i] = { id: raw & 0x7fff, length, enterprise };
    }
    learnTemplate(c, options ? 'options' : 'data', id, fields, scopeCount);
  }
}

/** RFC 7011 §8.1: id = set id withdraws all templates of that kind for the domain. */
function withdraw(c: SetContext, id: number, options: boolean): void {
  const kind = options ? 'options' : 'data';
  if (id === (options ? OPTIONS_TEMPLATE_SET : TEMPLATE_SET)) {
    c.st.templates.withdrawAll(c.exporter.key, c.domain, kind);
    return;
  }
  // Withdrawing a template we never saw (e.g. learned before our restart) is harmless.
  if (id >= 256) c.st.templates.withdraw(c.exporter.key, c.domain, id);
}
