// Processes and probes of the end-to-end benchmark: the gateway and the sender as pinned child
// processes (`taskset`), Prometheus scrapes, and what /proc says about the gateway (CPU time,
// peak RSS, its UDP socket's queue and kernel drops). Linux only.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { requireTool } from '../test/support/tools';

/** dist/bench/e2e-process.js → dist/src/cli.js */
export const CLI = path.resolve(__dirname, '../src/cli.js');

export function requireTaskset(): string {
  return requireTool('taskset', 'util-linux');
}

export function clockTicksPerSecond(): number {
  const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
  const n = Number(out);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`getconf CLK_TCK gave ${JSON.stringify(out)}`);
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// Children: every process started here is tracked until it exits, and killed if the bench
// itself ends first (error, Ctrl-C).

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export interface Spawned {
  child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or -1 for a signal) once the process has exited. */
  readonly exited: Promise<number>;
  hasExited(): boolean;
  /** Last ~16 KiB of stdout and stderr. */
  output(): { stdout: string; stderr: string };
}

const OUTPUT_KEEP = 16_384;

export function spawnTracked(command: string, args: readonly string[]): Spawned {
  installHooks();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  let done = false;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (s: string) => {
    stdout = (stdout + s).slice(-OUTPUT_KEEP);
  });
  child.stderr?.on('data', (s: string) => {
    stderr = (stderr + s).slice(-OUTPUT_KEEP);
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', (e) => {
      stderr += `\n${e.message}`;
      done = true;
      live.delete(child);
      resolve(-1);
    });
    child.once('close', (code) => {
      done = true;
      live.delete(child);
      resolve(code ?? -1);
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    hasExited: () => done,
    output: () => ({ stdout, stderr }),
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(p: Spawned, graceMs: number): Promise<void> {
  if (p.hasExited()) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// Ports (loopback only)

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Prometheus

/** Metric name → value summed over all label sets (histogram series keep their suffixes). */
export type Scrape = Map<string, number>;

export function scrape(port: number, timeoutMs = 5000): Promise<Scrape> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`/metrics answered ${res.statusCode}`));
        else resolve(parseMetrics(body));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`/metrics: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

export function parseMetrics(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[2]);
    if (!Number.isFinite(v)) continue;
    out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

export function metric(s: Scrape, name: string): number {
  return s.get(name) ?? 0;
}

// ---------------------------------------------------------------------------------------------
// /proc

/** utime + stime of a process, in clock ticks (all its threads). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** VmHWM (peak RSS) and VmRSS in bytes. */
export function memory(pid: number): { peakRss: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { peakRss: kb('VmHWM'), rss: kb('VmRSS') };
}

export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export interface UdpSocketState {
  inode: number;
  /** Bytes waiting in the receive queue. */
  rxQueue: number;
  /** Datagrams the kernel dropped on this socket since it was opened (receive buffer full). */
  drops: number;
}

/** The IPv4 UDP socket bound to 127.0.0.1:port, from /proc/net/udp. */
export function udpSocket(port: number): UdpSocketState | undefined {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== local) continue;
    return { inode: Number(f[9]), rxQueue: parseInt(f[4].split(':')[1], 16), drops: Number(f[12]) };
  }
  return undefined;
}

/** Whether `pid` holds the socket with this inode (so the port found is really the gateway's). */
export function ownsSocket(pid: number, inode: number): boolean {
  const want = `socket:[${inode}]`;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === want) return true;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return false;
  }
  return false;
}

/** Pins every thread of a running process (e.g. the Kafka mock) to `cpus` ("1"). */
export function pinProcess(taskset: string, pid: number, cpus: string): void {
  execFileSync(taskset, ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export interface CpuTimes {
  /** Ticks the CPU spent running anything (user, nice, system, irq, softirq). */
  busy: number;
  /** Ticks the hypervisor gave to someone else (a VM's "steal"). */
  steal: number;
  total: number;
}

/** Cumulative times of one CPU ("cpu0") from /proc/stat, in clock ticks. */
export function cpuTimes(cpu: number): CpuTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) throw new Error(`/proc/stat has no cpu${cpu}`);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, steal: steal ?? 0, total: busy + idle + iowait + (steal ?? 0) };
}

/** The CPU affinity mask of a process, as `taskset -p` prints it (hex, e.g. "3"). */
export function affinityMask(taskset: string, pid: number): string {
  const out = execFileSync(taskset, ['-p', String(pid)], { encoding: 'utf8' });
  const m = /:\s*([0-9a-f,]+)\s*$/i.exec(out.trim());
  if (!m) throw new Error(`taskset -p ${pid}: unexpected output ${JSON.stringify(out)}`);
  return m[1];
}

export function setAffinityMask(taskset: string, pid: number, mask: string): void {
  execFileSync(taskset, ['-a', '-p', mask, String(pid)], { stdio: 'ignore' });
}
