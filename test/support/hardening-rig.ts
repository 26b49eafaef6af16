// A real gateway (the assembly `flowgate run` uses: startGateway on the embedded bus) on
// loopback, plus UDP senders bound to chosen source addresses, for the hardening tests. Every
// record the gateway publishes is kept (decoded from the bus) so tests can look at content.

import * as dgram from 'node:dgram';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import type { FlowRecord } from '../../src/canonical/flow-record';
import { EmbeddedBus } from '../../src/bus/embedded-bus';
import { parseConfig } from '../../src/config/config';
import type { GatewayConfig } from '../../src/config/types';
import { startGateway, type RunningGateway } from '../../src/runtime/assemble';
import { LogSink, metricSum, sleep } from './gateway-harness';

export interface Rig {
  g: RunningGateway;
  bus: EmbeddedBus;
  config: GatewayConfig;
  logs: LogSink;
  /** Records published on the flow topic, in order. */
  records: FlowRecord[];
  port(i?: number): number;
  host(i?: number): string;
  /** Datagrams the listeners took off their sockets: decoded + denied + throttled. */
  taken(): number;
  metrics(): Promise<string>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export async function startRig(yaml: string, opts: { keepRecords?: boolean } = {}): Promise<Rig> {
  const config = parseConfig(yaml, 'hardening.yaml', {});
  const logs = new LogSink();
  const bus = new EmbeddedBus();
  const records: FlowRecord[] = [];
  if (opts.keepRecords ?? true) {
    bus.subscribe((topic, msgs) => {
      if (topic === 'flows') for (const m of msgs) records.push(decodeFlowMessage(m.value));
    });
  }
  const g = await startGateway(config, { bus, destination: logs });
  const bound = (i: number): { address: string; port: number } => {
    const a = g.gateway.listeners[i].address();
    if (!a) throw new Error(`listener ${i} not bound`);
    return a;
  };
  return {
    g, bus, config, logs, records,
    port: (i = 0) => bound(i).port,
    host: (i = 0) => bound(i).address,
    taken: () => g.gateway.stats.datagrams + g.gateway.stats.throttled + g.gateway.listeners.reduce((n, l) => n + l.denied, 0),
    metrics: () => g.metrics.metrics(),
    metric: async (name, labels = {}) => metricSum(await g.metrics.metrics(), name, labels),
    stop: () => g.stop(),
  };
}

/** A UDP socket bound to one local source address (loopback: all of 127/8 is local on Linux, and ::1). */
export class Sender {
  private constructor(private readonly socket: dgram.Socket, readonly address: string, readonly port: number) {}

  static async bind(address: string): Promise<Sender> {
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new Sender(socket, address, socket.address().port);
  }

  send(b: Uint8Array, port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(b, port, host, (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * Waits until the gateway has taken `n` datagrams off its sockets (bounded: fails after `ms`).
 * Polls on setImmediate, not a timer, so paced senders lose little time per batch.
 */
export async function settle(rig: Rig, n: number, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  let spins = 0;
  while (rig.taken() < n) {
    if (Date.now() > until) {
      rig.g.gateway.readKernelDrops();
      throw new Error(`gateway took ${rig.taken()} of ${n} datagrams within ${ms} ms (kernel drops ${JSON.stringify(rig.g.gateway.stats.kernelDrops)})`);
    }
    if (++spins < 200) await new Promise((r) => setImmediate(r));
    else await sleep(2);
  }
}
