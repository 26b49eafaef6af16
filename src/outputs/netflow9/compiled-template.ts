// A data template compiled once into one generated function (fixed offsets, direct property
// reads), and the template's own bytes for the template flowset.

import type { FlowRecord } from '../../canonical/flow-record';
import { fieldKind, type RecordContext } from './field-writers';
import type { ExportTemplateSpec } from './template-file';

export class CompiledTemplate {
  readonly id: number;
  readonly family: 4 | 6;
  /** Bytes of one data record. */
  readonly length: number;
  /** Length of the samplerId field (0 when the template has none). */
  readonly samplerIdLength: number;
  /** Writes one data record at offset p: generated from the field table (field-writers.ts). */
  readonly write: (b: Buffer, p: number, r: FlowRecord, c: RecordContext) => void;
  /** Template record (id, count, type/length pairs) as it goes into a template flowset. */
  readonly definition: Buffer;

  constructor(spec: ExportTemplateSpec) {
    this.id = spec.id;
    this.family = spec.family;
    let off = 0;
    let samplerLen = 0;
    let body = '';
    for (const f of spec.fields) {
      const kind = fieldKind(f.id);
      if (!kind) throw new Error(`IE ${f.id} has no writer`);
      body += kind.code(f.length, `p+${off}`);
      off += f.length;
      if (f.id === 48) samplerLen = f.length;
    }
    this.write = new Function('b', 'p', 'r', 'c', body) as (b: Buffer, p: number, r: FlowRecord, c: RecordContext) => void;
    this.length = off;
    this.samplerIdLength = samplerLen;
    const d = Buffer.alloc(4 + 4 * spec.fields.length);
    d.writeUInt16BE(spec.id, 0);
    d.writeUInt16BE(spec.fields.length, 2);
    spec.fields.forEach((f, i) => {
      d.writeUInt16BE(f.id, 4 + 4 * i);
      d.writeUInt16BE(f.length, 6 + 4 * i);
    });
    this.definition = d;
  }
}
