// Text of the numeric replay options to numbers, kept apart from the CLI so the API and tests validate the same way.

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6 };

/** "5000", "5000/s", "5k", "2.5k/s", "1M": datagrams per second, > 0. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKM]?)(?:\/s)?$/.exec(text.trim());
  const value = m ? Number(m[1]) * SUFFIX[m[2]] : NaN;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new Error(`bad --rate ${JSON.stringify(text)}: use datagrams per second, e.g. 5000, 5000/s, 5k or 1M (> 0)`);
  }
  return value;
}

/** Non-negative integer option (loop count, port, socket limit). */
export function parseCount(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new Error(`bad ${name} ${JSON.stringify(text)}: use a whole number in ${min}..${max === Number.MAX_SAFE_INTEGER ? '∞' : max}`);
  }
  return v;
}

export function parseSpeed(text: string): number {
  const v = /^\d+(\.\d+)?$|^\.\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`bad --speed ${JSON.stringify(text)}: use a factor > 0, e.g. 2 (twice as fast) or 0.5`);
  return v;
}
