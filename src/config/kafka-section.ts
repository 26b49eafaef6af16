// The `kafka` section after the schema: environment overrides, secrets from the environment or
// from files (secrets.ts), and the checks that span several keys.

import { createPrivateKey } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { KafkaConfig, KafkaSaslConfig, KafkaTlsConfig } from './types';
import type { FileKafka, FileKafkaSasl, FileKafkaTls } from './schema';
import { checkBroker } from './address';
import type { PathSegment, Problem } from './problems';
import { DEFAULT_PASSWORD_ENV } from './schema';
import { readSecret, type SecretSource } from './secrets';

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
  if (s.password_env !== undefined && s.password_file !== undefined) {
    // Two sources would leave it unclear which one the broker sees.
    report(['kafka', 'sasl', 'password_file'], 'password_env is given too; give the password in one place: password_env or password_file');
    return { mechanism: s.mechanism, username: username ?? '', password: '' };
  }
  const source: SecretSource = s.password_file !== undefined ? { file: s.password_file } : { env: s.password_env ?? DEFAULT_PASSWORD_ENV };
  const r = readSecret(source, env, 'SASL password', 'password_env');
  if (!r.ok) report(['kafka', 'sasl', 'file' in source ? 'password_file' : 'password_env'], r.problem);
  const out: KafkaSaslConfig = { mechanism: s.mechanism, username: username ?? '', password: r.ok ? r.value : '' };
  if ('file' in source) out.password_file = source.file;
  return out;
}

function passphrase(t: FileKafkaTls, env: Env, report: Report): Pick<KafkaTlsConfig, 'key_passphrase' | 'key_passphrase_file'> {
  if (t.key_passphrase_env === undefined && t.key_passphrase_file === undefined) return {};
  if (t.key_passphrase_env !== undefined && t.key_passphrase_file !== undefined) {
    report(['kafka', 'tls', 'key_passphrase_file'], 'key_passphrase_env is given too; give the passphrase in one place: key_passphrase_env or key_passphrase_file');
    return {};
  }
  if (t.key_file === undefined) report(['kafka', 'tls', 'key_file'], 'required key missing; a key passphrase is given, so the encrypted key_file (and cert_file) must be too');
  const source: SecretSource = t.key_passphrase_file !== undefined ? { file: t.key_passphrase_file } : { env: t.key_passphrase_env as string };
  const r = readSecret(source, env, 'passphrase of kafka.tls.key_file', 'key_passphrase_env');
  if (!r.ok) report(['kafka', 'tls', 'file' in source ? 'key_passphrase_file' : 'key_passphrase_env'], r.problem);
  return 'file' in source ? { key_passphrase: r.ok ? r.value : '', key_passphrase_file: source.file } : { key_passphrase: r.ok ? r.value : '' };
}

function tls(t: boolean | FileKafkaTls | undefined, env: Env, report: Report): KafkaTlsConfig | undefined {
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
  const { key_passphrase_env: _env, key_passphrase_file: _file, ...files } = t;
  const pass = passphrase(t, env, report);
  if (t.key_file !== undefined) checkKeyOpens(t, pass.key_passphrase, report);
  return { ...files, ...pass };
}

/**
 * An encrypted key_file must come with a passphrase that opens it. Checked here so check-config
 * says so, instead of every connection failing later with a bare "bad decrypt". Unencrypted
 * keys are not parsed: whether the PEM is a usable key is the TLS library's business.
 */
function checkKeyOpens(t: FileKafkaTls, pass: string | undefined, report: Report): void {
  let pem: string;
  try {
    pem = readFileSync(t.key_file as string, 'utf8');
  } catch {
    return; // already reported as unreadable
  }
  if (!pem.includes('ENCRYPTED')) return;
  const passKey = t.key_passphrase_file !== undefined ? 'key_passphrase_file' : 'key_passphrase_env';
  if (t.key_passphrase_env === undefined && t.key_passphrase_file === undefined) {
    report(['kafka', 'tls', 'key_file'], `${JSON.stringify(t.key_file)} is an encrypted key; give its passphrase with key_passphrase_env or key_passphrase_file`);
    return;
  }
  if (!pass) return; // the passphrase itself is missing: already reported
  try {
    createPrivateKey({ key: pem, passphrase: pass });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ERR_OSSL_BAD_DECRYPT' ? 'wrong passphrase' : (e as Error).message.replace(/^error:[0-9A-F]+:[^:]*::/, '');
    report(['kafka', 'tls', passKey], `the passphrase does not open kafka.tls.key_file ${JSON.stringify(t.key_file)} (${why})`);
  }
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
  const t = tls(fileTls, env, report);
  if (t) kafka.tls = t;
  crossChecks(k, report);
  return { kafka, problems };
}
