import type { Run } from '../types.js';
import type { AnalysisStore } from './analysis.js';
import type { TargetCache } from './cache.js';
import type { CatalogStore } from './catalog.js';
import type { WorkLedger } from './ledger.js';
import type { ResultStore } from './results.js';
import type { NewRun, RunStore } from './runs.js';

/**
 * A transaction other adapters may join. `handle` is the adapter's own transaction object (a
 * Kysely `Transaction` for the SQL store): only an adapter built on the same database looks at it.
 */
export interface StorageTx {
  readonly handle: unknown;
  /** Inserts a pending run. Fails with 404 when its dataset is gone (deleted meanwhile). */
  createRun(run: NewRun): Promise<Run>;
  /**
   * Archives the failed, cancelled and skipped items of a finished run as earlier attempts and
   * queues them again; the run goes back to `running`. Returns how many items were queued.
   */
  resetForRetry(runId: string): Promise<number>;
}

/**
 * The whole storage port: every focused port on one database, plus its lifecycle and
 * transactions. Implemented once with Kysely (SQLite, PostgreSQL as a dialect); every method is
 * safe to call concurrently and keeps the version and uniqueness rules itself. A consumer that
 * needs one aggregate only may take the focused port instead (e.g. a `WorkLedger`).
 */
export interface Storage extends CatalogStore, RunStore, WorkLedger, ResultStore, AnalysisStore, TargetCache {
  readonly dialect: string;
  migrate(): Promise<void>;
  close(): Promise<void>;
  transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T>;
}
