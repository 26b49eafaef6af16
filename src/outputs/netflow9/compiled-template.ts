// A data template compiled once: field offsets and writers fixed, so encoding a record is one
// pass over a small array, and the template's own bytes for the template flowset.

import type { FlowRecord } from '../../canonical/flow-record';
import { fieldKind, type FieldWriter, type RecordContext } from './field-writers';
import type { ExportTemplateSpec } from './template-file';

export class CompiledTemplate {
  readonly id: number;
  readonly family: 4 | 6;
  /** Bytes of one data record. */
  readonly length: number;
  /** Length of the samplerId field (0 when the template has none). */
  readonly samplerIdLength: number;
  private readonly writers: FieldWriter[];
  private readonly offsets: number[];
  /** Template record (id, count, type/length pairs) as it goes into a template flowset. */
  readonly definition: Buffer;

  constructor(spec: ExportTemplateSpec) {
    this.id = spec.id;
    this.family = spec.family;
    this.writers = [];
    this.offsets = [];
    let off = 0;
    let samplerLen = 0;
    for (const f of spec.fields) {
      const kind = fieldKind(f.id);
      if (!kind) throw new Error(`IE ${f.id} has no writer`);
      this.writers.push(kind.writer(f.length));
      this.offsets.push(off);
      off += f.length;
      if (f.id === 48) samplerLen = f.length;
    }
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

  write(b: Buffer, p: number, r: FlowRecord, c: RecordContext): void {
    const w = this.writers;
    const o = this.offsets;
    for (let i = 0; i < w.length; i++) w[i](b, p + o[i], r, c);
  }
}
