// The TRAP output interface over TCP or a UNIX socket: modules connect, the server speaks first
// (hello + template spec), then every container is written to every client. Each client has its
// own send queue (the socket's writable buffer); a client whose queue is over the bound either
// makes ready() pend until it drains (`wait`) or skips whole containers (`drop`, counted).
// A client that goes away (EPIPE, ECONNRESET, close) is forgotten; it never takes the process down.

import { mkdir, unlink } from 'node:fs/promises';
import * as net from 'node:net';
import { dirname } from 'node:path';

export type SlowClient = 'wait' | 'drop';

export interface TrapServerLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

export interface TrapServerCounters {
  refused(): void;
  dropped(records: number): void;
  connected(): void;
  disconnected(): void;
  slowDisconnect(): void;
}

export interface TrapServerOptions {
  id: string;
  address: { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };
  hello: Buffer;
  slowClient: SlowClient;
  /** Per-client queue bound in bytes. */
  queueBytes: number;
  maxClients: number;
  log: TrapServerLog;
  counters: TrapServerCounters;
}

interface Client {
  socket: net.Socket;
  peer: string;
  gone: boolean;
  /** Writes whose callback has not run yet: each settles its container once. */
  pending: Set<() => void>;
}

export const MAX_CLIENTS = 64;

export class TrapServer {
  private server?: net.Server;
  private readonly clients = new Set<Client>();
  private hello: Buffer;
  private waiters: Array<() => void> = [];
  private closing = false;

  constructor(private readonly o: TrapServerOptions) {
    this.hello = o.hello;
  }

  async start(): Promise<void> {
    const srv = net.createServer({ noDelay: true }, (s) => this.accept(s));
    srv.maxConnections = Infinity;
    this.server = srv;
    const a = this.o.address;
    if (a.kind === 'unix') {
      await mkdir(dirname(a.path), { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        throw new Error(`${this.o.id}: cannot create the socket directory ${dirname(a.path)} (${e.code ?? e.message}); set socket_dir or TRAP_SOCKET_DIR to a writable directory`);
      });
      // A socket file left by a dead process would make listen fail with EADDRINUSE.
      await unlink(a.path).catch(() => undefined);
    }
    await new Promise<void>((res, rej) => {
      srv.once('error', rej);
      if (a.kind === 'tcp') srv.listen(a.port, a.host, () => res());
      else srv.listen(a.path, () => res());
    });
    srv.on('error', (e) => this.o.log.warn({ output: this.o.id, err: String(e) }, 'nemea: server error'));
  }

  /** TCP port actually bound (useful with port 0), or undefined for UNIX sockets. */
  port(): number | undefined {
    const ad = this.server?.address();
    return ad && typeof ad === 'object' ? ad.port : undefined;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Bytes queued for the slowest client. */
  maxQueued(): number {
    let m = 0;
    for (const c of this.clients) m = Math.max(m, c.socket.writableLength);
    return m;
  }

  /**
   * Writes one container to every client. `settled` runs once every client it was given to has
   * taken it into its socket (or is gone, or skipped it under `drop`); at once with no clients.
   */
  send(header: Buffer, payload: Buffer, records: number, settled: () => void): void {
    let left = 1;
    const done = (): void => {
      if (--left === 0) settled();
    };
    for (const c of this.clients) {
      if (c.gone) continue;
      if (this.o.slowClient === 'drop' && c.socket.writableLength > this.o.queueBytes) {
        this.o.counters.dropped(records);
        continue;
      }
      if (c.socket.writableLength > this.hardLimit()) {
        // Only a writer that ignores ready() (the embedded bus has no backpressure) gets here;
        // memory is not allowed to grow without end for one module that stopped reading.
        this.o.log.warn({ output: this.o.id, client: c.peer, queued_bytes: c.socket.writableLength }, 'nemea: client queue past the hard limit; client disconnected');
        this.o.counters.slowDisconnect();
        c.socket.destroy();
        this.forget(c);
        continue;
      }
      left++;
      let once = false;
      const cb = (): void => {
        if (once) return;
        once = true;
        c.pending.delete(cb);
        done();
        // 'drain' only fires past the socket's high-water mark; the bound may be below it.
        if (this.waiters.length) this.wake();
      };
      c.pending.add(cb);
      c.socket.cork();
      c.socket.write(header);
      c.socket.write(payload, () => cb());
      c.socket.uncork();
    }
    done();
  }

  /** Resolves when no client's queue is over the bound (always at once under `drop`). */
  ready(): Promise<void> {
    if (this.o.slowClient === 'drop' || !this.overBound()) return Promise.resolve();
    return new Promise((res) => this.waiters.push(res));
  }

  blocked(): boolean {
    return this.o.slowClient === 'wait' && this.overBound();
  }

  /** A changed template: every client is dropped so it reconnects and reads the new spec. */
  setHello(hello: Buffer): void {
    this.hello = hello;
    for (const c of [...this.clients]) {
      this.o.log.info({ output: this.o.id, client: c.peer }, 'nemea: template changed; client dropped to renegotiate');
      c.socket.destroy();
      this.forget(c);
    }
  }

  /** Sends `last` (end of stream) to every client, waits until they took it, closes everything. */
  async close(last: { header: Buffer; payload: Buffer } | undefined, graceMs = 2000): Promise<void> {
    this.closing = true;
    const ends = [...this.clients].map((c) => new Promise<void>((res) => {
      const t = setTimeout(() => { c.socket.destroy(); res(); }, graceMs);
      t.unref();
      c.socket.once('close', () => { clearTimeout(t); res(); });
      if (last && !c.gone) {
        c.socket.write(last.header);
        c.socket.write(last.payload);
      }
      c.socket.end();
    }));
    await Promise.all(ends);
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    const a = this.o.address;
    if (a.kind === 'unix') await unlink(a.path).catch(() => undefined);
    this.wake();
  }

  private accept(s: net.Socket): void {
    const peer = s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unix';
    if (this.closing || this.clients.size >= this.o.maxClients) {
      this.o.counters.refused();
      this.o.log.warn({ output: this.o.id, client: peer, max_clients: this.o.maxClients }, 'nemea: client refused (too many clients)');
      s.on('error', () => undefined);
      s.destroy();
      return;
    }
    const c: Client = { socket: s, peer, gone: false, pending: new Set() };
    this.clients.add(c);
    this.o.counters.connected();
    this.o.log.info({ output: this.o.id, client: peer, clients: this.clients.size }, 'nemea: client connected');
    s.on('error', (e: NodeJS.ErrnoException) => {
      // EPIPE / ECONNRESET: the module went away; 'close' follows.
      if (!c.gone) this.o.log.info({ output: this.o.id, client: peer, code: e.code }, 'nemea: client connection error');
    });
    s.on('close', () => this.forget(c));
    s.on('drain', () => this.wake());
    // Modules send nothing we need; reading keeps a half-closed peer from stalling.
    s.on('data', () => undefined);
    s.write(this.hello);
  }

  private forget(c: Client): void {
    if (c.gone) return;
    c.gone = true;
    this.clients.delete(c);
    this.o.counters.disconnected();
    if (!this.closing) this.o.log.info({ output: this.o.id, client: c.peer, clients: this.clients.size }, 'nemea: client disconnected');
    for (const cb of [...c.pending]) cb();
    c.pending.clear();
    this.wake();
  }

  /** 8 × queue_bytes, at least 64 MiB. */
  private hardLimit(): number {
    return Math.max(64 << 20, 8 * this.o.queueBytes);
  }

  private overBound(): boolean {
    for (const c of this.clients) if (c.socket.writableLength > this.o.queueBytes) return true;
    return false;
  }

  private wake(): void {
    if (this.waiters.length === 0 || (this.overBound() && !this.closing)) return;
    const w = this.waiters;
    this.waiters = [];
    for (const res of w) res();
  }
}
