// How far one IPFIX message advances its stream's sequence number: the number of data records
// it carries (options records included, RFC 7011 §3.1). Only the last message of each stream in
// a capture needs it (the others' advances are the deltas to the next message), but templates
// must be learned from every message in order, so every message is fed in.

const TEMPLATE_SET = 2;
const OPTIONS_TEMPLATE_SET = 3;
const VARIABLE_LENGTH = 0xffff;
const ENTERPRISE_BIT = 0x8000;
const MIN_DATA_SET_ID = 256;
const MAX_STREAMS = 4096; // replay holds whole captures in memory; this only guards a hostile one

/** Field lengths of a template (VARIABLE_LENGTH for variable-length fields). */
interface Layout {
  lengths: number[];
  /** Record length when no field is variable, else -1. */
  fixed: number;
  /** Smallest possible record: variable fields take at least their 1-byte length prefix. */
  min: number;
}

export class IpfixRecordCounter {
  /** stream ("exporter|domain") -> template id -> layout */
  private readonly streams = new Map<string, Map<number, Layout>>();

  /**
   * Learns the message's (options) templates, then counts its data records. Returns undefined
   * when a data set refers to a template not seen so far in this stream: a gateway would hold
   * such a set and not count it either.
   */
  count(stream: string, msg: Buffer): number | undefined {
    const templates = this.templatesOf(stream);
    const length = msg.length >= 4 ? Math.min(msg.readUInt16BE(2), msg.length) : 0;
    let records = 0;
    let known = true;
    for (let p = 16; length - p >= 4; ) {
      const id = msg.readUInt16BE(p);
      const len = msg.readUInt16BE(p + 2);
      if (len < 4 || p + len > length) break;
      const end = p + len;
      if (id === TEMPLATE_SET || id === OPTIONS_TEMPLATE_SET) learn(templates, msg, p + 4, end, id === OPTIONS_TEMPLATE_SET);
      else if (id >= MIN_DATA_SET_ID) {
        const layout = templates.get(id);
        if (layout === undefined) known = false;
        else records += countRecords(layout, msg, p + 4, end);
      }
      p = end;
    }
    return known ? records : undefined;
  }

  private templatesOf(stream: string): Map<number, Layout> {
    let t = this.streams.get(stream);
    if (t === undefined) {
      if (this.streams.size >= MAX_STREAMS) this.streams.clear();
      t = new Map();
      this.streams.set(stream, t);
    }
    return t;
  }
}

function learn(templates: Map<number, Layout>, b: Buffer, start: number, end: number, options: boolean): void {
  const head = options ? 6 : 4;
  let p = start;
  while (end - p >= 4) {
    const id = b.readUInt16BE(p);
    const fieldCount = b.readUInt16BE(p + 2);
    if (fieldCount === 0) {
      // A withdrawal; the set id as template id withdraws all templates of that kind.
      if (id === TEMPLATE_SET || id === OPTIONS_TEMPLATE_SET) templates.clear();
      else templates.delete(id);
      p += 4;
      continue;
    }
    if (id < MIN_DATA_SET_ID || end - p < head) return; // padding, or garbage we cannot step over
    p += head;
    const lengths: number[] = [];
    for (let i = 0; i < fieldCount; i++) {
      if (end - p < 4) return;
      const ie = b.readUInt16BE(p);
      lengths.push(b.readUInt16BE(p + 2));
      p += ie & ENTERPRISE_BIT ? 8 : 4;
      if (p > end) return;
    }
    templates.set(id, layoutOf(lengths));
  }
}

function layoutOf(lengths: number[]): Layout {
  let fixed = 0;
  let min = 0;
  let variable = false;
  for (const l of lengths) {
    if (l === VARIABLE_LENGTH) {
      variable = true;
      min += 1;
    } else {
      fixed += l;
      min += l;
    }
  }
  return { lengths, fixed: variable ? -1 : fixed, min };
}

/** Records in one data set body; trailing bytes shorter than a record are padding. */
function countRecords(layout: Layout, b: Buffer, start: number, end: number): number {
  if (layout.min === 0) return 0;
  if (layout.fixed > 0) return Math.floor((end - start) / layout.fixed);
  let n = 0;
  let p = start;
  while (end - p >= layout.min) {
    for (const l of layout.lengths) {
      if (l !== VARIABLE_LENGTH) {
        p += l;
        continue;
      }
      if (p >= end) return n;
      let v = b[p++];
      if (v === 255) {
        if (end - p < 2) return n;
        v = b.readUInt16BE(p);
        p += 2;
      }
      p += v;
    }
    if (p > end) return n;
    n++;
  }
  return n;
}
