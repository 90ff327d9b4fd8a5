import { type ClaimedItem, type ItemOutcome, notFound, type Run, type WorkLedger } from '@assay/core';
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db-types.js';
import { insertCacheEntries } from './cache.js';
import { isoNow, lockRun, type SqlContext } from './context.js';
import { type ScoreRow, upsertOutcomes, upsertScores } from './outcome-statements.js';
import { dec, visibleAt } from './rows.js';

/**
 * The new `lost_claims` of an item whose claim is lost without an outcome: +1 the first time for
 * every claimed item (nothing says which of a dead worker's items were running), and after that
 * only when the item had been started under the lost claim (`started_claim`, set for suspects).
 */
const LOST = sql<number>`lost_claims + case when lost_claims = 0 or started_claim = claim_token then 1 else 0 end`;

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
 * Archives the failed, cancelled and skipped items of a run as earlier attempts and queues them
 * again, inside the caller's write transaction (see StorageTx.resetForRetry).
 */
export async function resetForRetry(ctx: SqlContext, trx: Transaction<DB>, runId: string): Promise<number> {
  const retryable = ['failed', 'cancelled', 'skipped'];
  const ts = isoNow(ctx.clock);
  if (!(await lockRun(ctx, trx, runId))) return 0;
  const scoresJson = ctx.adapter.jsonObjectArray([
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
      cached_from: null,
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

/**
 * The work ledger on SQL: run-item rows as a queue. Leases are times of the context's clock
 * (`lease_until`, ms), so a manual clock expires them without sleeping.
 */
export function createWorkLedger(ctx: SqlContext): WorkLedger {
  const now = () => isoNow(ctx.clock);
  // Claims, lease renewals, releases and closes find a run's queued or running items through the
  // claim index (run_id, status, …), never by reading every row of the run (SqlDialectAdapter.indexed).
  const claims = () => ctx.adapter.indexed('run_items', 'run_items_claim');

  async function closePendingItems(runId: string, status: 'cancelled' | 'skipped'): Promise<number> {
    return ctx.write(async (trx) => {
      if (!(await lockRun(ctx, trx, runId))) return 0;
      const r = await sql`update ${claims()} set status = ${status}, completed_at = ${now()}, lease_until = null
        where run_id = ${runId} and status in ('queued', 'running')`.execute(trx);
      return Number(r.numAffectedRows ?? 0);
    });
  }

  async function planRunItems(
    runId: string,
    cursor: string,
    pageSize: number,
  ): Promise<{ planned: number; cursor: string | null }> {
    return ctx.write(async (trx) => {
      const run = await lockRun(ctx, trx, runId);
      if (!run) throw notFound('Run', runId);
      const v = Number(run.dataset_version);
      const reps = (dec(run.options) as Run['options']).repetitions ?? 1;
      // The page's ids only (an index range); its run-item rows are copied by the database itself in
      // one statement, so planning costs no row objects or bound parameters on this thread.
      const page = await trx
        .selectFrom('dataset_items')
        .select('id')
        .where('dataset_id', '=', run.dataset_id)
        .where('id', '>', cursor)
        .where(visibleAt(v))
        .orderBy('id')
        .limit(pageSize)
        .execute();
      if (page.length === 0) return { planned: 0, cursor: null };
      const last = page[page.length - 1]!.id;
      const repetitions = sql.join(
        Array.from({ length: reps }, (_, r) => sql`select ${sql.lit(r)} as repetition`),
        sql` union all `,
      );
      await sql`insert into run_items (run_id, item_id, repetition, item_row_id, status, attempt)
        select ${runId}, d.id, r.repetition, d.row_id, 'queued', 0
        from dataset_items d cross join (${repetitions}) r
        where d.dataset_id = ${run.dataset_id} and d.id > ${cursor} and d.id <= ${last}
          and d.valid_from <= ${v} and (d.valid_to is null or d.valid_to > ${v})
        order by d.id, r.repetition
        on conflict (run_id, item_id, repetition) do nothing`.execute(trx);
      return { planned: page.length, cursor: page.length < pageSize ? null : last };
    });
  }

  async function claimWork(runId: string, workerId: string, limit: number, leaseMs: number): Promise<ClaimedItem[]> {
    leaseMs = Math.max(1, leaseMs); // a claim is never born expired
    // A light commit (no wait for the disk): a claim lost in a power cut harms nothing, its items
    // are queued again; the next outcome write makes it durable anyway.
    return ctx.write(
      async (trx) => {
        const nowMs = ctx.clock.now();
        const claimed: {
          item_id: string;
          repetition: number;
          attempt: number;
          claim_token: number;
          item_row_id: number;
          lost_claims: number;
          taken_over: boolean;
        }[] = [];
        // Queued items first (an index range), then items whose worker stopped renewing its lease.
        for (const expired of [false, true]) {
          const want = limit - claimed.length;
          if (want <= 0) break;
          // Through the claim index (run_id, status, item_id, repetition): the queued or running items
          // of this run, in order, never every row of the run.
          const pick = sql<{ item_id: string; repetition: number }>`select item_id, repetition
          from ${claims()}
          where run_id = ${runId} and status = ${expired ? 'running' : 'queued'}
            ${expired ? sql`and lease_until < ${nowMs}` : sql``}
          order by item_id, repetition
          limit ${want}
          ${ctx.adapter.supportsRowLocks ? sql`for update skip locked` : sql``}`;
          // Taking over an expired claim: that claim was lost (see LOST). The pick is a materialized
          // CTE so it runs once: as an `in (subquery)`, PostgreSQL may plan a nested-loop semi join
          // that re-runs the locking subquery per row, each run skipping the rows already updated
          // and so handing out the next one, which claimed every queued item whatever `limit` was.
          const r = await sql<Omit<(typeof claimed)[number], 'taken_over'>>`with picked as materialized (${pick})
          update run_items
          set status = 'running', claim_token = claim_token + 1, lease_until = ${nowMs + leaseMs}, worker_id = ${workerId}
            ${expired ? sql`, lost_claims = ${LOST}` : sql``}
          where run_id = ${runId} and (item_id, repetition) in (select item_id, repetition from picked)
          returning item_id, repetition, attempt, claim_token, item_row_id, lost_claims`.execute(trx);
          claimed.push(...r.rows.map((row) => ({ ...row, taken_over: expired })));
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
              takenOver: c.taken_over,
              input: dec(it.input),
              groundTruth: dec(it.ground_truth),
              metadata: dec<Record<string, unknown> | null>(it.metadata),
            };
          })
          .sort((x, y) => (x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : x.repetition - y.repetition));
      },
      null,
      { light: true },
    );
  }

  const ownClaims = (runId: string, workerId: string) =>
    sql`run_id = ${runId} and status = 'running' and worker_id = ${workerId}`;

  async function extendClaims(runId: string, workerId: string, leaseMs: number): Promise<number> {
    const r = await sql`update ${claims()} set lease_until = ${ctx.clock.now() + leaseMs}
      where ${ownClaims(runId, workerId)}`.execute(ctx.db);
    return Number(r.numAffectedRows ?? 0);
  }

  async function releaseClaims(runId: string, workerId: string, lost = false): Promise<number> {
    const r = await sql`update ${claims()}
      set status = 'queued', lease_until = null, worker_id = null ${lost ? sql`, lost_claims = ${LOST}` : sql``}
      where ${ownClaims(runId, workerId)}`.execute(ctx.db);
    return Number(r.numAffectedRows ?? 0);
  }

  async function markStarted(runId: string, itemId: string, repetition: number, claimToken: number): Promise<void> {
    await ctx.db
      .updateTable('run_items')
      .set({ started_claim: claimToken })
      .where('run_id', '=', runId)
      .where('item_id', '=', itemId)
      .where('repetition', '=', repetition)
      .where('claim_token', '=', claimToken)
      .where('status', '=', 'running')
      .execute();
  }

  async function listClaimOwners(runId: string): Promise<string[]> {
    const { rows } = await sql<{ worker_id: string | null }>`select distinct worker_id from ${claims()}
      where run_id = ${runId} and status = 'running'`.execute(ctx.db);
    return rows.map((r) => r.worker_id).filter((w): w is string => w !== null);
  }

  async function countUnfinished(runId: string): Promise<number> {
    const { n } = await ctx.db
      .selectFrom('run_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  async function writeOutcomes(runId: string, outcomes: ItemOutcome[]): Promise<{ succeeded: number; failed: number }> {
    // No run-row lock up front: fencing is per row (the claim token in the upsert's condition). The
    // run row, which every writer of the run needs, is locked only by the counts update, sent with
    // the commit (adapter.commitWith): a worker stopped mid-write (SIGSTOP, a paused VM) holds its
    // own run-item rows at most, never the run row. Run-item rows are locked in key order, then the
    // run row, so concurrent writers cannot deadlock each other.
    await ctx.write(
      async (trx) => {
        // An item twice in one batch: the first outcome wins, as it does row by row (the second
        // finds the row final). PostgreSQL refuses to upsert one row twice in one statement.
        const unique = firstPerKey(outcomes, (o) => `${o.itemId}\u0000${o.repetition}`).sort((x, y) =>
          x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : x.repetition - y.repetition,
        );
        let succeeded = 0;
        let failed = 0;
        const changed = new Set<string>();
        // One statement per chunk; RETURNING tells which rows changed (see upsertOutcomes).
        for (let i = 0; i < unique.length; i += 400) {
          const r = await trx.executeQuery(upsertOutcomes(ctx.adapter, runId, unique.slice(i, i + 400)));
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
            lastPerKey(o.scores, (s) => s.scorerId).map(
              (s): ScoreRow => [
                runId,
                o.itemId,
                o.repetition,
                s.scorerId,
                s.score,
                s.reason,
                s.error,
                s.usage?.inputTokens ?? null,
                s.usage?.outputTokens ?? null,
                s.usage?.costUsd ?? null,
              ],
            ),
          );
        // Outputs for the cache go with their results: both commit, or neither does.
        await insertCacheEntries(ctx, trx, runId, unique, (o) => changed.has(`${o.itemId}\u0000${o.repetition}`));
        for (let i = 0; i < scores.length; i += 500) {
          await trx.executeQuery(upsertScores(ctx.adapter, scores.slice(i, i + 500)));
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
    const counts = await ctx.db
      .selectFrom('runs')
      .select(['succeeded_count', 'failed_count'])
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    return { succeeded: Number(counts.succeeded_count), failed: Number(counts.failed_count) };
  }

  return {
    planRunItems,
    claimWork,
    extendClaims,
    releaseClaims,
    markStarted,
    listClaimOwners,
    countUnfinished,
    closePendingItems,
    writeOutcomes,
  };
}
