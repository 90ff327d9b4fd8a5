import type { Logger } from '@assay/core';
import { createLogger, LOG_LEVELS, type LogLevel } from '@assay/runtime';
import { type Command, Option } from 'commander';
import { PinoPretty } from 'pino-pretty';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** `--log-format` and `--log-level` (with their environment variables), for the commands that log. */
export function logOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines on stdout: json (one object per line, for journald, Docker, Loki…) or pretty (text); default pretty when stdout is a terminal, else json',
      )
        .env('ASSAY_LOG_FORMAT')
        .choices(LOG_FORMATS),
    )
    .addOption(
      new Option('--log-level <level>', 'least severe level logged (debug: one line per item)')
        .env('ASSAY_LOG_LEVEL')
        .choices(LOG_LEVELS)
        .default('info'),
    );
}

/**
 * The server-side logger of `assay serve` and `assay worker`, on stdout: JSON lines, or pino-pretty
 * text written synchronously on this thread (no transport worker), so no line is lost at exit.
 */
export function loggerFrom(opts: { logFormat?: LogFormat; logLevel: LogLevel }, role: string): Logger {
  const format = opts.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'json') return createLogger({ level: opts.logLevel, base: { role } });
  const stream = PinoPretty({
    destination: 1,
    sync: true,
    colorize: process.stdout.isTTY === true && !process.env.NO_COLOR,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,role',
  });
  return createLogger({ level: opts.logLevel, base: { role }, stream });
}
