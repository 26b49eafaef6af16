// In-process bus: hands published batches to subscribers on the next turn of the event
// loop, so a slow subscriber never runs inside the UDP receive path.

import type { Bus, BusHandler, BusMessage } from './bus';

export class EmbeddedBus implements Bus {
  private readonly handlers: BusHandler[] = [];
  private queue: Array<[string, readonly BusMessage[]]> = [];
  private scheduled = false;
  published = 0;
  publishedBytes = 0;

  publish(topic: string, messages: readonly BusMessage[]): void {
    this.published += messages.length;
    for (const m of messages) this.publishedBytes += m.value.length;
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
