// --from / --to: ISO 8601 or epoch milliseconds → the half-open window [from, to) of Kafka
// message timestamps, in integer ms.
//
// Times without a UTC offset are UTC, not local time: the same command line must select the
// same records on every machine (a server's TZ is not the analyst's). Kafka timestamps are
// whole milliseconds, so a time with a sub-ms fraction is rounded UP for both ends:
// t >= 1.5 ⇔ t >= 2 and t < 1.5 ⇔ t < 2 for integer t, so the window stays exact.

export class TimeArgError extends Error {}

export interface TimeWindow {
  /** First millisecond inside the window. */
  fromMs: number;
  /** First millisecond after the window (exclusive). */
  toMs: number;
}

// YYYY-MM-DD, then optionally [T or space]HH:MM[:SS[.fraction]], then optionally Z or ±HH[:]MM.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Latest instant a JS Date holds (±8.64e15 ms); also far beyond any Kafka timestamp. */
const MAX_MS = 8.64e15;

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Parses one TIME argument to (possibly fractional) epoch milliseconds. */
export function parseTime(text: string, option: string): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) {
    const ms = Number(s);
    if (!Number.isSafeInteger(ms) || ms > MAX_MS) throw new TimeArgError(`${option} ${JSON.stringify(text)}: epoch milliseconds out of range`);
    return ms;
  }
  const m = ISO.exec(s);
  if (!m) {
    throw new TimeArgError(
      `${option} ${JSON.stringify(text)}: not a time; use ISO 8601 (2024-06-01T12:00:00Z, 2024-06-01T14:00+02:00, 2024-06-01) or epoch milliseconds (1717243200000)`,
    );
  }
  const [, y, mo, d, hh = '0', mi = '0', ss = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new TimeArgError(`${option} ${JSON.stringify(text)}: no such date`);
  if (hour > 23 || minute > 59 || second > 59) throw new TimeArgError(`${option} ${JSON.stringify(text)}: no such time of day`);
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone) as RegExpExecArray;
    const zh = Number(z[2]);
    const zm = Number(z[3] ?? '0');
    if (zh > 23 || zm > 59) throw new TimeArgError(`${option} ${JSON.stringify(text)}: bad UTC offset ${zone}`);
    offsetMin = (z[1] === '-' ? -1 : 1) * (zh * 60 + zm);
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const base = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  base.setUTCFullYear(year);
  // Fraction of a second → whole ms from the first three digits, plus 0.5 when any digit
  // after them is non-zero, which the window rounds up. Digit arithmetic, not 0.29 * 1000
  // (= 290.00000000000006, which would round up to 291).
  const fracMs = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) + (/[1-9]/.test(frac.slice(3)) ? 0.5 : 0) : 0;
  return base.getTime() - offsetMin * 60_000 + fracMs;
}

/** Both ends, checked: from must be before to. */
export function parseWindow(from: string, to: string): TimeWindow {
  const f = parseTime(from, '--from');
  const t = parseTime(to, '--to');
  const w = { fromMs: Math.ceil(f), toMs: Math.ceil(t) };
  if (w.fromMs < 0) throw new TimeArgError(`--from ${JSON.stringify(from)} is before 1970`);
  if (w.toMs <= w.fromMs) {
    throw new TimeArgError(`--to (${new Date(w.toMs).toISOString()}) must be after --from (${new Date(w.fromMs).toISOString()}): the window [from, to) is empty`);
  }
  return w;
}

/** A note for a bare number that is more likely epoch SECONDS than milliseconds. */
export function secondsHint(text: string, option: string): string | undefined {
  const s = text.trim();
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  // 1e11 ms is 1973-03-03; epoch seconds of any date 1973-5138 are below it.
  if (n > 0 && n < 1e11) return `note: ${option} ${s} is read as epoch MILLISECONDS (${new Date(n).toISOString()}); for seconds append 000`;
  return undefined;
}
