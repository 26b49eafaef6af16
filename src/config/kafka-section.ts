// The `kafka` section after the schema: environment overrides, secrets from the environment,
// and the checks that span several keys.

import { accessSync, constants } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { KafkaConfig, KafkaSaslConfig, KafkaTlsConfig } from './types';
import type { FileKafka, FileKafkaSasl, FileKafkaTls } from './schema';
import { checkBroker } from './address';
import type { PathSegment, Problem } from './problems';

export const ENV_BROKERS = 'FLOWGATE_KAFKA_BROKERS';
export const ENV_USERNAME = 'FLOWGATE_KAFKA_USERNAME';

export type Env = Readonly<Record<string, string | undefined>>;
/** `fromEnv`: the value came from the environment, so no line of the file is to blame. */
type Report = (path: PathSegment[], message: string, fromEnv?: boolean) => void;

/** FLOWGATE_KAFKA_BROKERS as a list, or undefined when unset or blank. */
export function envBrokers(env: Env): string[] | undefined {
  const list = (env[ENV_BROKERS] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return list.length ? list : undefined;
}

function brokers(k: FileKafka, env: Env, report: Report): string[] {
  const fromEnv = envBrokers(env);
  const list = fromEnv ?? k.brokers ?? [];
  list.forEach((b, i) => {
    const r = checkBroker(b);
    if (r.ok) return;
    if (fromEnv) report(['kafka', 'brokers'], `${ENV_BROKERS} entry ${r.problem}`, true);
    else report(['kafka', 'brokers', i], r.problem);
  });
  return list;
}

function sasl(s: FileKafkaSasl, env: Env, report: Report): KafkaSaslConfig {
  const username = env[ENV_USERNAME] || s.username;
  if (!username) report(['kafka', 'sasl', 'username'], `required key missing; give the SASL user here or in the environment variable ${ENV_USERNAME}`);
  const password = env[s.password_env];
  // An empty password is as good as none and would only fail later, at the broker.
  if (!password) {
    report(['kafka', 'sasl', 'password_env'], `environment variable ${s.password_env} is not set (or empty); export the SASL password in it, or name another variable with password_env`);
  }
  return { mechanism: s.mechanism, username: username ?? '', password: password ?? '' };
}

function tls(t: boolean | FileKafkaTls | undefined, report: Report): KafkaTlsConfig | undefined {
  if (t === undefined || t === false) return undefined;
  if (t === true) return { reject_unauthorized: true };
  if ((t.cert_file === undefined) !== (t.key_file === undefined)) {
    const [has, lacks] = t.cert_file === undefined ? ['key_file', 'cert_file'] : ['cert_file', 'key_file'];
    report(['kafka', 'tls', lacks], `required key missing; ${has} is given, and a client certificate needs both cert_file and key_file`);
  }
  for (const key of ['ca_file', 'cert_file', 'key_file'] as const) {
    const file = t[key];
    if (file === undefined) continue;
    // Checked now so check-config catches it; the Kafka client reads the files at start.
    try {
      accessSync(file, constants.R_OK);
    } catch (e) {
      report(['kafka', 'tls', key], `${JSON.stringify(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of a readable PEM file${isAbsolute(file) ? '' : ' (relative paths start at the working directory)'}`);
    }
  }
  return { ...t };
}

function crossChecks(k: FileKafka, report: Report): void {
  const topics: [string, string][] = [['topic', k.topic], ['counters_topic', k.counters_topic], ['state_topic', k.state_topic]];
  topics.forEach(([key, name], i) => {
    const earlier = topics.slice(0, i).find(([, other]) => other === name && name !== '');
    // Mixed record kinds on one topic could not be told apart by consumers.
    if (earlier) report(['kafka', key], `${JSON.stringify(name)} is also kafka.${earlier[0]}; each topic must have its own name`);
  });
  if (k.batch_max_records > k.buffer_max_records) {
    report(['kafka', 'batch_max_records'], `${k.batch_max_records} is larger than kafka.buffer_max_records (${k.buffer_max_records}); a batch must fit in the buffer`);
  }
  if (k.batch_max_bytes > k.buffer_max_bytes) {
    report(['kafka', 'batch_max_bytes'], `${k.batch_max_bytes} is larger than kafka.buffer_max_bytes (${k.buffer_max_bytes}); a batch must fit in the buffer`);
  }
}

export function buildKafka(k: FileKafka, env: Env, lineOf: (path: PathSegment[]) => number | undefined): { kafka: KafkaConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const report: Report = (path, message, fromEnv = false) => problems.push({ path, message, line: fromEnv ? undefined : lineOf(path) });
  const { sasl: fileSasl, tls: fileTls, brokers: _fileBrokers, ...plain } = k;
  const kafka: KafkaConfig = { ...plain, brokers: brokers(k, env, report) };
  if (fileSasl) kafka.sasl = sasl(fileSasl, env, report);
  const t = tls(fileTls, report);
  if (t) kafka.tls = t;
  crossChecks(k, report);
  return { kafka, problems };
}
