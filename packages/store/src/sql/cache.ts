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
import { sql, type Transaction } from 'kysely';
import type { DB } from '../db-types.js';
import { isoNow, type SqlContext } from './context.js';
import { dec, enc } from './rows.js';

/**
 * The target output cache on SQL (`target_cache`): entries keyed by the hash of what produced the
 * output (see core's engine/cache.ts). Entries are inserted only by {@link insertCacheEntries},
 * inside the transaction that stores their outcomes.
 */

/** Rows per insert statement (11 parameters each). */
const CHUNK = 300;

/**
 * Stores the outputs of `outcomes` that asked for it (`cacheWrite`), succeeded, and landed (their
 * keys in `landed`), in the caller's transaction. A key already stored keeps its entry; keys are
 * inserted in order, so concurrent writers of the same keys cannot deadlock.
 */
export async function insertCacheEntries(
  ctx: SqlContext,
  trx: Transaction<DB>,
  runId: string,
  outcomes: ItemOutcome[],
  landed: (o: ItemOutcome) => boolean,
): Promise<number> {
  const byKey = new Map<string, ItemOutcome>();
  for (const o of outcomes) {
    const key = o.cacheWrite?.key;
    if (key && o.status === 'succeeded' && !o.cachedFrom && !byKey.has(key) && landed(o)) byKey.set(key, o);
  }
  if (byKey.size === 0) return 0;
  const ts = isoNow(ctx.clock);
  const rows = [...byKey.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, o]) => {
      const output = JSON.stringify(o.output ?? null);
      return {
        key,
        target_id: o.cacheWrite!.targetId,
        output,
        latency_ms: o.latencyMs,
        usage: enc(o.usage),
        cost_usd: o.usage?.costUsd ?? null,
        bytes: Buffer.byteLength(output),
        run_id: runId,
        item_id: o.itemId,
        repetition: o.repetition,
        created_at: ts,
      };
    });
  let stored = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const r = await trx
      .insertInto('target_cache')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    stored += Number(r.numInsertedOrUpdatedRows ?? 0);
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
    const row = r.rows[0];
    return {
      hits: num(row?.hits),
      misses: num(row?.misses),
      stored: Number(n),
      costSpentUsd: num(row?.spent),
      costSavedUsd: num(row?.saved),
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

  return { readCache, readRunOutputs, runCacheCounts, cacheStats, clearCache };
}
