// State keyed by (exporter, observation domain / source id). Two Map levels instead of a
// joined string key: the lookup happens for every data set, and building "addr|port|domain"
// strings there cost more than the lookups themselves (measured in the decoder profile).

export class DomainMap<T> {
  private readonly byExporter = new Map<string, Map<number, T>>();

  get(exporterKey: string, domain: number): T | undefined {
    return this.byExporter.get(exporterKey)?.get(domain);
  }

  set(exporterKey: string, domain: number, value: T): void {
    let m = this.byExporter.get(exporterKey);
    if (!m) {
      m = new Map();
      this.byExporter.set(exporterKey, m);
    }
    m.set(domain, value);
  }

  delete(exporterKey: string, domain: number): void {
    const m = this.byExporter.get(exporterKey);
    if (!m) return;
    m.delete(domain);
    if (m.size === 0) this.byExporter.delete(exporterKey);
  }

  clear(): void {
    this.byExporter.clear();
  }

  *entries(): IterableIterator<[string, number, T]> {
    for (const [k, m] of this.byExporter) for (const [d, v] of m) yield [k, d, v];
  }
}
