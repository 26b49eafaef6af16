// A strict RFC 3954 reader for the export packets flowgate's netflow9 output sends: every
// rule a collector relies on, checked on every packet, with the reason for each violation.
// Stricter than the RFC's SHOULDs on purpose: flowsets must be 4-byte aligned with zero
// padding shorter than one record, because that is what the exporter promises.
//
// Template state is kept per source ID across packets, like a collector's; sequence numbers
// must go up by exactly one per packet of a source ID (RFC 3954 §5.1 counts packets).

export interface StrictPacketReport {
  sourceId: number;
  sequence: number;
  count: number;
  dataRecords: number;
  problems: string[];
}

interface Known {
  /** Record length of each template (data and options) by id. */
  lengths: Map<number, number>;
  options: Set<number>;
  lastSequence?: number;
}

export class StrictNetflow9Checker {
  private readonly sources = new Map<number, Known>();

  check(b: Buffer): StrictPacketReport {
    const problems: string[] = [];
    const bad = (m: string): void => {
      problems.push(m);
    };
    if (b.length < 20) return { sourceId: -1, sequence: -1, count: 0, dataRecords: 0, problems: [`packet of ${b.length} bytes is shorter than the 20-byte header`] };
    if (b.readUInt16BE(0) !== 9) bad(`version ${b.readUInt16BE(0)} is not 9`);
    const count = b.readUInt16BE(2);
    const sequence = b.readUInt32BE(12);
    const sourceId = b.readUInt32BE(16);
    let known = this.sources.get(sourceId);
    if (!known) {
      known = { lengths: new Map(), options: new Set() };
      this.sources.set(sourceId, known);
    }
    if (known.lastSequence !== undefined && sequence !== ((known.lastSequence + 1) >>> 0)) {
      bad(`source ${sourceId}: sequence ${sequence} after ${known.lastSequence} (must count packets: +1)`);
    }
    known.lastSequence = sequence;

    let seen = 0;
    let dataRecords = 0;
    let p = 20;
    while (p < b.length) {
      if (b.length - p < 4) {
        bad(`${b.length - p} stray bytes after the last flowset at ${p}`);
        break;
      }
      const id = b.readUInt16BE(p);
      const len = b.readUInt16BE(p + 2);
      if (len < 4) {
        bad(`flowset ${id} at ${p}: length ${len} < 4`);
        break;
      }
      if (len % 4 !== 0) bad(`flowset ${id} at ${p}: length ${len} is not a multiple of 4`);
      if (p + len > b.length) {
        bad(`flowset ${id} at ${p}: length ${len} runs past the packet end (${b.length})`);
        break;
      }
      const end = p + len;
      let q = p + 4;
      if (id === 0) {
        while (end - q >= 4) {
          const tid = b.readUInt16BE(q);
          const n = b.readUInt16BE(q + 2);
          if (tid === 0 && n === 0) break;
          if (tid < 256) bad(`template id ${tid} < 256`);
          if (n === 0) bad(`template ${tid} has no fields`);
          if (q + 4 + 4 * n > end) {
            bad(`template ${tid} with ${n} fields overruns its flowset`);
            break;
          }
          let rl = 0;
          for (let i = 0; i < n; i++) {
            const fl = b.readUInt16BE(q + 6 + 4 * i);
            if (fl === 0) bad(`template ${tid} field ${i} has length 0`);
            rl += fl;
          }
          known.lengths.set(tid, rl);
          known.options.delete(tid);
          seen++;
          q += 4 + 4 * n;
        }
        this.zeroTail(b, q, end, `template flowset at ${p}`, bad);
      } else if (id === 1) {
        while (end - q >= 6) {
          const tid = b.readUInt16BE(q);
          const scope = b.readUInt16BE(q + 2);
          const opt = b.readUInt16BE(q + 4);
          if (tid === 0 && scope === 0 && opt === 0) break;
          if (tid < 256) bad(`options template id ${tid} < 256`);
          if (scope === 0 || scope % 4 !== 0) bad(`options template ${tid}: scope length ${scope} must be a non-zero multiple of 4`);
          if (opt % 4 !== 0) bad(`options template ${tid}: option length ${opt} is not a multiple of 4`);
          if (q + 6 + scope + opt > end) {
            bad(`options template ${tid} overruns its flowset`);
            break;
          }
          let rl = 0;
          for (let f = q + 6; f < q + 6 + scope + opt; f += 4) rl += b.readUInt16BE(f + 2);
          known.lengths.set(tid, rl);
          known.options.add(tid);
          seen++;
          q += 6 + scope + opt;
        }
        if (end - q >= 4) bad(`options template flowset at ${p}: ${end - q} bytes left that are neither a template nor padding`);
        this.zeroTail(b, q, end, `options template flowset at ${p}`, bad);
      } else if (id < 256) {
        bad(`flowset id ${id} is reserved (2-255)`);
      } else {
        const rl = known.lengths.get(id);
        if (rl === undefined) bad(`data flowset ${id} at ${p} before its template`);
        else {
          const n = Math.floor((len - 4) / rl);
          const pad = len - 4 - n * rl;
          if (n === 0) bad(`data flowset ${id} at ${p} holds no record`);
          if (pad >= 4) bad(`data flowset ${id} at ${p}: ${pad} bytes of padding (must be < 4)`);
          this.zeroTail(b, end - pad, end, `data flowset ${id} at ${p}`, bad);
          seen += n;
          if (!known.options.has(id)) dataRecords += n;
        }
      }
      p = end;
    }
    if (seen !== count) bad(`header count ${count} but the packet holds ${seen} records and templates`);
    return { sourceId, sequence, count, dataRecords, problems };
  }

  private zeroTail(b: Buffer, from: number, end: number, what: string, bad: (m: string) => void): void {
    for (let i = from; i < end; i++) {
      if (b[i] !== 0) {
        bad(`${what}: non-zero padding byte at ${i}`);
        return;
      }
    }
  }
}
