// The gateway and the replayer as real CLI processes (`node dist/src/cli.js run|replay`), for
// tests that SIGTERM, SIGKILL and restart them. Every process started here is remembered
// until it exits; killAllCliProcesses() (call it in afterEach) SIGKILLs what is left, so a
// failing test never leaves a gateway or a sender running.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as dgram from 'node:dgram';
import { CLI, waitFor } from './gateway-harness';

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** stdout and stderr, line by line, in arrival order. */
  readonly lines: string[];
  /** Exit code, or the signal name when killed by one. */
  readonly exit: Promise<number | string>;
  readonly exited: () => boolean;
}

const live = new Set<CliProcess>();

function start(args: string[], cwd: string): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let done = false;
  for (const stream of [child.stdout, child.stderr]) {
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  }
  const p: CliProcess = {
    child,
    lines,
    exit: new Promise((resolve) => child.once('exit', (code, signal) => {
      done = true;
      live.delete(p);
      resolve(code ?? signal ?? 'unknown');
    })),
    exited: () => done,
  };
  live.add(p);
  return p;
}

/** JSON log lines of a process (pino's, the replayer's summary). */
export function jsonLines(p: CliProcess): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of p.lines) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // a line cut by the process dying: not ours to judge here
    }
  }
  return out;
}

export interface GatewayProcess extends CliProcess {
  /** Port of /metrics, from the "metrics: serving /metrics" log line. */
  readonly metricsPort: number;
}

/** `flowgate run -c CONFIG` in `cwd`; resolves once every listener logged "listening". */
export async function startGatewayProcess(config: string, cwd: string, listeners = 1): Promise<GatewayProcess> {
  const p = start(['run', '-c', config], cwd);
  await waitFor(() => p.exited() || jsonLines(p).filter((l) => l.msg === 'listening').length >= listeners, 30_000,
    () => `the gateway to listen:\n${p.lines.join('\n')}`);
  if (p.exited()) throw new Error(`the gateway exited at start (${await p.exit}):\n${p.lines.join('\n')}`);
  const served = jsonLines(p).find((l) => l.msg === 'metrics: serving /metrics');
  const port = (served?.address as { port?: number } | undefined)?.port;
  if (typeof port !== 'number') throw new Error(`no metrics address in the gateway's log:\n${p.lines.join('\n')}`);
  return Object.assign(p, { metricsPort: port });
}

/** SIGTERM and the exit code; fails (after SIGKILL) if the process is not gone within `ms`. */
export async function sigterm(p: CliProcess, ms = 60_000): Promise<number | string> {
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p.exit, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  clearTimeout(timer); // a pending timer would keep mocha alive for `ms` after the test
  if (r === 'timeout') {
    p.child.kill('SIGKILL');
    throw new Error(`no exit within ${ms} ms of SIGTERM:\n${p.lines.slice(-40).join('\n')}`);
  }
  return r;
}

/** The last "summary" log line (the gateway writes one as it stops). */
export function lastSummary(p: CliProcess): Record<string, unknown> {
  const s = jsonLines(p).filter((l) => l.msg === 'summary').pop();
  if (!s) throw new Error(`no summary line:\n${p.lines.slice(-40).join('\n')}`);
  return s;
}

export interface ReplaySummary {
  datagrams_sent: number;
  loops_completed: number;
  flow_datagrams_per_loop: number;
  /** Reason -> datagrams of the capture not replayed (the loader's `skipped`). */
  skipped: Record<string, number>;
  send_errors: number;
  socket_errors: Record<string, number>;
  interrupted: boolean;
}

export interface ReplayProcess extends CliProcess {
  /** The summary line, once the replay exits 0 (rejects otherwise). */
  readonly summary: Promise<ReplaySummary>;
}

/** `flowgate replay FILE --to 127.0.0.1:PORT --loop N --rate R` (sequences continuous over loops). */
export function startReplayProcess(file: string, port: number, loop: number, rate: number, cwd: string): ReplayProcess {
  const p = start(['replay', file, '--to', `127.0.0.1:${port}`, '--loop', String(loop), '--rate', String(rate)], cwd);
  const summary = p.exit.then((code) => {
    const s = jsonLines(p).find((l) => l.summary !== undefined)?.summary as ReplaySummary | undefined;
    if (code !== 0 || !s) throw new Error(`replay of ${file} exited ${code}:\n${p.lines.join('\n')}`);
    return s;
  });
  summary.catch(() => undefined); // observed by the test when it awaits; never unhandled
  return Object.assign(p, { summary });
}

/** SIGKILLs every CLI process still running; for afterEach, also after a failure. */
export async function killAllCliProcesses(): Promise<void> {
  const left = [...live];
  for (const p of left) p.child.kill('SIGKILL');
  await Promise.all(left.map((p) => p.exit));
}

/** A UDP port free on 127.0.0.1 right now (the gateway must come back on the same one). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

