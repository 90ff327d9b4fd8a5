import {
  type AnalysisStore,
  type CatalogStore,
  type Clock,
  type ResultStore,
  type RunStore,
  type Storage,
  type StorageTx,
  systemClock,
  type TargetCache,
  type WorkLedger,
} from '@assay/core';
import { type Kysely, Migrator, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from './db-types.js';
import type { SqlDialectAdapter } from './dialect/adapter.js';
import type { LedgerWrites } from './dialect/sqlite/ledger-thread.js';
import { createAnalysisStore } from './sql/analysis.js';
import { createTargetCache } from './sql/cache.js';
import { createCatalogStore } from './sql/catalog.js';
import { createWriter, type SqlContext } from './sql/context.js';
import { createWorkLedger, resetForRetry } from './sql/ledger.js';
import { createResultStore } from './sql/results.js';
import { createRunStore, insertRun } from './sql/runs.js';

export type { SqlDialectAdapter, SqlParamType } from './dialect/adapter.js';

export interface SqlStorageOptions {
  /** Where every stored time comes from (timestamps, claim leases). Default the system clock. */
  clock?: Clock;
  /** Called by `close()` after the Kysely instance is destroyed (e.g. to end a pg pool). */
  onClose?: () => Promise<void>;
  /** Run-item rows per statement of a whole-run aggregate (summary, score cards). Default 50 000. */
  analysisRangeRows?: number;
  /**
   * Where the work ledger's writes run (claims, lease renewals, releases, outcome batches), e.g.
   * {@link createLedgerThread}: the same writes on a thread of its own. Default: this storage's
   * connection.
   */
  ledgerWrites?: LedgerWrites;
}

/**
 * The {@link Storage} port on Kysely: one query module per aggregate (`sql/catalog.ts`,
 * `runs.ts`, `ledger.ts`, `results.ts`, `analysis.ts`, `cache.ts`), each taking the database, the dialect
 * adapter and the clock. Dialect specifics come from a {@link SqlDialectAdapter}; the queries are
 * written once. Each focused port is also available alone (`catalog`, `runs`, `ledger`,
 * `results`, `analysis`, `cache`) for consumers that need one aggregate only.
 *
 * @example
 * const storage = new SqlStorage(db, sqliteAdapter, { clock: systemClock });
 * await storage.migrate();
 */
export class SqlStorage implements Storage {
  readonly dialect: string;
  readonly catalog: CatalogStore;
  readonly runs: RunStore;
  readonly ledger: WorkLedger;
  readonly results: ResultStore;
  readonly analysis: AnalysisStore;
  readonly cache: TargetCache;
  private readonly ctx: SqlContext;
  private readonly onClose: () => Promise<void>;
  private readonly writes: LedgerWrites;

  constructor(
    readonly db: Kysely<DB>,
    private readonly adapter: SqlDialectAdapter,
    options: SqlStorageOptions = {},
  ) {
    this.dialect = adapter.name;
    this.onClose = options.onClose ?? (async () => {});
    this.ctx = { db, adapter, clock: options.clock ?? systemClock, write: createWriter(db, adapter) };
    this.catalog = createCatalogStore(this.ctx);
    this.runs = createRunStore(this.ctx);
    this.ledger = createWorkLedger(this.ctx);
    this.writes = options.ledgerWrites ?? this.ledger;
    this.results = createResultStore(this.ctx);
    this.analysis = createAnalysisStore(this.ctx, { rangeRows: options.analysisRangeRows });
    this.cache = createTargetCache(this.ctx);
  }

  /** Applies the pending migrations of this dialect; safe to call from many processes at once. */
  async migrate(): Promise<void> {
    await this.adapter.withMigrationLock(this.db, async (db) => {
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => this.adapter.migrations },
        migrationTableName: 'assay_migrations',
        migrationLockTableName: 'assay_migrations_lock',
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error');
        const msg = error instanceof Error ? error.message : String(error);
        throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${msg}`);
      }
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.onClose();
  }

  /** Runs `fn` in one write transaction on one connection. */
  write<T>(
    fn: (trx: Transaction<DB>) => Promise<T>,
    /** A last statement (literals only) for `fn`'s result, sent with the commit where the engine can. */
    last?: (result: T) => RawBuilder<unknown> | undefined,
  ): Promise<T> {
    return this.ctx.write(fn, last);
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    return this.ctx.write((trx) =>
      fn({
        handle: trx,
        createRun: (run) => insertRun(this.ctx, trx, run),
        resetForRetry: (runId) => resetForRetry(this.ctx, trx, runId),
      }),
    );
  }

  // The combined port, method by method (bound, so they may be passed around).
  // catalog
  readonly createDataset: Storage['createDataset'] = (input) => this.catalog.createDataset(input);
  readonly getDataset: Storage['getDataset'] = (id) => this.catalog.getDataset(id);
  readonly findDatasetByName: Storage['findDatasetByName'] = (name) => this.catalog.findDatasetByName(name);
  readonly listDatasets: Storage['listDatasets'] = (q) => this.catalog.listDatasets(q);
  readonly updateDataset: Storage['updateDataset'] = (id, patch) => this.catalog.updateDataset(id, patch);
  readonly deleteDataset: Storage['deleteDataset'] = (id) => this.catalog.deleteDataset(id);
  readonly addItems: Storage['addItems'] = (datasetId, items) => this.catalog.addItems(datasetId, items);
  readonly updateItems: Storage['updateItems'] = (datasetId, updates) => this.catalog.updateItems(datasetId, updates);
  readonly deleteItems: Storage['deleteItems'] = (datasetId, ids) => this.catalog.deleteItems(datasetId, ids);
  readonly getItem: Storage['getItem'] = (datasetId, itemId, version) =>
    this.catalog.getItem(datasetId, itemId, version);
  readonly listItems: Storage['listItems'] = (datasetId, q) => this.catalog.listItems(datasetId, q);
  readonly countItems: Storage['countItems'] = (datasetId, version) => this.catalog.countItems(datasetId, version);
  readonly listVersions: Storage['listVersions'] = (datasetId, q) => this.catalog.listVersions(datasetId, q);
  // runs
  readonly getRun: Storage['getRun'] = (runId) => this.runs.getRun(runId);
  readonly listRuns: Storage['listRuns'] = (datasetId, q) => this.runs.listRuns(datasetId, q);
  readonly countActiveRuns: Storage['countActiveRuns'] = (datasetId) => this.runs.countActiveRuns(datasetId);
  readonly countRunsByStatus: Storage['countRunsByStatus'] = () => this.runs.countRunsByStatus();
  readonly listActiveRunIds: Storage['listActiveRunIds'] = (limit, after) => this.runs.listActiveRunIds(limit, after);
  readonly updateRun: Storage['updateRun'] = (runId, patch, ifStatus) => this.runs.updateRun(runId, patch, ifStatus);
  readonly findRunByIdempotencyKey: Storage['findRunByIdempotencyKey'] = (key) =>
    this.runs.findRunByIdempotencyKey(key);
  // work ledger (its writes on `ledgerWrites` when given)
  readonly planRunItems: Storage['planRunItems'] = (runId, cursor, pageSize) =>
    this.ledger.planRunItems(runId, cursor, pageSize);
  readonly claimWork: Storage['claimWork'] = (runId, workerId, limit, leaseMs) =>
    this.writes.claimWork(runId, workerId, limit, leaseMs);
  readonly extendClaims: Storage['extendClaims'] = (runId, workerId, leaseMs) =>
    this.writes.extendClaims(runId, workerId, leaseMs);
  readonly releaseClaims: Storage['releaseClaims'] = (runId, workerId, lost) =>
    this.writes.releaseClaims(runId, workerId, lost);
  readonly markStarted: Storage['markStarted'] = (runId, itemId, repetition, claimToken) =>
    this.writes.markStarted(runId, itemId, repetition, claimToken);
  readonly listClaimOwners: Storage['listClaimOwners'] = (runId) => this.ledger.listClaimOwners(runId);
  readonly countUnfinished: Storage['countUnfinished'] = (runId) => this.ledger.countUnfinished(runId);
  readonly closePendingItems: Storage['closePendingItems'] = (runId, status) =>
    this.writes.closePendingItems(runId, status);
  readonly writeOutcomes: Storage['writeOutcomes'] = (runId, outcomes) => this.writes.writeOutcomes(runId, outcomes);
  // results
  readonly listResults: Storage['listResults'] = (runId, q) => this.results.listResults(runId, q);
  readonly getResult: Storage['getResult'] = (runId, itemId, repetition, bounds) =>
    this.results.getResult(runId, itemId, repetition, bounds);
  readonly listAttempts: Storage['listAttempts'] = (runId, itemId, bounds) =>
    this.results.listAttempts(runId, itemId, bounds);
  // analysis
  readonly summarizeRun: Storage['summarizeRun'] = (runId) => this.analysis.summarizeRun(runId);
  readonly scoreStats: Storage['scoreStats'] = (runId, bins, passThreshold) =>
    this.analysis.scoreStats(runId, bins, passThreshold);
  readonly listResultKeys: Storage['listResultKeys'] = (runId, after, limit) =>
    this.analysis.listResultKeys(runId, after, limit);
  // target output cache
  readonly readCache: Storage['readCache'] = (keys) => this.cache.readCache(keys);
  readonly readRunOutputs: Storage['readRunOutputs'] = (runId, items) => this.cache.readRunOutputs(runId, items);
  readonly runCacheCounts: Storage['runCacheCounts'] = (runId) => this.cache.runCacheCounts(runId);
  readonly cacheStats: Storage['cacheStats'] = (q) => this.cache.cacheStats(q);
  readonly clearCache: Storage['clearCache'] = (q) => this.cache.clearCache(q);
  readonly cacheBytes: Storage['cacheBytes'] = (range) => this.cache.cacheBytes(range);
  readonly evictOldest: Storage['evictOldest'] = (bytes, max) => this.cache.evictOldest(bytes, max);
}
