/**
 * The ports of core, one file per port under `ports/`: the focused storage ports (catalog, runs,
 * work ledger, results, analysis) and `Storage`, which combines them; the job queue; live
 * events; the clock; the logger and the work metrics the engine reports to.
 */

export * from './ports/analysis.js';
export * from './ports/cache.js';
export * from './ports/catalog.js';
export * from './ports/clock.js';
export * from './ports/events.js';
export * from './ports/ledger.js';
export * from './ports/logger.js';
export * from './ports/metrics.js';
export * from './ports/queue.js';
export * from './ports/results.js';
export * from './ports/runs.js';
export * from './ports/storage.js';
