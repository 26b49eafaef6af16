// Sends every export packet to every target from one plain UDP socket per target (no raw
// sockets, no privileges), optionally paced. A packet is done when every target's send
// callback has fired; a failed send is counted and the packet still counts as done for that
// target (UDP gives no delivery guarantee anyway, and holding the packet would stop every other
// target's progress) — see docs/ARCHITECTURE.md.
//
// Pacing (`rate_limit`, packets per second, 0 = unlimited): a token bucket whose burst is a
// tenth of a second's worth (at least 1), so a collector with a small socket buffer is never
// flooded; packets wait in order in a queue, which is what ready() reports as backpressure.

import * as dgram from 'node:dgram';
import type { ExportPacket } from './source-stream';
import type { Target } from './targets';

export interface SenderEvents {
  /** `index`: the target's position in the list. */
  sent(p: ExportPacket, target: Target, index: number): void;
  failed(p: ExportPacket, target: Target, index: number, err: Error): void;
  done(p: ExportPacket): void;
}

export class PacketSender {
  private readonly sockets: dgram.Socket[] = [];
  private readonly queue: ExportPacket[] = [];
  private inFlight = 0;
  private tokens: number;
  private readonly burst: number;
  private lastRefill = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly targets: readonly Target[],
    private readonly ratePerSec: number,
    private readonly ev: SenderEvents,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.burst = ratePerSec > 0 ? Math.max(1, Math.floor(ratePerSec / 10)) : Infinity;
    this.tokens = this.burst;
  }

  async start(): Promise<void> {
    for (const t of this.targets) {
      const s = dgram.createSocket(t.family === 6 ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, t.family === 6 ? '::' : '0.0.0.0', () => {
          // Connected: no address lookup per send (measured faster), and the kernel reports a
          // collector that is down (ICMP port unreachable) as ECONNREFUSED on a later send.
          s.connect(t.port, t.host, () => {
            s.off('error', reject);
            resolve();
          });
        });
      });
      // Asynchronous socket errors (ICMP unreachable reported late) must not crash the process.
      s.on('error', () => undefined);
      this.sockets.push(s);
    }
    this.lastRefill = this.clock();
  }

  /** Packets queued or being sent. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  localPorts(): number[] {
    return this.sockets.map((s) => s.address().port);
  }

  send(p: ExportPacket): void {
    this.queue.push(p);
    this.drain();
  }

  private drain(): void {
    if (this.ratePerSec > 0) {
      const now = this.clock();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefill) * this.ratePerSec) / 1000);
      this.lastRefill = now;
    }
    while (this.queue.length > 0 && this.tokens >= 1) {
      const p = this.queue.shift() as ExportPacket;
      if (this.ratePerSec > 0) this.tokens -= 1;
      this.transmit(p);
    }
    if (this.queue.length > 0 && this.timer === undefined) {
      const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, waitMs);
    }
  }

  private transmit(p: ExportPacket): void {
    this.inFlight++;
    let left = this.targets.length;
    const finish = (): void => {
      if (--left > 0) return;
      this.inFlight--;
      this.ev.done(p);
      if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    for (let i = 0; i < this.targets.length; i++) {
      const t = this.targets[i];
      try {
        this.sockets[i].send(p.bytes, (err) => {
          if (err) this.ev.failed(p, t, i, err);
          else this.ev.sent(p, t, i);
          finish();
        });
      } catch (e) {
        this.ev.failed(p, t, i, e as Error);
        finish();
      }
    }
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    await this.idle();
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.sockets.length = 0;
  }
}
