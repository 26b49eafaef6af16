// Shared by the gateway end-to-end tests: what `flowgate decode` says a capture holds, and
// replaying captures to a running gateway over real UDP on 127.0.0.1.

import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { loadReplayDatagrams, replay } from '../../src/replay/replayer';
import type { RunningGateway } from '../../src/runtime/assemble';

export const REPO = path.resolve(__dirname, '../../..');
export const FIXTURES = path.join(REPO, 'fixtures');
export const CLI = path.join(REPO, 'dist', 'src', 'cli.js');

export const FLOW_FIXTURES = [
  'softflowd-v5.pcap', 'softflowd-v9.pcap', 'softflowd-v9-ipv6.pcap', 'softflowd-ipfix.pcap',
  'softflowd-ipfix-ipv6.pcap', 'pmacct-v9-sampled.pcap', 'pmacct-ipfix-sampled.pcap', 'pmacct-sflow.pcap',
];

/** `flowgate decode FILE` (the real CLI) as JSON objects. */
export function decodeWithCli(file: string): Array<Record<string, unknown>> {
  const out = execFileSync(process.execPath, [CLI, 'decode', path.join(FIXTURES, file), '--summary', 'none', '--counters', 'none'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Fields that differ between a live replay and an offline decode for reasons that are not
 * decoding: the receive time, and for sFlow the flow times (sFlow has none: they are the
 * receive time). The exporter port is the replayer's socket, not the capture's. */
export function liveComparable(j: Record<string, unknown>, fields: readonly string[]): string {
  const sflow = j.type === 'SFLOW_5';
  return fields
    .filter((f) => f !== 'time_received_ns' && !(sflow && (f === 'time_flow_start_ns' || f === 'time_flow_end_ns')))
    .map((f) => `${f}=${String(j[f])}`)
    .join(' ');
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls until `cond` holds; fails with `what` after `ms`. Bounded: tests never hang. */
export async function waitFor(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
    await sleep(20);
  }
}

export function listenPort(g: RunningGateway, i = 0): number {
  const a = g.gateway.listeners[i].address();
  if (!a) throw new Error('listener not bound');
  return a.port;
}

/** Replays captures to 127.0.0.1:port at a rate the default socket buffer absorbs. */
export async function replayFixtures(files: readonly string[], port: number, ratePerSec = 4000): Promise<number> {
  let sent = 0;
  for (const f of files) {
    const cap = loadReplayDatagrams(path.join(FIXTURES, f));
    const s = await replay(cap.datagrams, { to: { host: '127.0.0.1', port }, ratePerSec });
    if (s.sendErrors) throw new Error(`${f}: ${s.sendErrors} send errors`);
    sent += s.datagramsSent;
  }
  return sent;
}

/** Log lines of a gateway under test, kept for the failure message instead of printed. */
export class LogSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  messages(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/** Whether a v9/IPFIX datagram carries a template or options-template set (set ids 0-3). */
export function hasTemplateSet(b: Buffer): boolean {
  for (let p = b.readUInt16BE(0) === 9 ? 20 : 16; p + 4 <= b.length; p += b.readUInt16BE(p + 2)) {
    if (b.readUInt16BE(p) <= 3) return true;
    if (b.readUInt16BE(p + 2) < 4) break;
  }
  return false;
}

/** GET /metrics from a gateway under test. */
export function scrapeMetrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

/** Sum of a metric's samples whose labels include all of `labels` (Prometheus text format). */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([^{ ]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const kv of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) have[kv[1]] = kv[2];
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}
