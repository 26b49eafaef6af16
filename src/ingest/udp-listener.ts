// One UDP socket for one `listen` address. Hands each datagram, its exporter and its receive
// time to the caller; decoding happens elsewhere.

import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ProtocolChoice } from '../decode/datagram-decoder';
import { textToIp, makeExporter } from '../util/ip';
import type { Exporter } from '../decode/types';
import { SourceAllowlist } from './allowlist';

export interface ListenerSpec {
  host: string;
  port: number;
  protocol: ProtocolChoice;
  /** Source prefixes accepted (listeners[].allow); absent = all. */
  allow?: readonly string[];
  /** SO_RCVBUF to ask for; default RECEIVE_BUFFER_BYTES. */
  receive_buffer_bytes?: number;
}

/** What the kernel did with the receive buffer request (Linux reports twice the usable size). */
export interface ReceiveBufferResult {
  requested: number;
  /** getRecvBufferSize() after the request: what the kernel accounts, 2x the usable bytes on Linux. */
  granted: number;
  /** Set when the kernel gave less than asked (or refused): the operator's fix. */
  shortfall?: string;
}

/**
 * Default receive buffer asked of the kernel for each socket (listeners[].receive_buffer_bytes). Linux's
 * default, net.core.rmem_default (usually 208 KiB), holds about a hundred full datagrams: a few
 * milliseconds of a busy exporter, less than a garbage collection or the encoding of a Kafka
 * batch takes, so the kernel dropped datagrams while the gateway had CPU to spare
 * (bench/e2e-bench.ts, docs/PERFORMANCE.md). Linux caps the request at net.core.rmem_max.
 */
export const RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

export type DatagramHandler = (datagram: Buffer, exporter: Exporter, receivedUs: number, protocol: ProtocolChoice) => void;

/** "0.0.0.0:2055", "[::]:6343", ":2055" → host and port. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  if (!m) throw new Error(`listen "${listen}": expected HOST:PORT or [IPv6]:PORT, e.g. 0.0.0.0:2055 or [::]:2055`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`listen "${listen}": port must be 0-65535 (0 = any free port)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export class UdpListener {
  private socket: dgram.Socket | undefined;
  // Exporter objects are reused per source so per-datagram work stays small.
  private readonly exporters = new Map<string, Exporter>();
  private errorHandler: (e: Error) => void = () => undefined;
  private deniedHandler: () => void = () => undefined;
  private readonly allowlist: SourceAllowlist | undefined;
  errors = 0;
  /** Datagrams dropped before decoding because their source is not on the allowlist. */
  denied = 0;
  receiveBuffer: ReceiveBufferResult | undefined;

  constructor(readonly spec: ListenerSpec, private readonly onDatagram: DatagramHandler) {
    this.allowlist = spec.allow ? new SourceAllowlist(spec.allow) : undefined;
  }

  async start(): Promise<void> {
    const type = isIPv6(this.spec.host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false });
    this.socket = socket;
    const allow = this.allowlist;
    socket.on('message', (msg, rinfo) => {
      // First, before any parsing: a denied source costs one cached Map lookup.
      if (allow !== undefined && !allow.allows(rinfo.address)) {
        this.denied++;
        this.deniedHandler();
        return;
      }
      const now = Date.now() * 1000;
      const key = `${rinfo.address}|${rinfo.port}`;
      let ex = this.exporters.get(key);
      if (!ex) {
        ex = makeExporter(textToIp(rinfo.address.replace(/%.*$/, '')), rinfo.port);
        if (this.exporters.size > 100_000) this.exporters.clear();
        this.exporters.set(key, ex);
      }
      this.onDatagram(msg, ex, now, this.spec.protocol);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.spec.port, this.spec.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.receiveBuffer = setReceiveBuffer(socket, this.spec.receive_buffer_bytes ?? RECEIVE_BUFFER_BYTES);
    // An unhandled 'error' event would end the process; a receive error ends one datagram.
    socket.on('error', (e) => {
      this.errors++;
      this.errorHandler(e);
    });
  }

  /** What the kernel granted (Linux reports twice the usable size); 0 before start. */
  receiveBufferBytes(): number {
    try {
      return this.socket ? this.socket.getRecvBufferSize() : 0;
    } catch {
      return 0;
    }
  }

  /** Called for each denied datagram (counted in `denied` as well). */
  onDenied(fn: () => void): void {
    this.deniedHandler = fn;
  }

  /** Called for socket errors after start (counted in `errors` as well). */
  onError(fn: (e: Error) => void): void {
    this.errorHandler = fn;
  }

  address(): { address: string; port: number } | undefined {
    return this.socket?.address();
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/**
 * Asks for `bytes` of receive buffer, exactly (smaller than the default too: an operator, or a
 * test provoking kernel drops, may want that). Linux doubles the request for bookkeeping and
 * caps it at net.core.rmem_max; a shortfall is reported so the caller can name the sysctl.
 */
function setReceiveBuffer(socket: dgram.Socket, bytes: number): ReceiveBufferResult {
  let error: string | undefined;
  try {
    socket.setRecvBufferSize(bytes);
  } catch (e) {
    error = (e as Error).message;
  }
  let granted = 0;
  try {
    granted = socket.getRecvBufferSize();
  } catch {
    // leave 0: reported below
  }
  const usable = process.platform === 'linux' ? Math.floor(granted / 2) : granted;
  const r: ReceiveBufferResult = { requested: bytes, granted };
  if (error !== undefined || usable < bytes) {
    r.shortfall = `asked for ${bytes} bytes of socket receive buffer, the kernel granted ${usable}` +
      (error ? ` (${error})` : '') +
      '; raise net.core.rmem_max (e.g. sysctl -w net.core.rmem_max=' + bytes + ') or lower receive_buffer_bytes';
  }
  return r;
}
