// Reading a CSV output directory back for the tests: final files (gunzipped when .gz), parsed
// strictly, header checked.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseCsvStrict } from './rfc4180';

export interface CsvDirFile {
  name: string;
  header: string[];
  rows: string[][];
  /** Size on disk. */
  size: number;
  /** Uncompressed text. */
  text: string;
}

export const FINAL = /\.csv(\.gz)?$/;

export function readCsvDir(dir: string): CsvDirFile[] {
  return readdirSync(dir).filter((n) => FINAL.test(n)).sort().map((name) => {
    const raw = readFileSync(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    const [header, ...rows] = parseCsvStrict(text);
    return { name, header, rows, size: raw.length, text };
  });
}

export function tmpFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.tmp'));
}
