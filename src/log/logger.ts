// Structured logs: one JSON object per line on stdout (or a given stream), through pino.
//
//   const log = createLogger({ level: config.log.level });
//   log.info({ listener: '0.0.0.0:2055', protocol: 'auto' }, 'listening');
//   → {"level":"info","time":"2024-05-01T12:00:00.000Z","pid":1234,"hostname":"gw1","listener":"0.0.0.0:2055","protocol":"auto","msg":"listening"}
//
// Levels are written as names, not pino's numbers, because operators grep and alert on them
// and the gateway's earlier hand-written lines already used names. Time is ISO 8601 UTC so a
// line is readable without tooling. For bad input from the network, do not log directly: use
// RateLimitedLog (rate-limited.ts), which bounds the volume an attacker can cause.
// Call `log.flush()` before exiting so the last lines are not lost.

import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LoggerOptions {
  /** Default 'info'. */
  level?: LogLevel;
  /** Where lines go; default stdout. Tests pass a stream that collects lines. */
  destination?: pino.DestinationStream;
  /** Fields on every line; default pid and hostname. */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const opts: pino.LoggerOptions = {
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
    },
  };
  if (options.base !== undefined) opts.base = options.base;
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
