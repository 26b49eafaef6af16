// Integer-µs times → CSV cell text in the configured format. Exact by construction: only
// integer arithmetic on values below 2^53, never a float multiply or divide whose rounding
// could move a digit.

import type { TimeFormat } from '../../config/types';

/** A time cell formatter; '' for a zero (unset) time. */
export type TimeCell = (us: number) => string | number;

/**
 * A new formatter. Each call returns a fresh closure with its own one-second cache, so a
 * column's consecutive records (which nearly always share a second) skip the Date work.
 */
export function timeCell(format: TimeFormat): TimeCell {
  switch (format) {
    case 'epoch_ns':
      return (us) => (us > 0 ? `${Math.trunc(us)}000` : '');
    case 'epoch_ms':
      return (us) => {
        if (!(us > 0)) return '';
        const t = Math.trunc(us);
        // (t - t % 1000) / 1000 is exact; Math.floor(t / 1000) can round up near 2^53.
        return (t - (t % 1000)) / 1000;
      };
    case 'iso':
      return isoCell();
  }
}

/** RFC 3339 UTC with microseconds: 2026-11-22T10:15:00.123456Z. */
function isoCell(): TimeCell {
  let cachedSecond = NaN;
  let cachedPrefix = '';
  return (us) => {
    if (!(us > 0)) return '';
    const t = Math.trunc(us);
    const frac = t % 1_000_000;
    const second = (t - frac) / 1_000_000;
    if (second !== cachedSecond) {
      // toISOString gives "YYYY-MM-DDTHH:MM:SS.mmmZ"; the first 19 characters are the second.
      cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
      cachedSecond = second;
    }
    return `${cachedPrefix}.${frac < 100_000 ? String(frac).padStart(6, '0') : frac}Z`;
  };
}
