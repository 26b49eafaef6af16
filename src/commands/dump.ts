// `flowgate dump [-c config.yaml] --brokers B --topic T --from TIME --to TIME ...`: option
// text in (-c brings the config's Kafka brokers, SASL, TLS and topic), validated
// here (every usage problem is exit 2 with one line naming it), then src/dump/dump.ts runs.
// Exit codes: 0 done, 1 Kafka or file failure, 2 usage, 130 interrupted (Ctrl-C; the .tmp
// file is removed).

import { abortOnSignals } from './interrupt';
import { DEFAULT_CSV_FIELDS } from './decode';
import { checkColumns } from '../outputs/csv/columns';
import { DumpError, runDump, summaryLine, type DumpOptions, type ReaderKind } from '../dump/dump';
import { compileFilters } from '../dump/filter';
import { parseWindow, secondsHint } from '../dump/time-window';
import { ENV_BROKERS } from '../config/kafka-section';
import { ConfigError, loadConfig } from '../config/config';
import { worldReadableSecrets } from '../config/secrets';
import type { KafkaConfig, TimeFormat } from '../config/types';

/** Option values as commander hands them over (text), validated here. */
export interface DumpCommandOptions {
  /** -c: take the kafka section (brokers, SASL, TLS, topic) from a gateway config file. */
  config?: string;
  brokers?: string;
  topic?: string;
  from: string;
  to: string;
  fields?: string;
  timeFormat: string;
  protocolNames?: boolean;
  out?: string;
  filter: string[];
  skewMs: string;
  timeoutMs: string;
  reader: string;
  progress: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

class UsageError extends Error {}

function count(option: string, text: string, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > max) throw new UsageError(`${option} ${JSON.stringify(text)}: expected an integer 0-${max}`);
  return Number(text);
}

/**
 * The kafka section of `-c FILE`, loaded as `run` loads it (environment included: brokers,
 * user, secrets), so dump reaches a secured cluster exactly as the gateway does.
 */
function configKafka(file: string, env: NodeJS.ProcessEnv): KafkaConfig {
  let config;
  try {
    config = loadConfig(file, env);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.problems.join('\nflowgate dump: '));
    throw e;
  }
  if (!config.kafka) throw new UsageError(`${file} has no kafka section; dump reads Kafka (give --brokers, or a config with kafka)`);
  return config.kafka;
}

/** The DumpOptions a command line means, or a UsageError naming the first problem. */
export function dumpOptions(o: DumpCommandOptions, env: NodeJS.ProcessEnv = process.env): DumpOptions {
  const kafka = o.config !== undefined ? configKafka(o.config, env) : undefined;
  // --brokers wins over the file (and the file's brokers already include FLOWGATE_KAFKA_BROKERS).
  const brokerText = o.brokers ?? kafka?.brokers.join(',') ?? env[ENV_BROKERS];
  if (!brokerText) throw new UsageError(`--brokers is required (or set ${ENV_BROKERS}, or give -c with a config file)`);
  const brokers = brokerText.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of brokers) if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(b)) throw new UsageError(`--brokers: ${JSON.stringify(b)} is not host:port`);
  if (brokers.length === 0) throw new UsageError('--brokers is empty');
  const topic = o.topic ?? kafka?.topic;
  if (topic === undefined) throw new UsageError('--topic is required (or give -c with a config file: then kafka.topic)');
  if (!topic.trim()) throw new UsageError('--topic is empty');
  let window;
  try {
    window = parseWindow(o.from, o.to);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const fields = o.fields === undefined ? [...DEFAULT_CSV_FIELDS] : o.fields.split(',').map((s) => s.trim()).filter(Boolean);
  const problems = checkColumns(fields);
  if (problems.length) throw new UsageError(`--fields: ${problems.join('; ')}`);
  if (!['iso', 'epoch_ms', 'epoch_ns'].includes(o.timeFormat)) throw new UsageError(`--time-format ${JSON.stringify(o.timeFormat)}: use iso, epoch_ms or epoch_ns`);
  if (o.reader !== 'fetch' && o.reader !== 'group') throw new UsageError(`--reader ${JSON.stringify(o.reader)}: use fetch or group`);
  try {
    compileFilters(o.filter);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (o.out !== undefined && o.out.trim() === '') throw new UsageError('--out is empty');
  return {
    brokers,
    topic,
    security: kafka ? { sasl: kafka.sasl, tls: kafka.tls } : undefined,
    window,
    fields,
    timeFormat: o.timeFormat as TimeFormat,
    protocolNames: o.protocolNames === true,
    filters: o.filter,
    out: o.out,
    skewMs: count('--skew-ms', o.skewMs, 365 * 86_400_000),
    timeoutMs: Math.max(1, count('--timeout-ms', o.timeoutMs, 3_600_000)),
    reader: o.reader as ReaderKind,
    progress: o.progress && o.quiet !== true,
    verbose: o.verbose === true,
  };
}

export async function runDumpCommand(o: DumpCommandOptions): Promise<number> {
  let opts: DumpOptions;
  try {
    opts = dumpOptions(o);
  } catch (e) {
    process.stderr.write(`flowgate dump: ${(e as Error).message}\n`);
    return 2;
  }
  // Shown even with --quiet: a key anyone can read is a problem worth one line every time.
  if (o.config !== undefined) {
    for (const w of worldReadableSecrets(opts.security)) process.stderr.write(`flowgate dump: warning: ${w.text}\n`);
  }
  if (o.quiet !== true) {
    for (const [name, text] of [['--from', o.from], ['--to', o.to]] as const) {
      const hint = secondsHint(text, name);
      if (hint) process.stderr.write(`flowgate dump: ${hint}\n`);
    }
  }
  // The first Ctrl-C stops reading and removes the .tmp file; a second one does not wait.
  const interrupt = abortOnSignals();
  try {
    const summary = await runDump(opts, {
      stderr: process.stderr,
      stdout: process.stdout,
      signal: interrupt.signal,
      note: o.quiet === true ? () => undefined : (s) => process.stderr.write(`flowgate dump: note: ${s}\n`),
    });
    if (o.quiet !== true) process.stderr.write(`${summaryLine(summary)}\n`);
    return 0;
  } catch (e) {
    const code = e instanceof DumpError ? e.exitCode : 1;
    process.stderr.write(`flowgate dump: ${(e as Error).message}\n`);
    return code;
  } finally {
    interrupt.release();
  }
}
