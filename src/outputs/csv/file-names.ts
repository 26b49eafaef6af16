// CSV file names. Final: `<prefix><UTC window start>[-<part>].csv[.gz]`, e.g.
// flows-20261122T101500Z.csv, then flows-20261122T101500Z-1.csv for the size-rotated
// continuation. Temporary: `<prefix><window start>.<pid>-<serial>.csv[.gz].tmp`: the pid keeps
// two processes sharing a directory apart and lets start() tell a dead process's leftovers
// from a live one's; the serial keeps two files of one process apart (a window's next part
// opens while the previous part is still being flushed). Readers globbing `*.csv` or
// `*.csv.gz` never match a temporary name.

/** `YYYYMMDDTHHMMSSZ` of a time in µs (the window start). */
export function windowStamp(startUs: number): string {
  // toISOString: 2026-11-22T10:15:00.000Z → 20261122T101500Z
  const iso = new Date(Math.floor(startUs / 1000)).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

const extension = (gzip: boolean): string => (gzip ? '.csv.gz' : '.csv');

export function finalName(prefix: string, startUs: number, part: number, gzip: boolean): string {
  return `${prefix}${windowStamp(startUs)}${part > 0 ? `-${part}` : ''}${extension(gzip)}`;
}

export function tmpName(prefix: string, startUs: number, pid: number, serial: number, gzip: boolean): string {
  return `${prefix}${windowStamp(startUs)}.${pid}-${serial}${extension(gzip)}.tmp`;
}

/** Matches this prefix's temporary names (either compression); group 1 is the pid. */
export function tmpNamePattern(prefix: string): RegExp {
  const p = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${p}\\d{8}T\\d{6}Z\\.(\\d+)-\\d+\\.csv(?:\\.gz)?\\.tmp$`);
}
