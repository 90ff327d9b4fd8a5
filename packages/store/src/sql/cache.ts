import type {
  CacheEntry,
  CacheTargetStats,
  ItemError,
  ItemOutcome,
  RunCacheCounts,
  RunItemStatus,
  StoredOutput,
  TargetCache,
  Usage,
} from '@assay/core';
import { type Insertable, sql, type Transaction } from 'kysely';
import type { DB } from '../db-types.js';
import { createCacheSize } from './cache-size.js';
import { isoNow, type SqlContext } from './context.js';
import { dec, enc } from './rows.js';

/**
 * The target output cache on SQL (`target_cache`): entries keyed by the hash of what produced the
 * output (see core's engine/cache.ts), and of kind `model-call` the answers of built-ins' model
 * calls (core's engine/model-calls.ts). Entries are inserted only by {@link insertCacheEntries},
 * inside the transaction that stores their outcomes.
 */

/** Rows per insert statement (12 parameters each). */
const CHUNK = 300;

type EntryRow = Insertable<DB['target_cache']>;

/** The cache entry of a stored value. */
function entryRow(
  key: string,
  kind: 'output' | 'model-call',
  o: ItemOutcome,
  e: { ownerId: string; value: unknown; latencyMs: number | null; usage: Usage | null },
  runId: string,
  ts: string,
): EntryRow {
  const output = JSON.stringify(e.value ?? null);
  return {
    key,
    kind,
    target_id: e.ownerId,
    output,
    latency_ms: e.latencyMs,
    usage: enc(e.usage),
    cost_usd: e.usage?.costUsd ?? null,
    bytes: Buffer.byteLength(output),
    run_id: runId,
    item_id: o.itemId,
    repetition: o.repetition,
    created_at: ts,
  };
}

/**
 * Stores, in the caller's transaction, what the outcomes that landed (`landed`) ask for: the
 * outputs of succeeded outcomes that asked for it (`cacheWrite`), the model calls they made
 * (`modelCalls.store`), and the run's count of scorers' model calls made and reused. A key
 * already stored keeps its entry; keys are inserted in order, so concurrent writers of the same
 * keys cannot deadlock.
 */
export async function insertCacheEntries(
  ctx: SqlContext,
  trx: Transaction<DB>,
  runId: string,
  outcomes: ItemOutcome[],
  landed: (o: ItemOutcome) => boolean,
): Promise<number> {
  const ts = isoNow(ctx.clock);
  const byKey = new Map<string, EntryRow>();
  const tally = new Map<string, Omit<Insertable<DB['run_model_calls']>, 'run_id' | 'worker_id'>>();
  for (const o of outcomes) {
    if (o.status !== 'succeeded' || !(o.cacheWrite || o.modelCalls) || !landed(o)) continue;
    const key = o.cacheWrite?.key;
    if (key && !o.cachedFrom && !byKey.has(key)) {
      const value = { ownerId: o.cacheWrite!.targetId, value: o.output, latencyMs: o.latencyMs, usage: o.usage };
      byKey.set(key, entryRow(key, 'output', o, value, runId, ts));
    }
    const calls = o.modelCalls;
    if (!calls) continue;
    for (const c of calls.store)
      if (!byKey.has(c.key)) byKey.set(c.key, entryRow(c.key, 'model-call', o, c, runId, ts));
    if (calls.made + calls.reused === 0) continue;
    const t = tally.get(o.workerId) ?? { made: 0, reused: 0, cost_spent_usd: 0, cost_saved_usd: 0 };
    tally.set(o.workerId, {
      made: t.made + calls.made,
      reused: t.reused + calls.reused,
      cost_spent_usd: t.cost_spent_usd + calls.costSpentUsd,
      cost_saved_usd: t.cost_saved_usd + calls.costSavedUsd,
    });
  }
  const rows = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
  let stored = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const r = await trx
      .insertInto('target_cache')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    stored += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  if (tally.size) {
    // One row per worker (in key order): concurrent workers of a run never wait on each other here.
    const counts = [...tally.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([workerId, t]) => ({ run_id: runId, worker_id: workerId, ...t }));
    await trx
      .insertInto('run_model_calls')
      .values(counts)
      .onConflict((oc) =>
        oc.columns(['run_id', 'worker_id']).doUpdateSet((eb) => ({
          made: eb('run_model_calls.made', '+', eb.ref('excluded.made')),
          reused: eb('run_model_calls.reused', '+', eb.ref('excluded.reused')),
          cost_spent_usd: eb('run_model_calls.cost_spent_usd', '+', eb.ref('excluded.cost_spent_usd')),
          cost_saved_usd: eb('run_model_calls.cost_saved_usd', '+', eb.ref('excluded.cost_saved_usd')),
        })),
      )
      .execute();
  }
  return stored;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

export function createTargetCache(ctx: SqlContext): TargetCache {
  async function readCache(keys: string[]): Promise<Map<string, CacheEntry>> {
    const found = new Map<string, CacheEntry>();
    if (keys.length === 0) return found;
    if (keys.length > 1_000) throw new RangeError('readCache takes at most 1 000 keys a call');
    const rows = await ctx.db.selectFrom('target_cache').selectAll().where('key', 'in', keys).execute();
    for (const r of rows)
      found.set(r.key, {
        key: r.key,
        targetId: r.target_id,
        output: dec(r.output),
        latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
        usage: dec<Usage | null>(r.usage),
        runId: r.run_id,
        itemId: r.item_id,
        repetition: Number(r.repetition),
        createdAt: r.created_at,
      });
    return found;
  }

  async function readRunOutputs(
    runId: string,
    items: { itemId: string; repetition: number }[],
  ): Promise<Map<string, StoredOutput>> {
    const found = new Map<string, StoredOutput>();
    if (items.length === 0) return found;
    if (items.length > 1_000) throw new RangeError('readRunOutputs takes at most 1 000 items a call');
    const wanted = new Set(items.map((i) => `${i.itemId}\u0000${i.repetition}`));
    // By the primary key's leading columns; the repetitions not asked for are dropped here.
    const rows = await ctx.db
      .selectFrom('run_items')
      .select(['item_id', 'repetition', 'status', 'output', 'latency_ms', 'usage', 'error', 'cached_from'])
      .where('run_id', '=', runId)
      .where('item_id', 'in', [...new Set(items.map((i) => i.itemId))])
      .execute();
    for (const r of rows) {
      const key = `${r.item_id}\u0000${Number(r.repetition)}`;
      if (!wanted.has(key)) continue;
      found.set(key, {
        itemId: r.item_id,
        repetition: Number(r.repetition),
        status: r.status as RunItemStatus,
        output: dec(r.output),
        latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
        usage: dec<Usage | null>(r.usage),
        error: dec<ItemError | null>(r.error),
        cachedFrom: r.cached_from,
      });
    }
    return found;
  }

  async function runCacheCounts(runId: string): Promise<RunCacheCounts> {
    // One pass over the run's finished items; `status` is in the claim index's leading columns.
    const r = await sql<{ hits: unknown; misses: unknown; saved: unknown; spent: unknown }>`
      select
        sum(case when cached_from is not null then 1 else 0 end) as hits,
        sum(case when cached_from is null then 1 else 0 end) as misses,
        sum(case when cached_from is not null then cost_usd end) as saved,
        sum(case when cached_from is null then cost_usd end) as spent
      from run_items where run_id = ${runId} and status in ('succeeded', 'failed')`.execute(ctx.db);
    const { n } = await ctx.db
      .selectFrom('target_cache')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    // Scorers' model calls (an llm-judge's): what they cost, and what answers from the cache saved.
    const calls = await ctx.db
      .selectFrom('run_model_calls')
      .select((eb) => [
        eb.fn.sum<number>('cost_spent_usd').as('spent'),
        eb.fn.sum<number>('cost_saved_usd').as('saved'),
        eb.fn.sum<number>('made').as('made'),
        eb.fn.sum<number>('reused').as('reused'),
      ])
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    const row = r.rows[0];
    return {
      hits: num(row?.hits),
      misses: num(row?.misses),
      stored: Number(n),
      costSpentUsd: num(row?.spent) + num(calls.spent),
      costSavedUsd: num(row?.saved) + num(calls.saved),
      modelCalls: { made: num(calls.made), reused: num(calls.reused) },
    };
  }

  async function cacheStats(q: { targetId?: string } = {}): Promise<CacheTargetStats[]> {
    let query = ctx.db
      .selectFrom('target_cache')
      .select((eb) => [
        'target_id',
        eb.fn.countAll<number>().as('entries'),
        eb.fn.sum<number>('bytes').as('bytes'),
        eb.fn.sum<number>('cost_usd').as('cost'),
        eb.fn.min<string>('created_at').as('oldest'),
        eb.fn.max<string>('created_at').as('newest'),
      ])
      .groupBy('target_id')
      .orderBy('target_id');
    if (q.targetId !== undefined) query = query.where('target_id', '=', q.targetId);
    const rows = await query.execute();
    return rows.map((r) => ({
      targetId: r.target_id,
      entries: Number(r.entries),
      bytes: num(r.bytes),
      costUsd: num(r.cost),
      oldest: r.oldest ?? null,
      newest: r.newest ?? null,
    }));
  }

  async function clearCache(q: { targetId?: string; olderThan?: string } = {}): Promise<number> {
    return ctx.write(async (trx) => {
      let del = trx.deleteFrom('target_cache');
      if (q.targetId !== undefined) del = del.where('target_id', '=', q.targetId);
      if (q.olderThan !== undefined) del = del.where('created_at', '<', q.olderThan);
      const r = await del.executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }

  return { readCache, readRunOutputs, runCacheCounts, cacheStats, clearCache, ...createCacheSize(ctx) };
}
