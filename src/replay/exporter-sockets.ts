// One connected UDP socket per original exporter, so the gateway sees each exporter at its own
// source port and scopes its templates and sequence numbers separately. Sends never outrun the
// kernel: when a socket's send buffer is full libuv queues the datagram in user space, and the
// replayer then waits for that queue to drain before sending anything else (which also keeps
// the original order across exporters).

import { createSocket, type Socket } from 'node:dgram';
import type { ResolvedTarget } from './target';

/** Socket send buffer asked for; the kernel caps it at net.core.wmem_max. */
const SEND_BUFFER_BYTES = 4 << 20;

export class ExporterSockets {
  /** Sends whose callback reported an error: those datagrams did not leave. */
  sendErrors = 0;
  /** Errors reported on the sockets outside a send, e.g. ECONNREFUSED when ICMP says nobody listens. */
  readonly socketErrors: Record<string, number> = {};
  private inFlight = 0;
  private waitingFor = -1;
  private wake: (() => void) | undefined;
  private readonly sockets: Socket[] = [];
  /** One callback per socket, made once: no closure per datagram on the hot path. */
  private readonly callbacks: ((err: Error | null) => void)[] = [];

  private constructor() {}

  static async open(count: number, target: ResolvedTarget): Promise<ExporterSockets> {
    const pool = new ExporterSockets();
    try {
      for (let i = 0; i < count; i++) pool.add(createSocket({ type: target.family === 6 ? 'udp6' : 'udp4', sendBufferSize: SEND_BUFFER_BYTES }));
      await Promise.all(pool.sockets.map((s) => connect(s, target)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get size(): number {
    return this.sockets.length;
  }

  /** Local ports, in exporter order (for logs and tests). */
  localPorts(): number[] {
    return this.sockets.map((s) => s.address().port);
  }

  /** Sends on socket i; returns true when the datagram had to be queued (wait with drained(i)). */
  send(i: number, buf: Buffer): boolean {
    const s = this.sockets[i];
    this.inFlight++;
    s.send(buf, this.callbacks[i]);
    return s.getSendQueueCount() > 0;
  }

  drained(i: number): Promise<void> {
    if (this.sockets[i].getSendQueueCount() === 0) return Promise.resolve();
    return this.until(i);
  }

  /** Resolves once every send has called back. */
  settled(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : this.until(-2);
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve(); // never connected, or already closed
      }
    })));
  }

  private add(s: Socket): void {
    const i = this.sockets.length;
    this.sockets.push(s);
    this.callbacks.push((err) => this.sent(i, err));
    s.on('error', (e: NodeJS.ErrnoException) => this.socketError(e));
  }

  private until(what: number): Promise<void> {
    this.waitingFor = what;
    return new Promise((resolve) => (this.wake = resolve));
  }

  private sent(i: number, err: Error | null): void {
    this.inFlight--;
    if (err) this.sendErrors++;
    if (this.wake === undefined) return;
    const done = this.waitingFor === -2 ? this.inFlight === 0 : this.waitingFor === i && this.sockets[i].getSendQueueCount() === 0;
    if (done) {
      const wake = this.wake;
      this.wake = undefined;
      this.waitingFor = -1;
      wake();
    }
  }

  private socketError(e: NodeJS.ErrnoException): void {
    const code = e.code ?? 'unknown';
    this.socketErrors[code] = (this.socketErrors[code] ?? 0) + 1;
  }
}

function connect(s: Socket, target: ResolvedTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (e: Error): void => reject(new Error(`cannot open a UDP socket to ${target.address} port ${target.port}: ${e.message}`));
    // Node hands connect errors to the callback (its typings omit the argument); binding
    // errors come as an 'error' event.
    const done = (err?: Error): void => {
      s.off('error', failed);
      if (err) failed(err);
      else resolve();
    };
    s.once('error', failed);
    s.connect(target.port, target.address, done);
  });
}
