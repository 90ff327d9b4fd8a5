import { hostname } from 'node:os';
import type { Logger } from '@assay/core';
import { type DestinationStream, pino } from 'pino';

/** Levels from the most to the least severe; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** The least severe level written. Default `info`. */
  level?: LogLevel;
  /**
   * Where the lines go. Default: JSON lines on stdout, written synchronously (nothing is lost when
   * the process exits). A pino-pretty stream turns them into coloured text for a terminal.
   */
  stream?: DestinationStream;
  /** Fields every line carries besides `pid` and `hostname`, e.g. `{ role: 'worker' }`. */
  base?: Record<string, unknown>;
}

/**
 * The logger core's ports expect, made with pino: one JSON object per line with `level` (its
 * name: `info`, `warn`, …), `time` (ISO 8601), `pid`, `hostname`, `msg` and the line's fields
 * (`runId`, `itemId`, `err` with message and stack, …).
 *
 * @example
 * const log = createLogger({ level: 'debug' });
 * log.child({ runId }).info({ status: 'completed' }, 'run completed');
 * // {"level":"info","time":"2026-01-01T00:00:00.000Z","pid":1,"hostname":"h","runId":"run_1","status":"completed","msg":"run completed"}
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: opts.level ?? 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      base: { pid: process.pid, hostname: hostname(), ...opts.base },
    },
    opts.stream ?? pino.destination({ dest: 1, sync: true }),
  );
  return logger;
}
