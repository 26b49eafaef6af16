// The flow counters of a prometheus output: one row per label set, six counters each
// (receive/transmit/unclassified × bytes/packets), scaled by the sampling rate.
//
// Cardinality cap. At most `maxSeries` rows exist, one of them the row whose label values are
// all "other". When a new label set would pass the cap, the smallest tenth of the rows (by
// bytes, all directions) is folded into "other" in one go: their counts are added to it and
// the rows are removed. Folding a tenth at a time keeps the cost amortised (one sort per
// maxSeries/10 new label sets, not a scan per record) under a flood of distinct AS pairs.
//
// What Prometheus sees: a folded series stops being exposed (it goes stale) and "other" grows
// by that series' whole value at once. So sum() over a family stays monotonic and equal to all
// traffic counted (no bytes vanish), at the price of a step in rate() of "other" at fold time.
// If a folded label set shows up again it starts a new series from zero, which Prometheus
// reads as a counter reset (rate() handles it).

export interface SeriesRow {
  /** Label values in the order of the table's label names. */
  readonly values: readonly string[];
  /** `{name="value",...}`, escaped, built once. */
  readonly text: string;
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
  unBytes: number;
  unPackets: number;
  records: number;
}

export interface FoldStats {
  /** Label sets folded into "other" so far. */
  series: number;
  bytes: number;
  records: number;
}

export const OTHER = 'other';
const OTHER_KEY = '\u0000other';

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class SeriesTable {
  private readonly rows = new Map<string, SeriesRow>();
  readonly folded: FoldStats = { series: 0, bytes: 0, records: 0 };

  constructor(readonly labelNames: readonly string[], readonly maxSeries: number) {
    if (maxSeries < 2) throw new RangeError('maxSeries must be at least 2 (one row and "other")');
  }

  get size(): number {
    return this.rows.size;
  }

  /** The row of a label set (created, possibly after a fold, when new). */
  row(key: string, values: () => readonly string[]): SeriesRow {
    let r = this.rows.get(key);
    if (r) return r;
    // Room for "other" is kept whether or not it exists yet.
    const own = this.rows.has(OTHER_KEY) ? this.rows.size - 1 : this.rows.size;
    if (own >= this.maxSeries - 1) this.fold();
    r = this.newRow(values());
    this.rows.set(key, r);
    return r;
  }

  rowsInOrder(): IterableIterator<SeriesRow> {
    return this.rows.values();
  }

  private newRow(values: readonly string[]): SeriesRow {
    const text = `{${this.labelNames.map((n, i) => `${n}="${escapeLabelValue(values[i])}"`).join(',')}}`;
    return { values, text, rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0, unBytes: 0, unPackets: 0, records: 0 };
  }

  private fold(): void {
    const candidates: Array<[string, SeriesRow]> = [];
    for (const e of this.rows) if (e[0] !== OTHER_KEY) candidates.push(e);
    candidates.sort((a, b) => total(a[1]) - total(b[1]));
    const n = Math.max(1, Math.ceil(this.maxSeries / 10));
    let other = this.rows.get(OTHER_KEY);
    if (!other) {
      other = this.newRow(this.labelNames.map(() => OTHER));
      this.rows.set(OTHER_KEY, other);
    }
    // Before: own rows ≤ maxSeries - 1; after: ≤ maxSeries - 1 - n, plus "other": room for one.
    const take = Math.min(candidates.length, n);
    for (let i = 0; i < take; i++) {
      const [key, r] = candidates[i];
      other.rxBytes += r.rxBytes;
      other.rxPackets += r.rxPackets;
      other.txBytes += r.txBytes;
      other.txPackets += r.txPackets;
      other.unBytes += r.unBytes;
      other.unPackets += r.unPackets;
      other.records += r.records;
      this.folded.series++;
      this.folded.bytes += total(r);
      this.folded.records += r.records;
      this.rows.delete(key);
    }
  }
}

function total(r: SeriesRow): number {
  return r.rxBytes + r.txBytes + r.unBytes;
}
