// `flowgate dump`: the records of a Kafka flow topic whose message timestamps t fall in the
// half-open window from <= t < to, as CSV. The API under the command (src/commands/dump.ts):
//
//   const summary = await runDump({ brokers, topic, window, fields, ... }, { stderr, stdout });
//
// Steps: connect and check the topic exists (within timeoutMs, so unreachable brokers fail
// fast) → plan each partition's offset range (offset-plan.ts) → read every range to its end
// (fetch-reader.ts, or group-reader.ts) → per message (csv-pipeline.ts): window test on its
// timestamp, decode (message-decoder.ts), --filter, CSV (src/outputs/csv/columns.ts) → finish
// the output (csv-sink.ts) → summary. It never waits for new data: ranges end at the high watermarks
// seen at the start.

import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import { csvColumns, formatHeader, type CsvColumns, type TimeFormat } from '../outputs/csv/columns';
import { CsvPipeline } from './csv-pipeline';
import { openCsvSink, type CsvSink } from './csv-sink';
import { FetchReader } from './fetch-reader';
import { compileFilters, type Predicate } from './filter';
import { GroupReader } from './group-reader';
import { internalFetchApi } from './kafkajs-internals';
import { MessageDecoder, type BadReason } from './message-decoder';
import { planOffsets, type OffsetPlan } from './offset-plan';
import { ProgressBar } from './progress';
import { quietly, ReadAborted, type RangeReader, type ReaderSettings } from './reader';
import type { TimeWindow } from './time-window';
import { withTimeout } from '../util/with-timeout';
import { kafkaSecurityOptions, type KafkaSecurity } from '../bus/kafka-client';

export type ReaderKind = 'fetch' | 'group';

export interface DumpOptions {
  brokers: readonly string[];
  /** SASL and TLS of a config's kafka section (-c); absent: plaintext, no authentication. */
  security?: KafkaSecurity;
  topic: string;
  window: TimeWindow;
  fields: readonly string[];
  timeFormat: TimeFormat;
  protocolNames: boolean;
  /** --filter expressions, ANDed (filter.ts). */
  filters: readonly string[];
  /** Output file; stdout when undefined. */
  out?: string;
  /** How far past `to` CreateTime may be out of order (offset-plan.ts). */
  skewMs: number;
  reader: ReaderKind;
  /** Budget for connecting, checking the topic and planning offsets. */
  timeoutMs: number;
  /** Draw the progress bar (only ever on a terminal). */
  progress: boolean;
  /** kafkajs' own warnings and errors on stderr. */
  verbose?: boolean;
  maxBytes?: number;
  maxBytesPerPartition?: number;
  maxWaitMs?: number;
}

export interface DumpIo {
  stderr: NodeJS.WriteStream;
  stdout: NodeJS.WritableStream;
  /** Ctrl-C: stop reading, remove the .tmp file. */
  signal?: AbortSignal;
  /** Where notes go (a fallback taken, data deleted meanwhile); default: stderr lines. */
  note?(text: string): void;
}

export interface DumpSummary {
  topic: string;
  from: string;
  to: string;
  partitions: number;
  /** Offsets planned over all partitions, and messages actually handed over by the reader. */
  offsets: number;
  messages: number;
  /** Messages read (inside the offset ranges) whose timestamp is outside [from, to). */
  outside_window: number;
  /** Messages in the window that held no decodable record, by reason. */
  bad: Record<BadReason, number>;
  bad_total: number;
  /** Records decoded from messages in the window; filtered_out + written = records. */
  records: number;
  filtered_out: number;
  written: number;
  bytes: number;
  reader: ReaderKind;
  seconds: number;
  records_per_second: number;
  notes: string[];
  out: string;
}

/** A failure with the exit code the command should end with (1 Kafka/IO, 2 usage, 130 Ctrl-C). */
export class DumpError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

const DEFAULTS = { maxBytes: 64 << 20, maxBytesPerPartition: 16 << 20, maxWaitMs: 100 };

function kafkaClient(o: DumpOptions, stderr: NodeJS.WriteStream): Kafka {
  return new Kafka({
    clientId: 'flowgate-dump',
    brokers: [...o.brokers],
    // The same options the gateway's own clients get (src/bus/kafka-client.ts).
    ...kafkaSecurityOptions(o.security ?? {}),
    connectionTimeout: Math.min(o.timeoutMs, 5_000),
    requestTimeout: 30_000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    // kafkajs logs to the console by default, and stdout may be the CSV.
    logLevel: o.verbose ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (e: LogEntry) => {
      stderr.write(`kafkajs ${logLevel[e.level]} ${e.namespace}: ${String(e.log.message)}\n`);
    },
  });
}


/** `p`, or a DumpError 130 as soon as the signal fires (Ctrl-C while connecting). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DumpError('interrupted', 130));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Connects, checks the topic, plans offsets; all within o.timeoutMs. */
async function prepare(admin: Admin, o: DumpOptions): Promise<OffsetPlan> {
  let step = 'connecting';
  let lastError = '';
  const work = (async () => {
    try {
      await admin.connect();
      step = 'listing topics';
      const topics = await admin.listTopics();
      // Checked by listing, not by asking for the topic: a broker with auto-creation on would
      // create a mistyped topic on the spot (the librdkafka mock does).
      if (!topics.includes(o.topic)) {
        const names = topics.filter((t) => !t.startsWith('__')).sort();
        throw new DumpError(`topic ${JSON.stringify(o.topic)} does not exist on ${o.brokers.join(',')} (topics: ${names.length ? names.join(', ') : 'none'})`, 1);
      }
      step = 'looking up offsets';
      return await planOffsets(admin, o.topic, o.window.fromMs, o.window.toMs, o.skewMs);
    } catch (e) {
      lastError = message(e);
      throw e;
    }
  })();
  try {
    return await withTimeout(work, o.timeoutMs, () =>
      new DumpError(`Kafka at ${o.brokers.join(',')} did not answer within ${o.timeoutMs} ms (${step}${lastError ? `: ${lastError}` : ''})`, 1),
    );
  } catch (e) {
    if (e instanceof DumpError) throw e;
    throw new DumpError(`Kafka at ${o.brokers.join(',')}: ${step} failed: ${message(e)}`, 1);
  }
}

function chooseReader(kafka: Kafka, o: DumpOptions, settings: ReaderSettings, note: (s: string) => void): RangeReader {
  if (o.reader === 'fetch') {
    const api = internalFetchApi(kafka);
    if (api) return new FetchReader(api, settings);
    note('this kafkajs lacks the internals the direct-fetch reader uses; reading through a consumer group instead (a few seconds slower to start)');
  }
  return new GroupReader(kafka, settings);
}

export async function runDump(o: DumpOptions, io: DumpIo): Promise<DumpSummary> {
  const started = process.hrtime.bigint();
  // Usage problems first: nothing is opened or connected for a command line that cannot run.
  let cols: CsvColumns;
  let filter: Predicate;
  try {
    cols = csvColumns(o.fields, { timeFormat: o.timeFormat, protocolNames: o.protocolNames });
    filter = compileFilters(o.filters);
  } catch (e) {
    throw new DumpError(message(e), 2);
  }
  const hasFilter = o.filters.length > 0;

  const notes: string[] = [];
  const note = (s: string): void => {
    notes.push(s);
    if (io.note) io.note(s);
    else io.stderr.write(`flowgate dump: note: ${s}\n`);
  };
  let kafka: Kafka;
  try {
    kafka = kafkaClient(o, io.stderr);
  } catch (e) {
    // A PEM file that was readable when the config was checked but is not now.
    throw new DumpError(`kafka.tls: ${message(e)}`, 1);
  }
  const admin = kafka.admin();
  let sink: CsvSink | undefined;
  let bar: ProgressBar | undefined;
  try {
    const plan = await abortable(prepare(admin, o), io.signal);
    for (const n of plan.notes) note(n);
    try {
      sink = await openCsvSink(o.out, io.stdout);
    } catch (e) {
      throw new DumpError(`cannot write ${o.out}: ${message(e)}`, 1);
    }
    await sink.write(formatHeader(cols));

    const decoder = new MessageDecoder();
    const pipeline = new CsvPipeline(cols, hasFilter ? filter : undefined, o.window, decoder, sink, new Map(plan.ranges.map((r) => [r.partition, r.start])));

    const settings: ReaderSettings = {
      maxBytes: o.maxBytes ?? DEFAULTS.maxBytes,
      maxBytesPerPartition: o.maxBytesPerPartition ?? DEFAULTS.maxBytesPerPartition,
      maxWaitMs: o.maxWaitMs ?? DEFAULTS.maxWaitMs,
      watermarks: async (partition) => {
        const m = (await admin.fetchTopicOffsets(o.topic)).find((x) => x.partition === partition);
        return { low: Number(m?.low ?? 0), high: Number(m?.high ?? 0) };
      },
      note,
    };
    const reader = chooseReader(kafka, o, settings, note);
    if (o.progress) {
      bar = new ProgressBar(io.stderr, plan.total, pipeline.counts);
      bar.start();
    }
    try {
      await reader.read(o.topic, plan.ranges, pipeline.onBatch, io.signal);
    } catch (e) {
      if (e instanceof ReadAborted) throw new DumpError('interrupted', 130);
      throw new DumpError(`reading ${o.topic} failed: ${message(e)}`, 1);
    }
    bar?.stop();
    try {
      await pipeline.flush();
      await sink.finish();
    } catch (e) {
      throw new DumpError(`cannot write ${o.out ?? 'stdout'}: ${message(e)}`, 1);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { counts, tally } = pipeline;
    return {
      topic: o.topic,
      from: new Date(o.window.fromMs).toISOString(),
      to: new Date(o.window.toMs).toISOString(),
      partitions: plan.ranges.length,
      offsets: plan.total,
      messages: tally.messages,
      outside_window: tally.outside,
      bad: { ...decoder.bad },
      bad_total: decoder.badTotal(),
      records: counts.records,
      filtered_out: tally.filteredOut,
      written: tally.written,
      bytes: sink.bytes,
      reader: reader.kind,
      seconds,
      records_per_second: seconds > 0 ? counts.records / seconds : 0,
      notes,
      out: o.out ?? '-',
    };
  } catch (e) {
    bar?.stop();
    await sink?.abort();
    if (e instanceof DumpError) throw e;
    throw new DumpError(message(e), 1);
  } finally {
    // Bounded: against a broker that stopped answering, kafkajs' disconnect waits for the
    // requests in flight, and a dump that has failed must not hang on its way out.
    await quietly(admin.disconnect(), 1_000);
  }
}

/** The summary as one human line for stderr. */
export function summaryLine(s: DumpSummary): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const bad = Object.entries(s.bad).filter(([, v]) => v > 0).map(([k, v]) => `${n(v)} ${k}`);
  return (
    `flowgate dump: ${n(s.written)} records written to ${s.out === '-' ? 'stdout' : s.out} ` +
    `(${n(s.records)} read, ${n(s.filtered_out)} filtered out) from ${n(s.messages)} messages in ${s.partitions} partition${s.partitions === 1 ? '' : 's'}; ` +
    `${n(s.outside_window)} outside [${s.from}, ${s.to}), ${n(s.bad_total)} bad${bad.length ? ` (${bad.join(', ')})` : ''}; ` +
    `${s.seconds.toFixed(2)} s, ${n(Math.round(s.records_per_second))} records/s`
  );
}
