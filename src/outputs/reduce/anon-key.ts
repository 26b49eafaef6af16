// The anonymisation key file: 32 raw bytes, or 64 hex characters (with an optional trailing
// newline, as `openssl rand -hex 32 > key` writes it). Anything else is refused: a key that is
// silently padded or truncated would anonymise with a different key than the operator thinks.

import { readFileSync } from 'node:fs';

export function parseAnonKey(data: Buffer): Buffer | string {
  const text = data.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (data.length === 32) return Buffer.from(data);
  return `holds ${data.length} bytes; expected 32 raw bytes or 64 hex characters (e.g. openssl rand -hex 32 > anon.key)`;
}

/** The key, or why the file cannot be used (worded for a config error). */
export function readAnonKey(path: string): Buffer | string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    return `cannot be read (${e instanceof Error ? e.message : String(e)})`;
  }
  return parseAnonKey(data);
}
