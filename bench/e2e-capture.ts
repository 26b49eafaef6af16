// The capture the end-to-end benchmark replays, and what one pass of it holds.
//
// Default: NetFlow v9 from a real exporter (fixtures/softflowd-v9.pcap) repacked to a fixed
// number of flow records per datagram (30, what a busy router puts in a 1500-byte datagram;
// softflowd's own full datagrams in that capture carry 32-33). The records are softflowd's
// bytes, unchanged; only their grouping into datagrams changes:
//
//   - datagram 1 also carries every template, options template and options data flowset of
//     the capture (once per pass; the gateway keeps what it learned across passes);
//   - each datagram carries exactly N data records, in capture order, grouped into one data
//     flowset per run of records of the same template (padded to 4 bytes);
//   - its header (sysUptime, unix secs, source id) is that of the original datagram of its
//     last record, so no record ends after its datagram's export time; package sequence
//     numbers are 0, 1, 2, ... so `flowgate replay --loop` keeps them continuous;
//   - records left over that do not fill a whole datagram are left out.
//
// BENCH_E2E_CAPTURE=FILE replays FILE as it is instead (e.g. fixtures/softflowd-v9.pcap with
// its own ~19 records per datagram).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatagramDecoder } from '../src/decode/datagram-decoder';
import type { Exporter } from '../src/decode/types';
import { readCaptureFile, type CapturedDatagram } from '../src/pcap/reader';
import { writePcap } from '../src/pcap/writer';
import { loadReplayDatagrams } from '../src/replay/replayer';
import { makeExporter, textToIp } from '../src/util/ip';

export interface E2eCapture {
  /** The pcap `flowgate replay` sends. */
  file: string;
  /** Datagrams `flowgate replay` sends per pass (--loop 1). */
  datagramsPerLoop: number;
  /** Flow records one pass yields once the templates are known. */
  recordsPerLoop: number;
  recordsPerDatagram: number;
  /** Human-readable origin, for the report. */
  description: string;
  /** Removes temporary files (no-op for a user's capture). */
  dispose(): void;
}

const V9_HEADER = 20;
const MAX_PASSES_CHECKED = 2;

interface V9Template {
  id: number;
  /** The template record as it appears in a template flowset (id, count, fields). */
  raw: Buffer;
  recordLength: number;
}

interface DataRecord {
  templateId: number;
  bytes: Buffer;
  /** Index of the original datagram (its header is reused). */
  origin: number;
}

/** Builds the default capture into a temporary directory. */
export function repackedV9Capture(source: string, recordsPerDatagram: number): E2eCapture {
  if (!Number.isInteger(recordsPerDatagram) || recordsPerDatagram < 1 || recordsPerDatagram > 200) {
    throw new Error(`records per datagram ${recordsPerDatagram}: expected an integer 1-200`);
  }
  const captured = readCaptureFile(source).datagrams.filter((d) => d.payload.length >= V9_HEADER && d.payload.readUInt16BE(0) === 9);
  if (captured.length === 0) throw new Error(`${source}: no NetFlow v9 datagrams`);
  const exporters = new Set(captured.map((d) => `${Buffer.from(d.srcAddr).toString('hex')}|${d.srcPort}|${d.payload.readUInt32BE(16)}`));
  if (exporters.size !== 1) throw new Error(`${source}: repacking needs one exporter and source id, found ${exporters.size}`);

  const templates = new Map<number, V9Template>();
  const optionTemplates = new Map<number, { raw: Buffer; recordLength: number }>();
  const optionData: Buffer[] = [];
  let optionRecords = 0;
  // Templates first (a data flowset may precede its template's refresh in capture order).
  for (const d of captured) {
    forEachFlowset(d.payload, (id, body) => {
      if (id === 0) parseTemplates(body, templates);
      else if (id === 1) parseOptionTemplates(body, optionTemplates);
    });
  }
  const records: DataRecord[] = [];
  captured.forEach((d, origin) => {
    forEachFlowset(d.payload, (id, body, whole) => {
      if (id < 256) return;
      const opt = optionTemplates.get(id);
      if (opt) {
        // Options data (sampling, interface names): carried once per pass, as first seen.
        if (optionData.length < optionTemplates.size && !optionData.some((b) => b.readUInt16BE(0) === id)) {
          optionData.push(whole);
          optionRecords += Math.floor(body.length / opt.recordLength);
        }
        return;
      }
      const t = templates.get(id);
      if (!t) return;
      for (let p = 0; p + t.recordLength <= body.length; p += t.recordLength) {
        records.push({ templateId: id, bytes: body.subarray(p, p + t.recordLength), origin });
      }
    });
  });
  const datagramCount = Math.floor(records.length / recordsPerDatagram);
  if (datagramCount === 0) throw new Error(`${source}: ${records.length} data records, fewer than ${recordsPerDatagram}`);

  const templateFlowset = flowset(0, [...templates.values()].map((t) => t.raw));
  const optionTemplateFlowset = optionTemplates.size ? flowset(1, [...optionTemplates.values()].map((t) => t.raw)) : undefined;
  const out: CapturedDatagram[] = [];
  for (let i = 0; i < datagramCount; i++) {
    const chunk = records.slice(i * recordsPerDatagram, (i + 1) * recordsPerDatagram);
    const last = captured[chunk[chunk.length - 1].origin];
    const parts: Buffer[] = [];
    let count = chunk.length;
    if (i === 0) {
      parts.push(templateFlowset);
      count += templates.size;
      if (optionTemplateFlowset) {
        parts.push(optionTemplateFlowset, ...optionData);
        count += optionTemplates.size + optionRecords;
      }
    }
    for (let s = 0; s < chunk.length; ) {
      let e = s + 1;
      while (e < chunk.length && chunk[e].templateId === chunk[s].templateId) e++;
      parts.push(flowset(chunk[s].templateId, chunk.slice(s, e).map((r) => r.bytes)));
      s = e;
    }
    const header = Buffer.from(last.payload.subarray(0, V9_HEADER));
    header.writeUInt16BE(count, 2);
    header.writeUInt32BE(i, 12); // package sequence
    out.push({ ...last, payload: Buffer.concat([header, ...parts]) });
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'flowgate-e2e-'));
  const file = path.join(dir, `v9-${recordsPerDatagram}-per-datagram.pcap`);
  writeFileSync(file, writePcap(out));
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const info = analyseCapture(file);
    if (info.errors > 0) throw new Error(`the repacked capture decodes with ${info.errors} errors`);
    if (info.recordsPerLoop !== datagramCount * recordsPerDatagram) {
      throw new Error(`the repacked capture decodes to ${info.recordsPerLoop} records per pass, expected ${datagramCount * recordsPerDatagram}`);
    }
    const sizes = out.map((d) => d.payload.length);
    return {
      file,
      datagramsPerLoop: info.datagramsPerLoop,
      recordsPerLoop: info.recordsPerLoop,
      recordsPerDatagram: info.recordsPerLoop / info.datagramsPerLoop,
      description:
        `${path.basename(source)} repacked to ${recordsPerDatagram} records/datagram: ${datagramCount} datagrams ` +
        `(${Math.min(...sizes)}-${Math.max(...sizes)} bytes), ${info.recordsPerLoop} of its ${records.length} records per pass, ` +
        `${templates.size} templates` + (optionTemplates.size ? ` + ${optionTemplates.size} options template` : ''),
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

/** A user's capture, replayed as it is. */
export function existingCapture(file: string): E2eCapture {
  const info = analyseCapture(file);
  if (info.recordsPerLoop === 0) throw new Error(`${file}: no flow records decode from it`);
  return {
    file,
    datagramsPerLoop: info.datagramsPerLoop,
    recordsPerLoop: info.recordsPerLoop,
    recordsPerDatagram: info.recordsPerLoop / info.datagramsPerLoop,
    description: `${path.basename(file)} as captured: ${info.datagramsPerLoop} datagrams, ${info.recordsPerLoop} records per pass`,
    dispose: () => undefined,
  };
}

interface CaptureInfo {
  datagramsPerLoop: number;
  recordsPerLoop: number;
  /** Decode errors in the second pass (templates known). */
  errors: number;
}

/**
 * Decodes what `flowgate replay` would send (the same selection), twice: the second pass,
 * with the templates known, is what every pass after the first yields at the gateway.
 */
export function analyseCapture(file: string): CaptureInfo {
  const cap = loadReplayDatagrams(file);
  const dec = new DatagramDecoder({ templateLimits: { expiryUs: Number.MAX_SAFE_INTEGER / 4 } });
  const exporters = new Map<string, Exporter>();
  let now = Date.now() * 1000;
  let records = 0;
  let errors = 0;
  for (let pass = 0; pass < MAX_PASSES_CHECKED; pass++) {
    records = 0;
    errors = 0;
    for (const d of cap.datagrams) {
      let ex = exporters.get(d.exporterKey);
      if (!ex) {
        const [addr, port] = d.exporterKey.split('|');
        ex = makeExporter(textToIp(addr), Number(port));
        exporters.set(d.exporterKey, ex);
      }
      const out = dec.decode(d.payload, ex, now++);
      records += out.flows.length;
      for (const e of out.errors) if (e.reason !== 'sequence_gap') errors += e.count;
    }
  }
  return { datagramsPerLoop: cap.datagrams.length, recordsPerLoop: records, errors };
}

function forEachFlowset(p: Buffer, fn: (id: number, body: Buffer, whole: Buffer) => void): void {
  for (let o = V9_HEADER; o + 4 <= p.length; ) {
    const id = p.readUInt16BE(o);
    const len = p.readUInt16BE(o + 2);
    if (len < 4 || o + len > p.length) return;
    fn(id, p.subarray(o + 4, o + len), p.subarray(o, o + len));
    o += len;
  }
}

function parseTemplates(body: Buffer, into: Map<number, V9Template>): void {
  for (let q = 0; q + 4 <= body.length; ) {
    const id = body.readUInt16BE(q);
    const fields = body.readUInt16BE(q + 2);
    if (fields === 0 || q + 4 + fields * 4 > body.length) return;
    let recordLength = 0;
    for (let i = 0; i < fields; i++) recordLength += body.readUInt16BE(q + 4 + i * 4 + 2);
    if (!into.has(id)) into.set(id, { id, raw: Buffer.from(body.subarray(q, q + 4 + fields * 4)), recordLength });
    q += 4 + fields * 4;
  }
}

function parseOptionTemplates(body: Buffer, into: Map<number, { raw: Buffer; recordLength: number }>): void {
  for (let q = 0; q + 6 <= body.length; ) {
    const id = body.readUInt16BE(q);
    const scopeLen = body.readUInt16BE(q + 2);
    const optLen = body.readUInt16BE(q + 4);
    const end = q + 6 + scopeLen + optLen;
    if (id < 256 || end > body.length) return;
    let recordLength = 0;
    for (let f = q + 6; f + 4 <= end; f += 4) recordLength += body.readUInt16BE(f + 2);
    if (!into.has(id) && recordLength > 0) into.set(id, { raw: Buffer.from(body.subarray(q, end)), recordLength });
    q = end;
  }
}

/** A flowset of the given id holding `items` back to back, padded to a 4-byte boundary. */
function flowset(id: number, items: readonly Buffer[]): Buffer {
  const bodyLen = items.reduce((n, b) => n + b.length, 0);
  const len = 4 + bodyLen + ((4 - (bodyLen % 4)) % 4);
  const out = Buffer.alloc(len);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(len, 2);
  let o = 4;
  for (const b of items) {
    b.copy(out, o);
    o += b.length;
  }
  return out;
}
