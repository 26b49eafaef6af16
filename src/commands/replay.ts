// `flowgate replay FILE --to HOST:PORT`: option text in, a replay run, one JSON summary line on
// stderr out. Exit code 1 only for what stops the replay from starting (bad options, unreadable
// capture, unresolvable target, too many exporters); send errors are counted, not fatal.

import { abortOnSignals } from './interrupt';
import { loadReplayDatagrams, type ReplayCapture } from '../replay/capture';
import { parseCount, parseRate, parseSpeed } from '../replay/option-values';
import { DEFAULT_MAX_EXPORTERS, replay, type ReplayOptions, type ReplayStats } from '../replay/replayer';
import { parseTarget } from '../replay/target';

/** Option values as commander hands them over (text), validated here. */
export interface ReplayCommandOptions {
  to: string;
  rate?: string;
  timing?: string;
  speed?: string;
  loop?: string;
  rewriteSequence?: boolean;
  retime?: boolean;
  port?: string;
  maxExporters?: string;
  progress?: boolean;
}

const PROGRESS_INTERVAL_MS = 5000;

export async function runReplay(file: string, o: ReplayCommandOptions): Promise<number> {
  let opts: ReplayOptions;
  let port: number | undefined;
  try {
    opts = replayOptions(o);
    port = o.port === undefined ? undefined : parseCount('--port', o.port, 0, 65535);
  } catch (e) {
    return fail(e);
  }
  let capture: ReplayCapture;
  try {
    capture = loadReplayDatagrams(file, { port });
  } catch (e) {
    return fail(new Error(`cannot read ${file}: ${message(e)}`));
  }

  // The first Ctrl-C ends the replay with a summary; a second one does not wait for it.
  const interrupt = abortOnSignals();
  try {
    const progress = o.progress === true && process.stderr.isTTY === true;
    const stats = await replay(capture.datagrams, {
      ...opts,
      signal: interrupt.signal,
      onProgress: progress ? (s) => process.stderr.write(`${JSON.stringify({ progress: summaryOf(file, o.to, capture, s, opts) })}\n`) : undefined,
      progressIntervalMs: PROGRESS_INTERVAL_MS,
    });
    process.stderr.write(`${JSON.stringify({ summary: summaryOf(file, o.to, capture, stats, opts) })}\n`);
    return 0;
  } catch (e) {
    return fail(e);
  } finally {
    interrupt.release();
  }
}

function replayOptions(o: ReplayCommandOptions): ReplayOptions {
  const timing = o.timing ?? 'asap';
  if (timing !== 'asap' && timing !== 'original') throw new Error(`bad --timing ${JSON.stringify(timing)}: use asap or original`);
  if (timing === 'original' && o.rate !== undefined) throw new Error('--rate and --timing original exclude each other: pick one');
  if (timing !== 'original' && o.speed !== undefined) throw new Error('--speed needs --timing original');
  return {
    to: parseTarget(o.to),
    ratePerSec: o.rate === undefined ? undefined : parseRate(o.rate),
    timing,
    speed: o.speed === undefined ? undefined : parseSpeed(o.speed),
    loop: o.loop === undefined ? 1 : parseCount('--loop', o.loop, 0),
    rewriteSequence: o.rewriteSequence,
    retime: o.retime ?? false,
    maxExporters: o.maxExporters === undefined ? DEFAULT_MAX_EXPORTERS : parseCount('--max-exporters', o.maxExporters, 1),
  };
}

function summaryOf(file: string, to: string, capture: ReplayCapture, s: ReplayStats, opts: ReplayOptions): Record<string, unknown> {
  return {
    file,
    to,
    datagrams_sent: s.datagramsSent,
    bytes_sent: s.bytesSent,
    exporters: s.exporters,
    loops_completed: s.loopsCompleted,
    flow_datagrams_per_loop: capture.datagrams.length,
    packets: capture.packets,
    skipped: capture.skipped,
    send_errors: s.sendErrors,
    socket_errors: s.socketErrors,
    elapsed_s: Math.round(s.elapsedMs) / 1000,
    datagrams_per_s: Math.round(s.datagramsPerSec),
    rewrite_sequence: opts.rewriteSequence ?? opts.loop !== 1,
    retime: opts.retime ?? false,
    interrupted: s.interrupted,
  };
}

function fail(e: unknown): number {
  process.stderr.write(`flowgate replay: ${message(e)}\n`);
  return 1;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
