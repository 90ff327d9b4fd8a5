import {
  AssayError,
  type ClaimedItem,
  type CreateDatasetInput,
  type Dataset,
  type DatasetItem,
  type DatasetVersion,
  type ItemInput,
  type ItemOutcome,
  type ItemUpdate,
  type ListBounds,
  type NewRun,
  newId,
  notFound,
  type Page,
  type PageQuery,
  type ResultKey,
  type Run,
  type RunItemAttempt,
  type RunItemStatus,
  type RunPatch,
  type RunResult,
  type RunSummary,
  type ScorerStats,
  type Storage,
  type StorageTx,
  type UpdateDatasetInput,
  validationError,
} from '@assay/core';
import { type Kysely, type Migration, Migrator, type RawBuilder, type Selectable, sql, type Transaction } from 'kysely';
import type { DatasetItemsTable, DatasetsTable, DB, RunsTable } from './db-types.js';
import { listAttempts } from './sql/attempts.js';
import { getResult, listDatasets, listItems, listResults, listRuns } from './sql/listing.js';
import { dec, enc, pageOf, toDataset, toItem, toRun, visibleAt } from './sql/rows.js';

/**
 * The new `lost_claims` of an item whose claim is lost without an outcome: +1 the first time for
 * every claimed item (nothing says which of a dead worker's items were running), and after that
 * only when the item had been started under the lost claim (`started_claim`, set for suspects).
 */
const LOST = sql<number>`lost_claims + case when lost_claims = 0 or started_claim = claim_token then 1 else 0 end`;

/**
 * Lets timers, requests and lease renewals in between the statements of a long read: SQLite
 * answers synchronously, so awaiting one query after another never returns to the event loop.
 */
const breathe = () => new Promise<void>((r) => setImmediate(r));

/** Column types a bound parameter may need to be declared as (see {@link SqlDialectAdapter.typedParam}). */
export type SqlParamType = 'text' | 'integer' | 'real';

/**
 * What differs between SQL engines; everything else is shared Kysely code. Differences are
 * capabilities and small SQL fragments, never `if (dialect === …)` in the queries.
 */
export interface SqlDialectAdapter {
  readonly name: string;
  readonly migrations: Record<string, Migration>;
  /** Statement that opens a write transaction (SQLite takes the write lock up front). */
  readonly beginWrite: string;
  /**
   * True when a write transaction must lock the rows it reads with `select … for update` to keep
   * concurrent writers apart (PostgreSQL). False when `beginWrite` already serializes all writers
   * (SQLite's `begin immediate` holds the database's single write lock).
   */
  readonly supportsRowLocks: boolean;
  /** `like` operator that ignores (at least ASCII) case: SQLite's `like` does, PostgreSQL needs `ilike`. */
  readonly caseInsensitiveLike: 'like' | 'ilike';
  /** True when a unique-constraint violation error comes from this engine. */
  isUniqueViolation(error: unknown): boolean;
  /**
   * A bound parameter with its column type declared, for places where the engine cannot infer it
   * (a `VALUES` list feeding an `insert … select`: PostgreSQL would type every parameter as text).
   */
  typedParam(value: unknown, type: SqlParamType): RawBuilder<unknown>;
  /**
   * An aggregate expression folding the rows it runs over into a JSON array (as text) of objects
   * with these fields, in this order; `'[]'` when there are no rows.
   */
  jsonObjectArray(fields: [key: string, value: RawBuilder<unknown>][]): RawBuilder<string>;
  /** One top-level key of a JSON text column as SQL text (`->>`), e.g. the code of a stored error. */
  jsonField(json: RawBuilder<unknown>, key: string): RawBuilder<unknown>;
  /**
   * Runs `fn` (the migrator, on the connection it is given) while holding a lock that every other
   * process migrating the same database waits for, so processes starting together migrate once.
   * `fn` throws when a migration failed.
   */
  withMigrationLock<T>(db: Kysely<DB>, fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  /**
   * Optional: sends `statement` (SQL text without bound parameters) and the commit of the open
   * transaction to the server as one message, so the locks the statement takes are released by
   * the server alone, whatever happens to this process meanwhile (a process stopped between two
   * round trips would hold them). Rows the statement returns are not read. Without it, the
   * statement and the commit are two round trips.
   */
  commitWith?(conn: Kysely<DB>, statement: string): Promise<void>;
}

type Db = Kysely<DB> | Transaction<DB>;

const now = () => new Date().toISOString();

/** The first element of each key, in input order. */
function firstPerKey<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const k = key(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The last element of each key, in the order of first appearance. */
function lastPerKey<T>(xs: T[], key: (x: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const x of xs) byKey.set(key(x), x);
  return byKey.size === xs.length ? xs : [...byKey.values()];
}

/**
 * The {@link Storage} port on Kysely. Dialect specifics come from a {@link SqlDialectAdapter};
 * the queries are written once.
 */
export class SqlStorage implements Storage {
  readonly dialect: string;
  constructor(
    readonly db: Kysely<DB>,
    private readonly adapter: SqlDialectAdapter,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.dialect = adapter.name;
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
  async write<T>(
    fn: (trx: Transaction<DB>) => Promise<T>,
    /** A last statement (literals only) for `fn`'s result, sent with the commit where the engine can. */
    last?: (result: T) => RawBuilder<unknown> | undefined,
  ): Promise<T> {
    return this.db.connection().execute(async (conn) => {
      await sql.raw(this.adapter.beginWrite).execute(conn);
      try {
        // A Kysely connection is usable as a transaction-scoped executor for our queries.
        const result = await fn(conn as unknown as Transaction<DB>);
        const statement = last?.(result);
        if (statement && this.adapter.commitWith) {
          const q = statement.compile(conn);
          if (q.parameters.length) throw new Error('a statement sent with the commit must have no bound parameters');
          await this.adapter.commitWith(conn, q.sql);
        } else {
          if (statement) await statement.execute(conn);
          await sql.raw('commit').execute(conn);
        }
        return result;
      } catch (e) {
        await sql
          .raw('rollback')
          .execute(conn)
          .catch(() => {});
        throw e;
      }
    });
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    return this.write((trx) =>
      fn({
        handle: trx,
        createRun: (run) => this.insertRun(trx, run),
        resetForRetry: (runId) => this.resetForRetry(trx, runId),
      }),
    );
  }

  // ── datasets ─────────────────────────────────────────────────────────────

  async createDataset(input: CreateDatasetInput): Promise<Dataset> {
    const ts = now();
    const row = {
      id: newId('ds'),
      name: input.name,
      description: input.description ?? null,
      metadata: enc(input.metadata),
      input_schema: enc(input.inputSchema),
      ground_truth_schema: enc(input.groundTruthSchema),
      scorer_ids: enc(input.scorerIds),
      version: 0,
      item_count: 0,
      created_at: ts,
      updated_at: ts,
    };
    await this.db.insertInto('datasets').values(row).execute();
    return toDataset(row);
  }

  async getDataset(id: string, db: Db = this.db): Promise<Dataset | undefined> {
    const r = await db.selectFrom('datasets').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toDataset(r);
  }

  async findDatasetByName(name: string): Promise<Dataset | undefined> {
    const r = await this.db
      .selectFrom('datasets')
      .selectAll()
      .where('name', '=', name)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return r && toDataset(r);
  }

  async listDatasets(q: PageQuery & { bounds?: ListBounds }): Promise<Page<Dataset>> {
    return listDatasets(this.db, q);
  }

  async updateDataset(id: string, patch: UpdateDatasetInput): Promise<Dataset> {
    return this.write(async (trx) => {
      const current = await this.getDataset(id, trx);
      if (!current) throw notFound('Dataset', id);
      const set: Partial<Selectable<DatasetsTable>> = { updated_at: now() };
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.description !== undefined) set.description = patch.description ?? null;
      if (patch.metadata !== undefined) set.metadata = enc(patch.metadata);
      if (patch.inputSchema !== undefined) set.input_schema = enc(patch.inputSchema);
      if (patch.groundTruthSchema !== undefined) set.ground_truth_schema = enc(patch.groundTruthSchema);
      if (patch.scorerIds !== undefined) set.scorer_ids = enc(patch.scorerIds);
      await trx.updateTable('datasets').set(set).where('id', '=', id).execute();
      return (await this.getDataset(id, trx))!;
    });
  }

  async deleteDataset(id: string): Promise<void> {
    await this.write(async (trx) => {
      const r = await trx.deleteFrom('datasets').where('id', '=', id).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw notFound('Dataset', id);
    });
  }

  // ── items ────────────────────────────────────────────────────────────────

  /** Opens the next version of a dataset inside a write transaction. */
  private async bumpVersion(
    trx: Transaction<DB>,
    datasetId: string,
    change: { added: number; updated: number; deleted: number },
  ): Promise<number> {
    const ds = await trx.selectFrom('datasets').select(['version']).where('id', '=', datasetId).executeTakeFirst();
    if (!ds) throw notFound('Dataset', datasetId);
    const version = Number(ds.version) + 1;
    const ts = now();
    await trx
      .updateTable('datasets')
      .set((eb) => ({
        version,
        item_count: eb('item_count', '+', change.added - change.deleted),
        updated_at: ts,
      }))
      .where('id', '=', datasetId)
      .execute();
    await trx
      .insertInto('dataset_versions')
      .values({ dataset_id: datasetId, version, ...change, created_at: ts })
      .execute();
    return version;
  }

  private duplicateExternalIds(ids: (string | null | undefined)[]): string[] {
    const seen = new Set<string>();
    const dup = new Set<string>();
    for (const id of ids) {
      if (id == null) continue;
      if (seen.has(id)) dup.add(id);
      seen.add(id);
    }
    return [...dup];
  }

  private async externalIdsInUse(trx: Db, datasetId: string, ids: string[], exceptItemIds: string[] = []) {
    const inUse: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      let q = trx
        .selectFrom('dataset_items')
        .select(['external_id'])
        .where('dataset_id', '=', datasetId)
        .where('valid_to', 'is', null)
        .where('external_id', 'in', ids.slice(i, i + 500));
      if (exceptItemIds.length) q = q.where('id', 'not in', exceptItemIds);
      for (const r of await q.execute()) inUse.push(r.external_id!);
    }
    return inUse;
  }

  async addItems(datasetId: string, items: ItemInput[]): Promise<{ version: number; items: DatasetItem[] }> {
    const dup = this.duplicateExternalIds(items.map((i) => i.externalId));
    if (dup.length) throw validationError('externalId must be unique within a batch', { duplicates: dup.slice(0, 20) });
    return this.write(async (trx) => {
      await this.lockDataset(trx, datasetId);
      const ext = items.map((i) => i.externalId).filter((x): x is string => typeof x === 'string');
      if (ext.length) {
        const inUse = await this.externalIdsInUse(trx, datasetId, ext);
        if (inUse.length)
          throw new AssayError('CONFLICT', 'externalId already used by another item of this dataset', 409, {
            externalIds: inUse.slice(0, 20),
          });
      }
      const version = await this.bumpVersion(trx, datasetId, { added: items.length, updated: 0, deleted: 0 });
      const ts = now();
      const rows = items.map((i) => ({
        id: newId('item'),
        dataset_id: datasetId,
        external_id: i.externalId ?? null,
        input: enc(i.input) ?? 'null',
        ground_truth: enc(i.groundTruth),
        metadata: enc(i.metadata),
        valid_from: version,
        valid_to: null,
        created_at: ts,
        updated_at: ts,
      }));
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .insertInto('dataset_items')
          .values(rows.slice(i, i + 500))
          .execute();
      }
      return { version, items: rows.map((r) => toItem({ ...r, row_id: 0 })) };
    });
  }

  private async currentRows(trx: Db, datasetId: string, ids: string[]) {
    const out: Selectable<DatasetItemsTable>[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      out.push(
        ...(await trx
          .selectFrom('dataset_items')
          .selectAll()
          .where('dataset_id', '=', datasetId)
          .where('valid_to', 'is', null)
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()),
      );
    }
    return out;
  }

  /**
   * First step of every item mutation: fails with 404 for an unknown dataset and, on engines with
   * row locks, locks the dataset row, so concurrent batches of one dataset take versions one after
   * another and see each other's externalIds. (`no key update` lets runs keep referencing it.)
   */
  private async lockDataset(trx: Transaction<DB>, datasetId: string): Promise<void> {
    let q = trx.selectFrom('datasets').select(['id']).where('id', '=', datasetId);
    if (this.adapter.supportsRowLocks) q = q.forNoKeyUpdate();
    if (!(await q.executeTakeFirst())) throw notFound('Dataset', datasetId);
  }

  /**
   * Reads a run inside a write transaction; on engines with row locks it also locks the row, so
   * writers of one run (planning, retry, cancel) run one at a time. Outcome writes do not take it
   * first (see writeOutcomes): they are fenced per run-item row.
   */
  private async lockRun(trx: Transaction<DB>, runId: string) {
    let q = trx
      .selectFrom('runs')
      .select(['fence', 'dataset_id', 'dataset_version', 'options'])
      .where('id', '=', runId);
    if (this.adapter.supportsRowLocks) q = q.forNoKeyUpdate();
    return q.executeTakeFirst();
  }

  private missing(ids: string[], rows: { id: string }[]) {
    const found = new Set(rows.map((r) => r.id));
    return ids.filter((id) => !found.has(id));
  }

  async updateItems(
    datasetId: string,
    updates: (ItemUpdate & { id: string })[],
  ): Promise<{ version: number; items: DatasetItem[] }> {
    const ids = updates.map((u) => u.id);
    if (new Set(ids).size !== ids.length) throw validationError('an item may appear only once per batch');
    const dup = this.duplicateExternalIds(updates.map((u) => u.externalId));
    if (dup.length) throw validationError('externalId must be unique within a batch', { duplicates: dup.slice(0, 20) });
    return this.write(async (trx) => {
      await this.lockDataset(trx, datasetId);
      const rows = await this.currentRows(trx, datasetId, ids);
      const missing = this.missing(ids, rows);
      if (missing.length)
        throw new AssayError('NOT_FOUND', `item '${missing[0]}' not found in dataset '${datasetId}'`, 404, {
          itemIds: missing.slice(0, 20),
        });
      const ext = updates.map((u) => u.externalId).filter((x): x is string => typeof x === 'string');
      if (ext.length) {
        const inUse = await this.externalIdsInUse(trx, datasetId, ext, ids);
        if (inUse.length)
          throw new AssayError('CONFLICT', 'externalId already used by another item of this dataset', 409, {
            externalIds: inUse.slice(0, 20),
          });
      }
      const version = await this.bumpVersion(trx, datasetId, { added: 0, updated: updates.length, deleted: 0 });
      const byId = new Map(rows.map((r) => [r.id, r]));
      const ts = now();
      const out: DatasetItem[] = [];
      for (const u of updates) {
        const old = byId.get(u.id)!;
        await trx.updateTable('dataset_items').set({ valid_to: version }).where('row_id', '=', old.row_id).execute();
        const row = {
          id: old.id,
          dataset_id: datasetId,
          external_id: u.externalId !== undefined ? (u.externalId ?? null) : old.external_id,
          input: u.input !== undefined ? (enc(u.input) ?? 'null') : old.input,
          ground_truth: u.groundTruth !== undefined ? enc(u.groundTruth) : old.ground_truth,
          metadata: u.metadata !== undefined ? enc(u.metadata) : old.metadata,
          valid_from: version,
          valid_to: null,
          created_at: old.created_at,
          updated_at: ts,
        };
        await trx.insertInto('dataset_items').values(row).execute();
        out.push(toItem({ ...row, row_id: 0 }));
      }
      return { version, items: out };
    });
  }

  async deleteItems(datasetId: string, itemIds: string[]): Promise<{ version: number; count: number }> {
    const ids = [...new Set(itemIds)];
    return this.write(async (trx) => {
      await this.lockDataset(trx, datasetId);
      const rows = await this.currentRows(trx, datasetId, ids);
      const missing = this.missing(ids, rows);
      if (missing.length)
        throw new AssayError('NOT_FOUND', `item '${missing[0]}' not found in dataset '${datasetId}'`, 404, {
          itemIds: missing.slice(0, 20),
        });
      const version = await this.bumpVersion(trx, datasetId, { added: 0, updated: 0, deleted: ids.length });
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .updateTable('dataset_items')
          .set({ valid_to: version })
          .where(
            'row_id',
            'in',
            rows.slice(i, i + 500).map((r) => r.row_id),
          )
          .execute();
      }
      return { version, count: ids.length };
    });
  }

  async getItem(datasetId: string, itemId: string, version?: number): Promise<DatasetItem | undefined> {
    let q = this.db
      .selectFrom('dataset_items')
      .selectAll()
      .where('dataset_id', '=', datasetId)
      .where('id', '=', itemId);
    q = version === undefined ? q.where('valid_to', 'is', null) : q.where(visibleAt(version));
    const r = await q.executeTakeFirst();
    return r && toItem(r);
  }

  async listItems(
    datasetId: string,
    q: PageQuery & { version?: number; search?: string; bounds?: ListBounds },
  ): Promise<Page<DatasetItem>> {
    return listItems(this.db, this.adapter, datasetId, q);
  }

  async countItems(datasetId: string, version: number): Promise<number> {
    const { n } = await this.db
      .selectFrom('dataset_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId)
      .where(visibleAt(version))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async listVersions(datasetId: string, q: PageQuery): Promise<Page<DatasetVersion>> {
    const rows = await this.db
      .selectFrom('dataset_versions')
      .selectAll()
      .where('dataset_id', '=', datasetId)
      .orderBy('version', 'desc')
      .limit(q.perPage)
      .offset(q.page * q.perPage)
      .execute();
    const { n } = await this.db
      .selectFrom('dataset_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId)
      .executeTakeFirstOrThrow();
    return pageOf(
      rows.map((r) => ({
        datasetId: r.dataset_id,
        version: Number(r.version),
        added: Number(r.added),
        updated: Number(r.updated),
        deleted: Number(r.deleted),
        createdAt: r.created_at,
      })),
      Number(n),
      q,
    );
  }

  // ── runs ─────────────────────────────────────────────────────────────────

  private async insertRun(trx: Db, run: NewRun): Promise<Run> {
    const ts = now();
    const row = {
      id: run.id,
      dataset_id: run.datasetId,
      dataset_version: run.datasetVersion,
      name: run.name,
      target_type: run.targetType,
      target_id: run.targetId,
      scorer_ids: JSON.stringify(run.scorerIds),
      options: JSON.stringify(run.options),
      metadata: enc(run.metadata),
      status: 'pending',
      total_items: run.totalItems,
      succeeded_count: 0,
      failed_count: 0,
      skipped_count: 0,
      summary: null,
      error: null,
      fence: 0,
      idempotency_key: run.idempotency?.key ?? null,
      idempotency_hash: run.idempotency?.hash ?? null,
      planned_at: null,
      cancel_requested_at: null,
      created_at: ts,
      started_at: null,
      completed_at: null,
      updated_at: ts,
    };
    await trx.insertInto('runs').values(row).execute();
    return toRun(row);
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const r = await this.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    return r && toRun(r);
  }

  async listRuns(datasetId: string, q: PageQuery & { bounds?: ListBounds }): Promise<Page<Run>> {
    return listRuns(this.db, datasetId, q);
  }

  async listActiveRunIds(limit: number, after?: string): Promise<string[]> {
    let q = this.db.selectFrom('runs').select('id').where('status', 'in', ['pending', 'running']);
    if (after !== undefined) q = q.where('id', '>', after);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async countActiveRuns(datasetId: string): Promise<number> {
    const { n } = await this.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId)
      .where('status', 'in', ['pending', 'running'])
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async updateRun(runId: string, patch: RunPatch, ifStatus?: Run['status'][]): Promise<boolean> {
    const set: Partial<Selectable<RunsTable>> = { updated_at: now() };
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
    if (patch.completedAt !== undefined) set.completed_at = patch.completedAt;
    if (patch.error !== undefined) set.error = patch.error;
    if (patch.summary !== undefined) set.summary = enc(patch.summary);
    if (patch.totalItems !== undefined) set.total_items = patch.totalItems;
    if (patch.plannedAt !== undefined) set.planned_at = patch.plannedAt;
    if (patch.cancelRequestedAt !== undefined) set.cancel_requested_at = patch.cancelRequestedAt;
    if (patch.summary) {
      set.succeeded_count = patch.summary.succeeded;
      set.failed_count = patch.summary.failed;
      set.skipped_count = patch.summary.skipped;
    }
    let q = this.db.updateTable('runs').set(set).where('id', '=', runId);
    if (ifStatus) q = q.where('status', 'in', ifStatus);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async findRunByIdempotencyKey(key: string): Promise<{ run: Run; hash: string } | undefined> {
    const r = await this.db.selectFrom('runs').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
    return r && { run: toRun(r), hash: r.idempotency_hash ?? '' };
  }

  async closePendingItems(runId: string, status: 'cancelled' | 'skipped'): Promise<number> {
    return this.write(async (trx) => {
      if (!(await this.lockRun(trx, runId))) return 0;
      const r = await trx
        .updateTable('run_items')
        .set({ status, completed_at: now(), lease_until: null })
        .where('run_id', '=', runId)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    });
  }

  private async resetForRetry(trx: Transaction<DB>, runId: string): Promise<number> {
    const retryable = ['failed', 'cancelled', 'skipped'];
    const ts = now();
    if (!(await this.lockRun(trx, runId))) return 0;
    const scoresJson = this.adapter.jsonObjectArray([
      ['scorerId', sql`s.scorer_id`],
      ['score', sql`s.score`],
      ['reason', sql`s.reason`],
      ['error', sql`s.error`],
    ]);
    // Archive the attempts being replaced, with their scores, before queueing the items again.
    await sql`insert into run_item_attempts
        (run_id, item_id, repetition, attempt, status, output, error, latency_ms, usage, scores, started_at, completed_at, archived_at)
      select ri.run_id, ri.item_id, ri.repetition, ri.attempt, ri.status, ri.output, ri.error, ri.latency_ms, ri.usage,
        (select ${scoresJson} from scores s where s.run_id = ri.run_id and s.item_id = ri.item_id and s.repetition = ri.repetition),
        ri.started_at, ri.completed_at, ${ts}
      from run_items ri
      where ri.run_id = ${runId} and ri.status in (${sql.join(retryable)})
      on conflict do nothing`.execute(trx);
    await sql`delete from scores where run_id = ${runId} and exists (select 1 from run_items ri
        where ri.run_id = scores.run_id and ri.item_id = scores.item_id and ri.repetition = scores.repetition
          and ri.status in (${sql.join(retryable)}))`.execute(trx);
    const r = await trx
      .updateTable('run_items')
      .set({
        status: 'queued',
        output: null,
        error: null,
        latency_ms: null,
        usage: null,
        input_tokens: null,
        output_tokens: null,
        cost_usd: null,
        started_at: null,
        completed_at: null,
        lease_until: null,
        worker_id: null,
        lost_claims: 0, // a retry is a fresh start
        started_claim: null,
      })
      .where('run_id', '=', runId)
      .where('status', 'in', retryable)
      .executeTakeFirst();
    const n = Number(r.numUpdatedRows);
    if (n > 0) {
      await trx
        .updateTable('runs')
        .set((eb) => ({
          status: 'running',
          failed_count: eb
            .selectFrom('run_items')
            .select(eb.fn.countAll<number>().as('n'))
            .where('run_id', '=', runId)
            .where('status', '=', 'failed'),
          skipped_count: 0,
          error: null,
          summary: null,
          cancel_requested_at: null,
          completed_at: null,
          updated_at: ts,
        }))
        .where('id', '=', runId)
        .execute();
    }
    return n;
  }

  async listAttempts(runId: string, itemId: string, bounds?: ListBounds): Promise<RunItemAttempt[]> {
    return listAttempts(this.db, this.adapter, runId, itemId, bounds);
  }

  async planRunItems(
    runId: string,
    cursor: string,
    pageSize: number,
  ): Promise<{ planned: number; cursor: string | null }> {
    return this.write(async (trx) => {
      const run = await this.lockRun(trx, runId);
      if (!run) throw notFound('Run', runId);
      const v = Number(run.dataset_version);
      const reps = (dec(run.options) as Run['options']).repetitions ?? 1;
      const page = await trx
        .selectFrom('dataset_items')
        .select(['id', 'row_id'])
        .where('dataset_id', '=', run.dataset_id)
        .where('id', '>', cursor)
        .where(visibleAt(v))
        .orderBy('id')
        .limit(pageSize)
        .execute();
      if (page.length === 0) return { planned: 0, cursor: null };
      const rows = page.flatMap((p) =>
        Array.from({ length: reps }, (_, repetition) => ({
          run_id: runId,
          item_id: p.id,
          repetition,
          item_row_id: Number(p.row_id),
          status: 'queued',
          attempt: 0,
        })),
      );
      const chunk = Math.max(1, Math.floor(4000 / 6));
      for (let i = 0; i < rows.length; i += chunk) {
        await trx
          .insertInto('run_items')
          .values(rows.slice(i, i + chunk))
          .onConflict((oc) => oc.columns(['run_id', 'item_id', 'repetition']).doNothing())
          .execute();
      }
      return { planned: page.length, cursor: page.length < pageSize ? null : page[page.length - 1].id };
    });
  }

  async claimWork(runId: string, workerId: string, limit: number, leaseMs: number): Promise<ClaimedItem[]> {
    leaseMs = Math.max(1, leaseMs); // a claim is never born expired
    return this.write(async (trx) => {
      const nowMs = Date.now();
      const claimed: {
        item_id: string;
        repetition: number;
        attempt: number;
        claim_token: number;
        item_row_id: number;
        lost_claims: number;
      }[] = [];
      // Queued items first (an index range), then items whose worker stopped renewing its lease.
      for (const expired of [false, true]) {
        const want = limit - claimed.length;
        if (want <= 0) break;
        let pick = trx
          .selectFrom('run_items')
          .select(['item_id', 'repetition'])
          .where('run_id', '=', runId)
          .where('status', '=', expired ? 'running' : 'queued')
          .orderBy('item_id')
          .orderBy('repetition')
          .limit(want);
        if (expired) pick = pick.where('lease_until', '<', nowMs);
        if (this.adapter.supportsRowLocks) pick = pick.forUpdate().skipLocked();
        // Taking over an expired claim: that claim was lost (see LOST).
        const r = await sql<(typeof claimed)[number]>`update run_items
          set status = 'running', claim_token = claim_token + 1, lease_until = ${nowMs + leaseMs}, worker_id = ${workerId}
            ${expired ? sql`, lost_claims = ${LOST}` : sql``}
          where run_id = ${runId} and (item_id, repetition) in (${pick})
          returning item_id, repetition, attempt, claim_token, item_row_id, lost_claims`.execute(trx);
        claimed.push(...r.rows);
      }
      if (claimed.length === 0) return [];
      const rowIds = [...new Set(claimed.map((c) => Number(c.item_row_id)))];
      const items = new Map<number, { input: string; ground_truth: string | null; metadata: string | null }>();
      for (let i = 0; i < rowIds.length; i += 500) {
        const rows = await trx
          .selectFrom('dataset_items')
          .select(['row_id', 'input', 'ground_truth', 'metadata'])
          .where('row_id', 'in', rowIds.slice(i, i + 500))
          .execute();
        for (const r of rows) items.set(Number(r.row_id), r);
      }
      return claimed
        .map((c) => {
          const it = items.get(Number(c.item_row_id))!;
          return {
            itemId: c.item_id,
            repetition: Number(c.repetition),
            attempt: Number(c.attempt),
            claimToken: Number(c.claim_token),
            lostClaims: Number(c.lost_claims),
            input: dec(it.input),
            groundTruth: dec(it.ground_truth),
            metadata: dec<Record<string, unknown> | null>(it.metadata),
          };
        })
        .sort((x, y) => (x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : x.repetition - y.repetition));
    });
  }

  async extendClaims(runId: string, workerId: string, leaseMs: number): Promise<number> {
    const r = await this.db
      .updateTable('run_items')
      .set({ lease_until: Date.now() + leaseMs })
      .where('run_id', '=', runId)
      .where('status', '=', 'running')
      .where('worker_id', '=', workerId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async releaseClaims(runId: string, workerId: string, lost = false): Promise<number> {
    const r = await this.db
      .updateTable('run_items')
      .set({ status: 'queued', lease_until: null, worker_id: null, ...(lost ? { lost_claims: LOST } : {}) })
      .where('run_id', '=', runId)
      .where('status', '=', 'running')
      .where('worker_id', '=', workerId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async markStarted(runId: string, itemId: string, repetition: number, claimToken: number): Promise<void> {
    await this.db
      .updateTable('run_items')
      .set({ started_claim: claimToken })
      .where('run_id', '=', runId)
      .where('item_id', '=', itemId)
      .where('repetition', '=', repetition)
      .where('claim_token', '=', claimToken)
      .where('status', '=', 'running')
      .execute();
  }

  async listClaimOwners(runId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('run_items')
      .select('worker_id')
      .distinct()
      .where('run_id', '=', runId)
      .where('status', '=', 'running')
      .execute();
    return rows.map((r) => r.worker_id).filter((w): w is string => w !== null);
  }

  async countUnfinished(runId: string): Promise<number> {
    const { n } = await this.db
      .selectFrom('run_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async writeOutcomes(runId: string, outcomes: ItemOutcome[]): Promise<{ succeeded: number; failed: number }> {
    // No run-row lock up front: fencing is per row (the claim token in the upsert's condition). The
    // run row, which every writer of the run needs, is locked only by the counts update, sent with
    // the commit (adapter.commitWith): a worker stopped mid-write (SIGSTOP, a paused VM) holds its
    // own run-item rows at most, never the run row. Run-item rows are locked in key order, then the
    // run row, so concurrent writers cannot deadlock each other.
    await this.write(
      async (trx) => {
        // An item twice in one batch: the first outcome wins, as it does row by row (the second
        // finds the row final). PostgreSQL refuses to upsert one row twice in one statement.
        const unique = firstPerKey(outcomes, (o) => `${o.itemId}\u0000${o.repetition}`).sort((x, y) =>
          x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : x.repetition - y.repetition,
        );
        const p = this.adapter.typedParam;
        let succeeded = 0;
        let failed = 0;
        const changed = new Set<string>();
        // One statement per chunk. Only a row still claimed with the outcome's token may change, so a
        // re-delivered or stale outcome can never land or count twice; RETURNING tells which changed.
        for (let i = 0; i < unique.length; i += 400) {
          const rows = unique
            .slice(i, i + 400)
            .map(
              (o) =>
                sql`(${p(o.itemId, 'text')}, ${p(o.repetition, 'integer')}, ${p(o.status, 'text')}, ${p(o.attempt, 'integer')}, ${p(o.output === undefined ? null : JSON.stringify(o.output), 'text')}, ${p(enc(o.error), 'text')}, ${p(o.latencyMs, 'real')}, ${p(enc(o.usage), 'text')}, ${p(o.usage?.inputTokens ?? null, 'integer')}, ${p(o.usage?.outputTokens ?? null, 'integer')}, ${p(o.usage?.costUsd ?? null, 'real')}, ${p(o.startedAt, 'text')}, ${p(o.completedAt, 'text')}, ${p(o.claimToken, 'integer')}, ${p(o.workerId, 'text')})`,
            );
          // An upsert driven by the VALUES rows (a primary-key lookup each); the rows always exist
          // (planned), so the insert branch never fires. SQLite needs the `where true` to parse it.
          const r = await sql<{ item_id: string; repetition: number; status: string }>`
          insert into run_items (item_id, repetition, status, attempt, output, error, latency_ms, usage, input_tokens,
            output_tokens, cost_usd, started_at, completed_at, claim_token, worker_id, run_id, item_row_id)
          select v.*, ${p(runId, 'text')}, 0 from (values ${sql.join(rows)}) as v where true
          on conflict (run_id, item_id, repetition) do update set status = excluded.status, attempt = excluded.attempt,
            output = excluded.output, error = excluded.error, latency_ms = excluded.latency_ms, usage = excluded.usage,
            input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd,
            started_at = excluded.started_at, completed_at = excluded.completed_at, worker_id = excluded.worker_id,
            lease_until = null
          where run_items.status = 'running' and run_items.claim_token = excluded.claim_token
          returning item_id, repetition, status`.execute(trx);
          for (const row of r.rows) {
            changed.add(`${row.item_id}\u0000${row.repetition}`);
            if (row.status === 'succeeded') succeeded++;
            else failed++;
          }
        }
        // One row per scorer (the last one wins, as an upsert would): PostgreSQL refuses to upsert
        // the same row twice in one statement.
        const scores = unique
          .filter((o) => o.scores.length && changed.has(`${o.itemId}\u0000${o.repetition}`))
          .flatMap((o) =>
            lastPerKey(o.scores, (s) => s.scorerId).map((s) => ({
              run_id: runId,
              item_id: o.itemId,
              repetition: o.repetition,
              scorer_id: s.scorerId,
              score: s.score,
              reason: s.reason,
              error: s.error,
            })),
          );
        for (let i = 0; i < scores.length; i += 500) {
          await trx
            .insertInto('scores')
            .values(scores.slice(i, i + 500))
            .onConflict((oc) =>
              oc.columns(['run_id', 'item_id', 'repetition', 'scorer_id']).doUpdateSet((eb) => ({
                score: eb.ref('excluded.score'),
                reason: eb.ref('excluded.reason'),
                error: eb.ref('excluded.error'),
              })),
            )
            .execute();
        }
        return { succeeded, failed };
      },
      // Only outcomes that landed touch the run row: stale ones (a finished run, a lost claim) lock nothing more.
      ({ succeeded, failed }) =>
        succeeded + failed > 0
          ? sql`update runs set succeeded_count = succeeded_count + ${sql.lit(succeeded)},
              failed_count = failed_count + ${sql.lit(failed)}, updated_at = ${sql.lit(now())}
              where id = ${sql.lit(runId)}`
          : undefined,
    );
    // Read after the commit, without a lock: the counts include every outcome stored so far.
    const counts = await this.db
      .selectFrom('runs')
      .select(['succeeded_count', 'failed_count'])
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    return { succeeded: Number(counts.succeeded_count), failed: Number(counts.failed_count) };
  }

  async summarizeRun(runId: string): Promise<RunSummary> {
    const byStatus = await this.db
      .selectFrom('run_items')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('run_id', '=', runId)
      .groupBy('status')
      .execute();
    await breathe();
    const count = (s: string) => Number(byStatus.find((r) => r.status === s)?.n ?? 0);
    const runRow = await this.db.selectFrom('runs').select('options').where('id', '=', runId).executeTakeFirst();
    const threshold = (dec<{ passThreshold?: number } | null>(runRow?.options ?? null)?.passThreshold ?? 0.5) as number;
    const scorerRows = await this.db
      .selectFrom('scores')
      .select([
        'scorer_id',
        sql<number | null>`avg(score)`.as('mean'),
        sql<number>`sum(case when score >= ${threshold} then 1 else 0 end)`.as('passed'),
        sql<number>`count(score)`.as('n'),
        sql<number>`sum(case when error is not null then 1 else 0 end)`.as('errors'),
      ])
      .where('run_id', '=', runId)
      .groupBy('scorer_id')
      .orderBy('scorer_id')
      .execute();
    await breathe();
    const lat = await this.db
      .selectFrom('run_items')
      .select([
        sql<number>`count(latency_ms)`.as('n'),
        sql<number | null>`avg(latency_ms)`.as('mean'),
        sql<number | null>`max(latency_ms)`.as('max'),
        sql<number>`count(coalesce(input_tokens, output_tokens, cost_usd))`.as('usage_items'),
        sql<number | null>`sum(input_tokens)`.as('input_tokens'),
        sql<number | null>`sum(output_tokens)`.as('output_tokens'),
        sql<number | null>`sum(cost_usd)`.as('cost_usd'),
      ])
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    await breathe();
    // Median per scorer: the middle score(s) by an ordered offset, one indexed read per scorer.
    const median = async (scorerId: string, n: number): Promise<number | null> => {
      if (n === 0) return null;
      const middle = await this.db
        .selectFrom('scores')
        .select('score')
        .where('run_id', '=', runId)
        .where('scorer_id', '=', scorerId)
        .where('score', 'is not', null)
        .orderBy('score')
        .limit(n % 2 ? 1 : 2)
        .offset(Math.floor((n - 1) / 2))
        .execute();
      const xs = middle.map((r) => Number(r.score));
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
    };
    const medians = new Map<string, number | null>();
    for (const r of scorerRows) {
      medians.set(r.scorer_id, await median(r.scorer_id, Number(r.n)));
      await breathe();
    }
    const usageItems = Number(lat.usage_items);
    const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
    const n = Number(lat.n);
    const percentile = async (p: number) => {
      if (n === 0) return null;
      const r = await this.db
        .selectFrom('run_items')
        .select(['latency_ms'])
        .where('run_id', '=', runId)
        .where('latency_ms', 'is not', null)
        .orderBy('latency_ms')
        .limit(1)
        .offset(Math.max(0, Math.ceil(p * n) - 1))
        .executeTakeFirst();
      await breathe();
      return r?.latency_ms ?? null;
    };
    const total = byStatus.reduce((a, r) => a + Number(r.n), 0);
    // Spread across repetitions: the mean of each repetition, per scorer.
    const perRep = await this.db
      .selectFrom('scores')
      .select(['scorer_id', 'repetition', sql<number | null>`avg(score)`.as('mean')])
      .where('run_id', '=', runId)
      .groupBy(['scorer_id', 'repetition'])
      .orderBy('repetition')
      .execute();
    const spread = (scorerId: string) => {
      const means = perRep
        .filter((r) => r.scorer_id === scorerId)
        .map((r) => (r.mean === null ? null : Number(r.mean)));
      if (means.length < 2) return undefined;
      const xs = means.filter((m): m is number => m !== null);
      const avg = xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
      return {
        means,
        stddev: xs.length ? Math.sqrt(xs.reduce((a, b) => a + (b - avg) ** 2, 0) / xs.length) : null,
        min: xs.length ? Math.min(...xs) : null,
        max: xs.length ? Math.max(...xs) : null,
      };
    };
    return {
      total,
      succeeded: count('succeeded'),
      failed: count('failed'),
      skipped: count('skipped'),
      cancelled: count('cancelled'),
      scorers: scorerRows.map((r) => ({
        scorerId: r.scorer_id,
        mean: r.mean === null ? null : Number(r.mean),
        median: medians.get(r.scorer_id) ?? null,
        passRate: Number(r.n) > 0 ? Number(r.passed) / Number(r.n) : null,
        count: Number(r.n),
        errors: Number(r.errors),
        ...(spread(r.scorer_id) ? { repetitions: spread(r.scorer_id) } : {}),
      })),
      passThreshold: threshold,
      latencyMs: {
        p50: await percentile(0.5),
        p95: await percentile(0.95),
        max: lat.max === null ? null : Number(lat.max),
        mean: lat.mean === null ? null : Number(lat.mean),
      },
      usage: usageItems
        ? {
            items: usageItems,
            inputTokens: num(lat.input_tokens),
            outputTokens: num(lat.output_tokens),
            costUsd: num(lat.cost_usd),
            meanInputTokens: num(lat.input_tokens) / usageItems,
            meanOutputTokens: num(lat.output_tokens) / usageItems,
            meanCostUsd: num(lat.cost_usd) / usageItems,
          }
        : null,
    };
  }

  async listResults(
    runId: string,
    q: PageQuery & { status?: RunItemStatus; sortScorer?: string; order?: 'asc' | 'desc'; bounds?: ListBounds },
  ): Promise<Page<RunResult>> {
    return listResults(this.db, this.adapter, runId, q);
  }

  async getResult(
    runId: string,
    itemId: string,
    repetition: number,
    bounds?: ListBounds,
  ): Promise<RunResult | undefined> {
    return getResult(this.db, this.adapter, runId, itemId, repetition, bounds);
  }

  // ── analysis (UI run page and compare) ──

  async scoreStats(runId: string, bins: number, passThreshold = 0.5): Promise<ScorerStats[]> {
    // One pass over the run's scores: a CASE per bin keeps it portable across SQLite and PostgreSQL.
    const binCols = Array.from({ length: bins }, (_, i) => {
      const lo = i === 0 ? null : i / bins;
      const hi = i === bins - 1 ? null : (i + 1) / bins;
      const cond =
        lo === null && hi === null
          ? sql`score is not null`
          : lo === null
            ? sql`score < ${hi}`
            : hi === null
              ? sql`score >= ${lo}`
              : sql`score >= ${lo} and score < ${hi}`;
      return sql<number>`sum(case when ${cond} then 1 else 0 end)`.as(`b${i}`);
    });
    const rows = await this.db
      .selectFrom('scores')
      .select([
        'scorer_id',
        sql<number | null>`avg(score)`.as('mean'),
        sql<number>`sum(case when score >= ${passThreshold} then 1 else 0 end)`.as('passed'),
        sql<number>`count(score)`.as('n'),
        sql<number>`sum(case when error is not null then 1 else 0 end)`.as('errors'),
        ...binCols,
      ])
      .where('run_id', '=', runId)
      .groupBy('scorer_id')
      .orderBy('scorer_id')
      .execute();
    return rows.map((r) => {
      const n = Number(r.n);
      const rec = r as unknown as Record<string, unknown>;
      return {
        scorerId: r.scorer_id,
        count: n,
        mean: r.mean === null ? null : Number(r.mean),
        passRate: n ? Number(r.passed) / n : null,
        errors: Number(r.errors ?? 0),
        histogram: Array.from({ length: bins }, (_, i) => Number(rec[`b${i}`] ?? 0)),
      };
    });
  }

  async listResultKeys(
    runId: string,
    after: { itemId: string; repetition: number } | null,
    limit: number,
  ): Promise<ResultKey[]> {
    const rows = await this.db
      .selectFrom('run_items')
      .select(['item_id', 'repetition', 'status'])
      .where('run_id', '=', runId)
      .$if(after !== null, (qb) =>
        qb.where((eb) =>
          eb.or([
            eb('item_id', '>', after!.itemId),
            eb.and([eb('item_id', '=', after!.itemId), eb('repetition', '>', after!.repetition)]),
          ]),
        ),
      )
      .orderBy('item_id')
      .orderBy('repetition')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    const scores = await this.db
      .selectFrom('scores')
      .select(['item_id', 'repetition', 'scorer_id', 'score'])
      .where('run_id', '=', runId)
      .where('item_id', '>=', first.item_id)
      .where('item_id', '<=', last.item_id)
      .orderBy('scorer_id')
      .execute();
    const key = (itemId: string, rep: number) => `${itemId}\u0000${rep}`;
    const byKey = new Map<string, ResultKey>();
    const out = rows.map((r) => {
      const k: ResultKey = {
        itemId: r.item_id,
        repetition: Number(r.repetition),
        status: r.status as RunItemStatus,
        scores: [],
      };
      byKey.set(key(k.itemId, k.repetition), k);
      return k;
    });
    for (const s of scores) {
      byKey.get(key(s.item_id, Number(s.repetition)))?.scores.push({
        scorerId: s.scorer_id,
        score: s.score === null ? null : Number(s.score),
      });
    }
    return out;
  }
}
