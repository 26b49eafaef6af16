// In-process bus: hands published batches to subscribers on the next turn of the event
// loop, so a slow subscriber never runs inside the UDP receive path.

import type { Bus, BusHandler, BusMessage, BusStats } from './bus';

export class EmbeddedBus implements Bus {
  private readonly handlers: BusHandler[] = [];
  private queue: Array<[string, readonly BusMessage[]]> = [];
  private scheduled = false;
  private readonly counts: BusStats = { accepted: 0, published: 0, dropped: {}, buffered: 0 };

  /** `onPublished` feeds the records-published metric (the Kafka bus reports per batch). */
  constructor(private readonly onPublished: (topic: string, records: number) => void = () => undefined) {}

  publish(topic: string, messages: readonly BusMessage[]): void {
    let n = 0;
    for (const m of messages) n += m.records;
    this.counts.accepted += n;
    this.counts.published += n;
    if (n) this.onPublished(topic, n);
    if (!this.handlers.length) return;
    this.queue.push([topic, messages]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  subscribe(handler: BusHandler): void {
    this.handlers.push(handler);
  }

  stats(): BusStats {
    return { ...this.counts, dropped: { ...this.counts.dropped } };
  }

  async close(): Promise<void> {
    this.drain();
  }

  private drain(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const [topic, msgs] of q) for (const h of this.handlers) h(topic, msgs);
  }
}
