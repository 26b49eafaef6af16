// A promise bounded in time: Kafka admin calls and group joins can hang on a broker that
// accepts connections but never answers, and start-up or `dump` must not hang with it.

/** `p`, or the error `onTimeout()` makes after `ms` (the timer never outlives `p`). */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
