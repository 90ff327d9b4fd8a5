/** The fields of one log line: `runId`, `itemId`, `err` (an Error, logged with its message and stack), … */
export type LogFields = Record<string, unknown>;

/**
 * Where the engine, the queues and the server write what an operator reads: levelled, structured
 * lines. Fields first, message second (pino's order, so a pino logger fits as it is). Core never
 * writes to the console itself; the runtime passes a real logger (see `@assay/runtime` logger.ts).
 * Calls must not throw.
 *
 * @example
 * const log = deps.log.child({ runId: run.id });
 * log.info({ status: 'completed', items: 40 }, 'run finished');
 */
export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
  /** A logger whose every line also carries `bindings` (e.g. `{ runId }`). */
  child(bindings: LogFields): Logger;
}

/** The default logger: drops every line. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
