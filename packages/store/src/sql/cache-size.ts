import type { TargetCache } from '@assay/core';
import type { SqlContext } from './context.js';

/**
 * The size of the cache on SQL, for its limit (core's engine/cache-size.ts): sums over a time
 * range and oldest-first deletes, both on the `(created_at, bytes)` index, never reading the
 * stored values.
 */
export function createCacheSize(ctx: SqlContext): Pick<TargetCache, 'cacheBytes' | 'evictOldest'> {
  async function cacheBytes(range: { after?: string; upTo?: string } = {}): Promise<number> {
    let q = ctx.db.selectFrom('target_cache').select((eb) => eb.fn.sum<number>('bytes').as('bytes'));
    if (range.after !== undefined) q = q.where('created_at', '>', range.after);
    if (range.upTo !== undefined) q = q.where('created_at', '<=', range.upTo);
    const { bytes } = await q.executeTakeFirstOrThrow();
    return bytes === null || bytes === undefined ? 0 : Number(bytes);
  }

  async function evictOldest(bytes: number, maxEntries: number): Promise<{ entries: number; bytes: number }> {
    if (!(bytes > 0) || maxEntries < 1) return { entries: 0, bytes: 0 };
    return ctx.write(async (trx) => {
      const oldest = await trx
        .selectFrom('target_cache')
        .select(['key', 'bytes'])
        .orderBy('created_at')
        .limit(Math.min(maxEntries, 1_000))
        .execute();
      const keys: string[] = [];
      let sum = 0;
      for (const r of oldest) {
        if (sum >= bytes) break;
        keys.push(r.key);
        sum += Number(r.bytes);
      }
      if (keys.length === 0) return { entries: 0, bytes: 0 };
      // What is really gone: another process may have deleted some of these rows meanwhile.
      const gone = await trx.deleteFrom('target_cache').where('key', 'in', keys).returning('bytes').execute();
      return { entries: gone.length, bytes: gone.reduce((s, r) => s + Number(r.bytes), 0) };
    });
  }

  return { cacheBytes, evictOldest };
}
