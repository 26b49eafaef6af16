// What every benchmark reports, and how the runner prints it: a readable table for people and
// one JSON line per measurement for tooling (lines starting with `{"bench":`).

import { readFileSync } from 'node:fs';
import * as os from 'node:os';

/** One measured figure set. Rates are per second of wall-clock time on one thread. */
export interface Measurement {
  bench: string;
  /** What was measured within the bench, e.g. the protocol. */
  protocol: string;
  mode: string;
  records_per_s: number;
  datagrams_per_s: number;
  ns_per_record: number;
  records_per_datagram: number;
  records: number;
  datagrams: number;
  seconds: number;
  /** Slowest and fastest ~0.5 s window, records/s: how steady the figure is. */
  window_min_records_per_s: number;
  window_max_records_per_s: number;
  /** Encoded protobuf bytes per record (0 when nothing was encoded). */
  encoded_bytes_per_record: number;
  /** Decode errors seen per pass of the timed data (should be 0: clean data). */
  errors_per_pass: number;
  /**
   * Process CPU time (all threads, incl. GC helpers) / wall time while timed. Well below 1
   * means the process was not running all the time (a busy machine): the rate is then low.
   */
  cpu_share: number;
  /** 1-minute load average at the end of the measurement. */
  loadavg_1m: number;
  /** Where the data came from. */
  source: string;
  node: string;
  cpu: string;
}

export interface Machine {
  cpu: string;
  logicalCores: number;
  ramGiB: number;
  node: string;
  v8: string;
  os: string;
  date: string;
  /** 1/5/15-minute load averages when the run started: other work skews the figures. */
  loadavg: string;
}

export function machineInfo(): Machine {
  return {
    cpu: cpuModel(),
    logicalCores: os.cpus().length,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

function cpuModel(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(text);
    if (m) return m[1].trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function formatMachine(m: Machine): string {
  return [
    `machine: ${m.cpu}, ${m.logicalCores} logical cores, ${m.ramGiB} GiB RAM`,
    `runtime: node ${m.node} (V8 ${m.v8}), ${m.os}`,
    `date:    ${m.date} (load average ${m.loadavg})`,
  ].join('\n');
}

/** Integer with thousands separators: 2,345,678. */
export function grouped(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function pad(s: string, width: number, right: boolean): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

/** A fixed-width text table of measurements (the one docs/PERFORMANCE.md quotes). */
export function formatTable(ms: readonly Measurement[]): string {
  const header = ['bench', 'protocol', 'mode', 'records/s', 'datagrams/s', 'ns/record', 'rec/dgram', 'B/rec', 'window min-max records/s', 'cpu%', 'load'];
  const rows = ms.map((m) => [
    m.bench,
    m.protocol,
    m.mode,
    grouped(m.records_per_s),
    grouped(m.datagrams_per_s),
    m.ns_per_record.toFixed(1),
    m.records_per_datagram.toFixed(2),
    m.encoded_bytes_per_record > 0 ? m.encoded_bytes_per_record.toFixed(1) : '-',
    `${grouped(m.window_min_records_per_s)} - ${grouped(m.window_max_records_per_s)}`,
    (100 * m.cpu_share).toFixed(0),
    m.loadavg_1m.toFixed(2),
  ]);
  const right = [false, false, false, true, true, true, true, true, true, true, true];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i], right[i])).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The machine-readable line for one measurement. */
export function jsonLine(m: Measurement): string {
  const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
  return JSON.stringify({
    ...m,
    records_per_s: Math.round(m.records_per_s),
    datagrams_per_s: Math.round(m.datagrams_per_s),
    ns_per_record: round(m.ns_per_record, 1),
    records_per_datagram: round(m.records_per_datagram, 3),
    seconds: round(m.seconds, 3),
    window_min_records_per_s: Math.round(m.window_min_records_per_s),
    window_max_records_per_s: Math.round(m.window_max_records_per_s),
    encoded_bytes_per_record: round(m.encoded_bytes_per_record, 2),
    errors_per_pass: round(m.errors_per_pass, 3),
    cpu_share: round(m.cpu_share, 3),
    loadavg_1m: round(m.loadavg_1m, 2),
  });
}

/** Runtime type check of a Measurement received from a child process. */
export function isMeasurement(v: unknown): v is Measurement {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const strings = ['bench', 'protocol', 'mode', 'source', 'node', 'cpu'];
  const numbers = [
    'records_per_s', 'datagrams_per_s', 'ns_per_record', 'records_per_datagram', 'records', 'datagrams', 'seconds',
    'window_min_records_per_s', 'window_max_records_per_s', 'encoded_bytes_per_record', 'errors_per_pass', 'cpu_share',
    'loadavg_1m',
  ];
  return strings.every((k) => typeof o[k] === 'string') && numbers.every((k) => typeof o[k] === 'number');
}

/** Benchmark settings from the environment. */
export interface BenchSettings {
  /** Timed seconds per measurement (BENCH_SECONDS, default 3). */
  seconds: number;
  /** Untimed warm-up seconds before each measurement (BENCH_WARMUP_SECONDS, default 1). */
  warmupSeconds: number;
  /** Run each sub-benchmark in its own process (BENCH_ISOLATE, default 1). */
  isolate: boolean;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const num = (name: string, dflt: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name}=${raw}: expected a non-negative number`);
    return v;
  };
  return {
    seconds: Math.max(num('BENCH_SECONDS', 3), 0.05),
    warmupSeconds: num('BENCH_WARMUP_SECONDS', 1),
    isolate: (env.BENCH_ISOLATE ?? '1') !== '0',
  };
}

/** A benchmark the runner can run by name. */
export interface Bench {
  readonly name: string;
  readonly description: string;
  run(settings: BenchSettings, machine: Machine, log: (line: string) => void): Promise<Measurement[]>;
}
