// Real collectors and capture for the netflow9 output's end-to-end test: nfcapd (Debian
// nfdump 1.7.1) in the foreground writing into a directory, `nfdump -r … -o json` to read what
// it stored, tcpdump on loopback with a port filter. Every process started here is stopped by
// the returned handle's stop(), which the test calls in after()/finally.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { requireTool } from './tools';
import { waitFor } from './gateway-harness';

export interface Running {
  stop(): Promise<void>;
}

/** A UDP port that was free a moment ago on `host` (bind to 0, read, close). */
export async function freeUdpPort(host: string): Promise<number> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function stopChild(c: ChildProcess, signal: NodeJS.Signals, ms = 10_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill(signal);
  const t = setTimeout(() => c.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

/** nfcapd listening on host:port, storing into `dir` (one file: rotation once an hour). */
export async function startNfcapd(dir: string, host: string, port: number): Promise<Running & { log: () => string }> {
  const bin = requireTool('nfcapd', 'nfdump');
  const args = ['-w', dir, '-b', host, '-p', String(port), '-t', '3600'];
  if (host.includes(':')) args.push('-6');
  const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // Bound once it says so (its own log line), or fail with what it printed.
  await waitFor(() => /Startup/.test(out) || c.exitCode !== null, 10_000, () => `nfcapd to start: ${out}`);
  if (c.exitCode !== null) throw new Error(`nfcapd exited at start (${c.exitCode}): ${out}`);
  return { stop: () => stopChild(c, 'SIGTERM'), log: () => out };
}

/**
 * The kernel's view of the UDP socket bound to `port` (/proc/net/udp, udp6): bytes waiting to be
 * read and datagrams dropped because the receive buffer was full. A collector has taken
 * everything sent to it once `queued` is 0 (nfcapd does not drain its socket when stopped).
 */
export function udpSocketState(port: number): { queued: number; drops: number } | undefined {
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13) continue;
      if (parseInt(cols[1].split(':')[1], 16) !== port) continue;
      return { queued: parseInt(cols[4].split(':')[1], 16), drops: Number(cols[cols.length - 1]) };
    }
  }
  return undefined;
}

/** The flow files nfcapd completed in `dir` (nfcapd.YYYYMMDDhhmm). */
export function nfcapdFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^nfcapd\.\d{12}$/.test(f)).map((f) => path.join(dir, f));
}

/** `nfdump -r FILE -o json` of every file, TZ=UTC so times read as UTC. */
export function nfdumpJson(files: readonly string[]): Array<Record<string, unknown>> {
  const bin = requireTool('nfdump', 'nfdump');
  const all: Array<Record<string, unknown>> = [];
  for (const f of files) {
    const out = execFileSync(bin, ['-r', f, '-o', 'json', '-q'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 256 << 20 });
    const text = out.trim();
    if (text) all.push(...(JSON.parse(text.startsWith('[') ? text : `[${text}]`) as Array<Record<string, unknown>>));
  }
  return all;
}

/** `nfdump -E FILE`: exporter and sampler lines as nfcapd stored them. */
export function nfdumpExporters(files: readonly string[]): string {
  const bin = requireTool('nfdump', 'nfdump');
  return files.map((f) => execFileSync(bin, ['-E', f], { encoding: 'utf8' })).join('\n');
}

/** Packets in a classic pcap file written so far (a torn last record is not counted). */
export function pcapPacketCount(file: string): number {
  if (!existsSync(file)) return 0;
  const b = readFileSync(file);
  if (b.length < 24) return 0;
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  let n = 0;
  for (let p = 24; p + 16 <= b.length; n++) {
    const incl = le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
    if (p + 16 + incl > b.length) break;
    p += 16 + incl;
  }
  return n;
}

/**
 * tcpdump on lo of UDP to `port`, into `file`. --immediate-mode: without it libpcap hands
 * packets over a block at a time, and a block not yet full when tcpdump is stopped is lost
 * (seen: the last ~40 % of a paced burst missing). -U writes each packet as it comes, so
 * pcapPacketCount() can tell when the capture has everything.
 */
export async function startCapture(file: string, port: number): Promise<Running & { packets: () => number; log: () => string }> {
  const bin = requireTool('tcpdump', 'tcpdump');
  // -B: a 32 MiB capture buffer, so a burst on a busy machine is not dropped by the kernel.
  const c = spawn(bin, ['-i', 'lo', '--immediate-mode', '-B', '32768', '-U', '-n', '-w', file, 'udp', 'and', 'dst', 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => /listening on/.test(err) || c.exitCode !== null, 10_000, () => `tcpdump to start: ${err}`);
  if (c.exitCode !== null) throw new Error(`tcpdump exited at start (${c.exitCode}): ${err}`);
  return {
    packets: () => pcapPacketCount(file),
    log: () => err,
    stop: async () => {
      await stopChild(c, 'SIGINT');
      if (!existsSync(file) || statSync(file).size === 0) throw new Error(`tcpdump wrote nothing to ${file}: ${err}`);
    },
  };
}
