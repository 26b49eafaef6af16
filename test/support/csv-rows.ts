// Reading CSV files back in tests, row by row and strictly (RFC 4180 as csv-stringify writes
// it): a stray quote, an unterminated quoted cell or a torn last line throws.

import { createReadStream } from 'node:fs';
import * as readline from 'node:readline';
import { parseCsvStrict } from '../outputs/rfc4180';

/** One CSV line (no line break inside a cell: the CSV output never writes one) as its cells. */
export function parseCsvLine(line: string): string[] {
  const rows = parseCsvStrict(`${line}\n`);
  if (rows.length !== 1) throw new Error(`not one CSV row: ${line}`);
  return rows[0];
}

/**
 * Streams a CSV file: `onRow(cells, header)` for every row after the header; every row must
 * have the header's column count and the file must end with a complete line. Returns the
 * number of rows.
 */
export async function readCsvRows(file: string, onRow: (cells: string[], header: readonly string[]) => void): Promise<number> {
  let header: string[] | undefined;
  let rows = 0;
  let last = '';
  const stream = createReadStream(file, { encoding: 'utf8' });
  stream.on('data', (c: string | Buffer) => {
    if (c.length) last = String(c).slice(-1);
  });
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
  for await (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const cells = parseCsvLine(line);
    if (!header) {
      header = cells;
      continue;
    }
    if (cells.length !== header.length) throw new Error(`${file}: a row has ${cells.length} cells, the header ${header.length}: ${line}`);
    rows++;
    onRow(cells, header);
  }
  if (!header) throw new Error(`${file}: no header`);
  if (last !== '\n') throw new Error(`${file} does not end with a complete line`);
  return rows;
}
