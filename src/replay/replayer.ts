// Programmatic replay: flow datagrams of a capture to a gateway, one UDP socket per original
// exporter, in capture order, paced or as fast as the local socket takes them. Used by
// `flowgate replay`, the tests and the benchmarks.

import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { ReplayDatagram } from './capture';
import { ExporterSockets } from './exporter-sockets';
import { EARLY_MS, Pacer, type Timing } from './pacer';
import { DatagramRewriter } from './rewriter';
import { resolveTarget, type ReplayTarget } from './target';

export { loadReplayDatagrams, selectFlowDatagrams, type ReplayCapture, type ReplayDatagram, type SelectOptions } from './capture';
export { parseTarget, type ReplayTarget } from './target';
export { parseRate } from './option-values';

export const DEFAULT_MAX_EXPORTERS = 1024;

export interface ReplayOptions {
  to: ReplayTarget;
  /** Datagrams per second over all exporters; default: as fast as the local sockets take them. */
  ratePerSec?: number;
  /** 'original' reproduces the capture's inter-arrival times (not with ratePerSec). */
  timing?: 'asap' | 'original';
  /** With timing 'original': how many times faster than recorded. Default 1. */
  speed?: number;
  /** Passes over the capture; 0 = until `signal` aborts. Default 1. */
  loop?: number;
  /** Keep header sequence numbers continuous across loops. Default: on unless loop is 1. */
  rewriteSequence?: boolean;
  /** Set header export times (v5/v9 unix secs, IPFIX export time) to the send time. Default off. */
  retime?: boolean;
  /** More original exporters than this is an error (each needs a socket). Default 1024. */
  maxExporters?: number;
  /** Stops the replay early; replay() then resolves with what was sent (interrupted: true). */
  signal?: AbortSignal;
  onProgress?: (stats: ReplayStats) => void;
  /** Default 5000. */
  progressIntervalMs?: number;
}

export interface ReplayStats {
  /** Datagrams handed to the kernel without error. */
  datagramsSent: number;
  bytesSent: number;
  exporters: number;
  loopsCompleted: number;
  /** Sends that failed (those datagrams were not sent). */
  sendErrors: number;
  /** Errors reported on the sockets by code, e.g. ECONNREFUSED when nothing listens at the target. */
  socketErrors: Record<string, number>;
  elapsedMs: number;
  datagramsPerSec: number;
  interrupted: boolean;
  /** Original exporter ("address|port") -> local UDP port it was replayed from. */
  exporterPorts: Record<string, number>;
}

/** Sends this many datagrams between turns of the event loop when nothing else makes us wait. */
const BATCH = 256;

export async function replay(datagrams: readonly ReplayDatagram[], opts: ReplayOptions): Promise<ReplayStats> {
  const loops = opts.loop ?? 1;
  const timing = timingOf(opts);
  if (!Number.isSafeInteger(loops) || loops < 0) throw new Error(`loop must be a whole number >= 0, got ${loops}`);
  const maxExporters = opts.maxExporters ?? DEFAULT_MAX_EXPORTERS;

  // Exporters are numbered in order of first appearance; socketOf[i] is datagram i's socket.
  const exporterIndex = new Map<string, number>();
  const socketOf = new Uint32Array(datagrams.length);
  datagrams.forEach((d, i) => {
    let e = exporterIndex.get(d.exporterKey);
    if (e === undefined) exporterIndex.set(d.exporterKey, (e = exporterIndex.size));
    socketOf[i] = e;
  });
  if (exporterIndex.size > maxExporters) {
    // Sharing sockets would merge exporters' template and sequence scopes at the gateway and
    // change what is being tested, so this is refused rather than worked around.
    throw new Error(`the capture has ${exporterIndex.size} exporters, more than the limit of ${maxExporters} (one UDP socket each); raise it with --max-exporters`);
  }

  const target = await resolveTarget(opts.to);
  const rewriter = DatagramRewriter.plan(datagrams, { sequence: opts.rewriteSequence ?? loops !== 1, time: opts.retime ?? false });
  const pacer = new Pacer(timing, datagrams);
  const sockets = await ExporterSockets.open(exporterIndex.size, target);
  const ports = sockets.localPorts();
  const exporterPorts: Record<string, number> = {};
  for (const [key, e] of exporterIndex) exporterPorts[key] = ports[e];

  const signal = opts.signal;
  const start = performance.now();
  let issued = 0;
  let bytes = 0;
  let loopsCompleted = 0;
  const snapshot = (): ReplayStats => {
    const elapsedMs = performance.now() - start;
    const datagramsSent = issued - sockets.sendErrors;
    return {
      datagramsSent, bytesSent: bytes, exporters: exporterIndex.size, loopsCompleted, sendErrors: sockets.sendErrors,
      socketErrors: { ...sockets.socketErrors }, elapsedMs, datagramsPerSec: elapsedMs > 0 ? datagramsSent / (elapsedMs / 1000) : 0,
      interrupted: signal?.aborted ?? false, exporterPorts,
    };
  };
  const onProgress = opts.onProgress;
  const ticker = onProgress ? setInterval(() => onProgress(snapshot()), opts.progressIntervalMs ?? 5000) : undefined;

  const n = datagrams.length;
  const retime = opts.retime ?? false;
  try {
    let sinceTurn = 0;
    run: for (let loop = 0; n > 0 && (loops === 0 || loop < loops); loop++) {
      rewriter.startLoop(loop);
      for (let i = 0; i < n; i++) {
        if (pacer.paced) {
          const wait = pacer.dueMs(loop, i, n) - (performance.now() - start);
          if (wait >= EARLY_MS) {
            if (!(await pause(wait, signal))) break run;
            sinceTurn = 0;
          }
        }
        const buf = rewriter.bytes(i, retime ? Date.now() : 0);
        const s = socketOf[i];
        issued++;
        bytes += buf.length;
        if (sockets.send(s, buf)) {
          await sockets.drained(s);
          sinceTurn = 0;
        }
        if (++sinceTurn >= BATCH) {
          sinceTurn = 0;
          await nextTurn();
        }
        if (signal?.aborted) break run;
      }
      loopsCompleted++;
    }
    await sockets.settled();
  } finally {
    if (ticker) clearInterval(ticker);
    await sockets.close();
  }
  return snapshot();
}

function timingOf(opts: ReplayOptions): Timing {
  if (opts.timing === 'original') {
    if (opts.ratePerSec !== undefined) throw new Error('choose either a rate or the original timing, not both');
    const speed = opts.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be > 0, got ${speed}`);
    return { kind: 'original', speed };
  }
  if (opts.speed !== undefined) throw new Error('speed applies only to the original timing');
  if (opts.ratePerSec === undefined) return { kind: 'asap' };
  if (!(opts.ratePerSec > 0) || !Number.isFinite(opts.ratePerSec)) throw new Error(`rate must be > 0 datagrams/s, got ${opts.ratePerSec}`);
  return { kind: 'rate', perSec: opts.ratePerSec };
}

/** false when aborted while waiting. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
