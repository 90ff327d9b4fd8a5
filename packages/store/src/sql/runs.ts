import {
  type ListBounds,
  type NewRun,
  notFound,
  type Page,
  type PageQuery,
  type Run,
  type RunPatch,
  type RunStatus,
  type RunStore,
} from '@assay/core';
import type { Selectable } from 'kysely';
import type { RunsTable } from '../db-types.js';
import { type Db, isoNow, type SqlContext } from './context.js';
import { listRuns as listRunPage } from './listing.js';
import { enc, toRun } from './rows.js';

/**
 * Inserts a pending run inside a write transaction (the trigger's, which its job may join).
 * Fails with 404 when the dataset is gone: a dataset delete that won the race (see the catalog's
 * deleteDataset) leaves no run behind.
 */
export async function insertRun(ctx: SqlContext, trx: Db, run: NewRun): Promise<Run> {
  const ts = isoNow(ctx.clock);
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
    source_run_id: run.sourceRunId ?? null,
    created_at: ts,
    started_at: null,
    completed_at: null,
    updated_at: ts,
  };
  try {
    await trx.insertInto('runs').values(row).execute();
  } catch (e) {
    // The dataset was deleted after the trigger read it: the run never existed.
    if (ctx.adapter.isForeignKeyViolation(e)) throw notFound('Dataset', run.datasetId);
    throw e;
  }
  return toRun(row);
}

/** Run rows on SQL: status, counts and summary. */
export function createRunStore(ctx: SqlContext): RunStore {
  const now = () => isoNow(ctx.clock);

  async function getRun(runId: string): Promise<Run | undefined> {
    const r = await ctx.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
    return r && toRun(r);
  }

  async function listRuns(datasetId: string, q: PageQuery & { bounds?: ListBounds }): Promise<Page<Run>> {
    return listRunPage(ctx.db, datasetId, q);
  }

  async function listActiveRunIds(limit: number, after?: string): Promise<string[]> {
    let q = ctx.db.selectFrom('runs').select('id').where('status', 'in', ['pending', 'running']);
    if (after !== undefined) q = q.where('id', '>', after);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async function countActiveRuns(datasetId: string): Promise<number> {
    const { n } = await ctx.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('dataset_id', '=', datasetId)
      .where('status', 'in', ['pending', 'running'])
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async function countRunsByStatus(): Promise<Record<RunStatus, number>> {
    // An index scan of runs_active (status): no run row is read.
    const rows = await ctx.db
      .selectFrom('runs')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const counts: Record<RunStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of rows) counts[r.status as RunStatus] = Number(r.n);
    return counts;
  }

  async function updateRun(runId: string, patch: RunPatch, ifStatus?: Run['status'][]): Promise<boolean> {
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
    let q = ctx.db.updateTable('runs').set(set).where('id', '=', runId);
    if (ifStatus) q = q.where('status', 'in', ifStatus);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async function findRunByIdempotencyKey(key: string): Promise<{ run: Run; hash: string } | undefined> {
    const r = await ctx.db.selectFrom('runs').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
    return r && { run: toRun(r), hash: r.idempotency_hash ?? '' };
  }

  return {
    getRun,
    listRuns,
    listActiveRunIds,
    countActiveRuns,
    countRunsByStatus,
    updateRun,
    findRunByIdempotencyKey,
  };
}
