// The `written`/`durable` counts of src/converters/output.ts for an output that keeps records
// in several files at once. A record's sequence number is its position among all records taken
// by write(). `durable` is the lowest first-sequence-number of the files still open, else
// `written`; a file that failed freezes `durable` at its first record for the rest of the
// process, because its records were never stored and must be read again after a restart.

export class Durability {
  written = 0;
  private readonly open = new Map<object, number>();
  private frozenAt = Infinity;
  private reported = 0;
  private readonly listeners: Array<(durable: number) => void> = [];

  /** Takes the next sequence number. */
  next(): number {
    return this.written++;
  }

  /** A file now holds records from `firstSeq` on. */
  opened(file: object, firstSeq: number): void {
    this.open.set(file, firstSeq);
  }

  /** The file's records are in a final-named file. */
  completed(file: object): void {
    this.open.delete(file);
  }

  /** The file's records are lost: nothing from its first record on may be reported durable. */
  failed(file: object): void {
    const first = this.open.get(file);
    if (first !== undefined) this.frozenAt = Math.min(this.frozenAt, first);
    this.open.delete(file);
  }

  get isFrozen(): boolean {
    return this.frozenAt !== Infinity;
  }

  durable(): number {
    let d = Math.min(this.written, this.frozenAt);
    for (const first of this.open.values()) if (first < d) d = first;
    return d;
  }

  onDurable(listener: (durable: number) => void): void {
    this.listeners.push(listener);
  }

  /** Tells the listeners when `durable` has advanced since they last heard. */
  report(): void {
    const d = this.durable();
    if (d <= this.reported) return;
    this.reported = d;
    for (const l of this.listeners) l(d);
  }
}
