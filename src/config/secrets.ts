// Secrets of the kafka section (SASL password, TLS key passphrase): read from an environment
// variable or from a file, never from config.yaml itself. Messages name the variable or the
// file, never the value.

import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { KafkaConfig } from './types';
import type { Env } from './kafka-section';

export type SecretResult = { ok: true; value: string } | { ok: false; problem: string };

/** Where a secret comes from, as the file names it. */
export type SecretSource = { env: string } | { file: string };

const relativeHint = (file: string): string => (isAbsolute(file) ? '' : ' (relative paths start at the working directory)');

/**
 * The secret's value. A file's content loses one trailing newline (echo and editors add it) and
 * nothing else, so a password may still begin or end with spaces. `what` names it in messages.
 */
export function readSecret(source: SecretSource, env: Env, what: string, otherKey: string): SecretResult {
  if ('env' in source) {
    const value = env[source.env];
    // An empty secret is as good as none and would only fail later, at the broker.
    if (!value) return { ok: false, problem: `environment variable ${source.env} is not set (or empty); export the ${what} in it, or name another variable with ${otherKey}` };
    return { ok: true, value };
  }
  let text: string;
  try {
    text = readFileSync(source.file, 'utf8');
  } catch (e) {
    return { ok: false, problem: `${JSON.stringify(source.file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); give the path of a file holding the ${what}${relativeHint(source.file)}` };
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, problem: `${JSON.stringify(source.file)} is empty; put the ${what} in it` };
  return { ok: true, value };
}

/** The secret files of a kafka section, by key path. */
export function secretFiles(k: Pick<KafkaConfig, 'sasl' | 'tls'> | undefined): Array<{ key: string; file: string }> {
  if (!k) return [];
  const files: Array<{ key: string; file: string }> = [];
  if (k.sasl?.password_file) files.push({ key: 'kafka.sasl.password_file', file: k.sasl.password_file });
  if (k.tls?.key_file) files.push({ key: 'kafka.tls.key_file', file: k.tls.key_file });
  if (k.tls?.key_passphrase_file) files.push({ key: 'kafka.tls.key_passphrase_file', file: k.tls.key_passphrase_file });
  return files;
}

export interface SecretFileWarning {
  key: string;
  file: string;
  /** Permission bits, e.g. "0644". */
  mode: string;
  /** One line for check-config and dump. */
  text: string;
}

/**
 * Secret files every local user may read (the "other" read bit). Not an error: the operator
 * may have reasons (a container with one user), but it should be a decision, not an accident.
 */
export function worldReadableSecrets(k: Pick<KafkaConfig, 'sasl' | 'tls'> | undefined): SecretFileWarning[] {
  const out: SecretFileWarning[] = [];
  for (const { key, file } of secretFiles(k)) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // unreadable files are already problems of the config
    }
    if ((mode & 0o004) === 0) continue;
    const m = `0${mode.toString(8).padStart(3, '0')}`;
    out.push({ key, file, mode: m, text: `${key}: ${JSON.stringify(file)} is readable by every user (mode ${m}); restrict it, e.g. chmod 600 (or 640 with the service's group)` });
  }
  return out;
}
