/**
 * `@assay/runtime`: the composition root. `createAssay` chooses the adapters of core's ports from
 * its options — SQLite and the embedded queue by default, PostgreSQL with BullMQ and Redis events
 * when scaled out — and starts the HTTP app (`@assay/server`) and the worker on them.
 */

export { MissingPackageError } from '@assay/core';
export { createLogger, LOG_LEVELS, type LoggerOptions, type LogLevel } from './logger.js';
export { type Assay, type AssayOptions, createAssay, migrateDatabase, redactUrl, VERSION } from './runtime.js';
