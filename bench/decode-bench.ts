// Decoder benchmark: replays the data-bearing datagrams of each protocol's captures through a
// primed DatagramDecoder and measures records/s for decode alone and for decode + FlowEncoder
// .encode of every record, on one thread.
//
// Run all protocols through the runner (`npm run bench -- decode`), or one protocol in this
// process: `node dist/bench/decode-bench.js netflow9` (handy under --cpu-prof).
//
// Each protocol runs in its own child process by default (BENCH_ISOLATE=0 runs them in one),
// so JIT feedback from one protocol's code does not colour another's figures.

import { fork } from 'node:child_process';
import * as os from 'node:os';
import { FlowEncoder } from '../src/canonical/flow-encoder';
import { WireBatch } from '../src/canonical/wire-batch';
import { DatagramDecoder } from '../src/decode/datagram-decoder';
import { PROTOCOLS, type Protocol } from '../src/decode/types';
import { loadProtocolData, renumberSflow, type BenchDatagram, type ProtocolData } from './datasets';
import {
  formatMachine,
  formatTable,
  isMeasurement,
  jsonLine,
  machineInfo,
  settingsFromEnv,
  type Bench,
  type BenchSettings,
  type Machine,
  type Measurement,
} from './report';

/**
 * decode: datagram → FlowRecords. decode+encode: FlowRecords → protobuf (FlowEncoder
 * .writeBatch per datagram, then one Buffer per record), the record path converters use. wire: the ingest hot path,
 * DatagramDecoder.decodeWire straight to protobuf, then one Buffer per record (raw framing).
 */
export type DecodeMode = 'decode' | 'decode+encode' | 'wire';
const MODES: readonly DecodeMode[] = ['decode', 'decode+encode', 'wire'];

/** BENCH_MODES=decode+encode limits the modes (e.g. to profile one of them). */
function selectedModes(env: NodeJS.ProcessEnv = process.env): DecodeMode[] {
  const wanted = (env.BENCH_MODES ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (wanted.length === 0) return [...MODES];
  const unknown = wanted.filter((w) => !(MODES as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`unknown mode(s) ${unknown.join(', ')}; expected some of ${MODES.join(', ')}`);
  return MODES.filter((m) => wanted.includes(m));
}

/** Templates learned while priming must outlive any run, however long. */
const NO_EXPIRY_US = Number.MAX_SAFE_INTEGER / 4;
/** Target time between clock reads; passes over small captures take microseconds. */
const CHECK_INTERVAL_NS = 200_000;
const WINDOW_NS = 500_000_000n;

// Accumulators: everything the timed code produces flows into these, so none of it is dead.
let accRecords = 0;
let accErrors = 0;
let accBytes = 0;
/** Receive clock handed to the decoder: advances 1 µs per datagram, like a busy socket. */
let nowUs = 0;

function decodePass(dec: DatagramDecoder, items: readonly BenchDatagram[]): void {
  for (let i = 0; i < items.length; i++) {
    const d = items[i];
    const out = dec.decode(d.payload, d.exporter, nowUs++);
    accRecords += out.flows.length;
    accErrors += out.errors.length;
  }
}

const encBatch = new WireBatch();
function decodeEncodePass(dec: DatagramDecoder, enc: FlowEncoder, items: readonly BenchDatagram[]): void {
  for (let i = 0; i < items.length; i++) {
    const d = items[i];
    const out = dec.decode(d.payload, d.exporter, nowUs++);
    const flows = out.flows;
    encBatch.reset();
    enc.writeBatch(encBatch, flows);
    const msgs = encBatch.messages();
    for (let j = 0; j < msgs.length; j++) accBytes += msgs[j].length;
    accRecords += flows.length;
    accErrors += out.errors.length;
  }
}

const batch = new WireBatch();
function wirePass(dec: DatagramDecoder, items: readonly BenchDatagram[]): void {
  for (let i = 0; i < items.length; i++) {
    const d = items[i];
    batch.reset();
    const out = dec.decodeWire(d.payload, d.exporter, nowUs++, 'auto', batch);
    const msgs = batch.messages();
    for (let j = 0; j < msgs.length; j++) accBytes += msgs[j].length;
    accRecords += msgs.length;
    accErrors += out.errors.length;
  }
}

interface Prepared {
  data: ProtocolData;
  /** The datagrams that yield flow records once templates are known, in capture order. */
  timed: BenchDatagram[];
  info: string;
}

function newDecoder(): DatagramDecoder {
  return new DatagramDecoder({ templateLimits: { expiryUs: NO_EXPIRY_US } });
}

/** One pass over the whole capture in order: templates and options (sampling) are learned. */
function prime(dec: DatagramDecoder, all: readonly BenchDatagram[]): void {
  for (const d of all) dec.decode(d.payload, d.exporter, nowUs++);
}

function prepare(protocol: Protocol): Prepared | undefined {
  const data = loadProtocolData(protocol);
  if (data === undefined) return undefined;
  const startUs = data.datagrams.reduce((m, d) => Math.max(m, d.timestampUs), 0);
  nowUs = startUs > 0 ? startUs + 1_000_000 : Date.UTC(2024, 5, 1) * 1000;
  const dec = newDecoder();
  prime(dec, data.datagrams);
  let timed: BenchDatagram[] = [];
  let records = 0;
  let counters = 0;
  for (const d of data.datagrams) {
    const out = dec.decode(d.payload, d.exporter, nowUs++);
    if (out.flows.length > 0) {
      timed.push(d);
      records += out.flows.length;
      counters += out.counters.length;
    }
  }
  if (protocol === 'sflow') timed = renumberSflow(timed);
  const extra = counters > 0 ? ` (+${counters} counter records)` : '';
  const info =
    `${protocol}: ${timed.length} of ${data.datagrams.length} datagrams carry flows; ` +
    `${records} records${extra} per pass, ${(records / Math.max(timed.length, 1)).toFixed(2)} records/datagram; ` +
    `from ${data.source}`;
  return { data, timed, info };
}

interface Timing {
  ns: number;
  cpuUs: number;
  passes: number;
  records: number;
  bytes: number;
  errors: number;
  windowRates: number[];
}

/** Runs `pass` for at least `seconds`, reading the clock every few hundred µs. */
function timeIt(pass: () => void, seconds: number, passesPerCheck: number): Timing {
  const budget = BigInt(Math.round(seconds * 1e9));
  const r0 = accRecords;
  const b0 = accBytes;
  const e0 = accErrors;
  let passes = 0;
  const windowRates: number[] = [];
  const start = process.hrtime.bigint();
  let windowStart = start;
  let windowRecords = accRecords;
  const cpu0 = process.cpuUsage();
  let now = start;
  while (now - start < budget) {
    for (let i = 0; i < passesPerCheck; i++) pass();
    passes += passesPerCheck;
    now = process.hrtime.bigint();
    if (now - windowStart >= WINDOW_NS) {
      windowRates.push(((accRecords - windowRecords) * 1e9) / Number(now - windowStart));
      windowStart = now;
      windowRecords = accRecords;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const ns = Number(now - start);
  return { ns, cpuUs: cpu.user + cpu.system, passes, records: accRecords - r0, bytes: accBytes - b0, errors: accErrors - e0, windowRates };
}

function measure(p: Prepared, mode: DecodeMode, settings: BenchSettings, machine: Machine): Measurement {
  const dec = newDecoder();
  prime(dec, p.data.datagrams);
  const enc = new FlowEncoder();
  const items = p.timed;
  const pass =
    mode === 'decode' ? (): void => decodePass(dec, items)
      : mode === 'wire' ? (): void => wirePass(dec, items)
        : (): void => decodeEncodePass(dec, enc, items);

  // Warm-up (untimed) also sizes the batch of passes between clock reads.
  const w0 = process.hrtime.bigint();
  pass();
  let passNs = Number(process.hrtime.bigint() - w0);
  if (settings.warmupSeconds > 0) {
    const warm = timeIt(pass, settings.warmupSeconds, 1);
    passNs = warm.ns / warm.passes;
  }
  const passesPerCheck = Math.max(1, Math.round(CHECK_INTERVAL_NS / Math.max(passNs, 1)));

  const t = timeIt(pass, settings.seconds, passesPerCheck);
  const datagrams = t.passes * items.length;
  const seconds = t.ns / 1e9;
  const rates = t.windowRates.length > 0 ? t.windowRates : [t.records / seconds];
  return {
    bench: 'decode',
    protocol: p.data.protocol,
    mode,
    records_per_s: t.records / seconds,
    datagrams_per_s: datagrams / seconds,
    ns_per_record: t.ns / Math.max(t.records, 1),
    records_per_datagram: t.records / Math.max(datagrams, 1),
    records: t.records,
    datagrams,
    seconds,
    window_min_records_per_s: Math.min(...rates),
    window_max_records_per_s: Math.max(...rates),
    encoded_bytes_per_record: t.records > 0 ? t.bytes / t.records : 0,
    errors_per_pass: t.errors / Math.max(t.passes, 1),
    cpu_share: (t.cpuUs * 1000) / t.ns,
    loadavg_1m: os.loadavg()[0],
    source: p.data.source,
    node: machine.node,
    cpu: machine.cpu,
  };
}

/** Measures the given protocols in this process. */
export function runProtocols(protocols: readonly Protocol[], settings: BenchSettings, machine: Machine, log: (line: string) => void): Measurement[] {
  const results: Measurement[] = [];
  for (const protocol of protocols) {
    const p = prepare(protocol);
    if (p === undefined) {
      log(`${protocol}: no capture data found; skipped`);
      continue;
    }
    log(p.info);
    if (p.timed.length === 0) {
      log(`${protocol}: no datagram yields flow records; skipped`);
      continue;
    }
    for (const mode of selectedModes()) {
      const m = measure(p, mode, settings, machine);
      if (m.errors_per_pass > 0) log(`${protocol} ${mode}: WARNING ${m.errors_per_pass.toFixed(2)} decode errors per pass`);
      results.push(m);
    }
  }
  return results;
}

export function selectedProtocols(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Protocol[] {
  const wanted = [...argv, ...(env.BENCH_PROTOCOLS ?? '').split(',')].map((s) => s.trim()).filter((s) => s !== '');
  if (wanted.length === 0) return [...PROTOCOLS];
  const unknown = wanted.filter((w) => !(PROTOCOLS as readonly string[]).includes(w));
  if (unknown.length > 0) throw new Error(`unknown protocol(s) ${unknown.join(', ')}; expected some of ${PROTOCOLS.join(', ')}`);
  return PROTOCOLS.filter((p) => wanted.includes(p));
}

/** Runs one protocol in a child process and returns what it measured. */
function runChild(protocol: Protocol): Promise<Measurement[]> {
  return new Promise((resolve, reject) => {
    const results: Measurement[] = [];
    // execArgv is inherited, so `node --cpu-prof dist/bench/run.js decode` profiles each child.
    const child = fork(__filename, [protocol], { stdio: 'inherit' });
    child.on('message', (msg: unknown) => {
      if (isMeasurement(msg)) results.push(msg);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(results);
      else reject(new Error(`decode bench child for ${protocol} exited with ${signal ?? `code ${code}`}`));
    });
  });
}

export const decodeBench: Bench = {
  name: 'decode',
  description: 'DatagramDecoder.decode (records), + FlowEncoder.writeBatch, and decodeWire over the fixture captures, per protocol',
  async run(settings, machine, log) {
    const protocols = selectedProtocols();
    if (!settings.isolate) return runProtocols(protocols, settings, machine, log);
    const results: Measurement[] = [];
    for (const p of protocols) results.push(...(await runChild(p)));
    return results;
  },
};

if (require.main === module) {
  const settings = settingsFromEnv();
  const machine = machineInfo();
  const send = process.send?.bind(process);
  const protocols = selectedProtocols({}, process.argv.slice(2));
  if (send === undefined) console.log(formatMachine(machine));
  const results = runProtocols(protocols, settings, machine, (line) => console.log(line));
  if (send !== undefined) {
    // Each message is handed to the channel before the next; then the channel is closed.
    const sendAll = async (): Promise<void> => {
      for (const m of results) {
        await new Promise<void>((resolve, reject) => {
          send(m, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve()));
        });
      }
      process.disconnect?.();
    };
    sendAll().catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
  } else {
    console.log('');
    console.log(formatTable(results));
    for (const m of results) console.log(jsonLine(m));
  }
}
