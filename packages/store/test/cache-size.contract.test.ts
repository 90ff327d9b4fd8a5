import { CacheSizeLimit } from '@assay/core';
import { expect, it } from 'vitest';
import { describeStorage } from './contract.js';

/**
 * The cache's size limit (`ASSAY_CACHE_MAX_MB`, core's engine/cache-size.ts) on every adapter:
 * over the limit, the oldest entries go until the cache is under it, the newest stay, and entries
 * deleted by someone else never make it delete more than it must.
 */
await describeStorage('Cache size limit', (f) => {
  let seq = 0;
  /** Writes `n` entries of 100 bytes each (JSON), one second apart; returns their keys, oldest first. */
  const fill = async (n: number) => {
    const ds = await f.storage.createDataset({ name: `size-${++seq}` });
    const { items, version } = await f.storage.addItems(
      ds.id,
      Array.from({ length: n }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    await f.claimAll(runId);
    const keys: string[] = [];
    for (const item of items) {
      await f.clock.advance(1_000);
      const key = `k${seq}-${keys.length}`;
      keys.push(key);
      await f.storage.writeOutcomes(runId, [
        f.outcome(item.id, 'succeeded', { output: 'x'.repeat(98), cacheWrite: { key, targetId: 't' } }),
      ]);
    }
    return keys;
  };
  const present = async (keys: string[]) => [...(await f.storage.readCache(keys)).keys()].sort();
  const limit = (maxBytes: number) =>
    new CacheSizeLimit({ maxBytes, storage: f.storage, clock: f.clock, batch: 7, settleMs: 5_000 });

  it('deletes the oldest entries until the cache is under the limit; the newest stay', async () => {
    await f.storage.clearCache();
    const keys = await fill(40); // 4,000 bytes
    const sizes = limit(3_000);
    const r = await sizes.check();
    // Down to 90% of the limit: 27 entries stay, the 13 oldest went (in batches of 7).
    expect(r).toEqual({ bytes: 2_700, evicted: { entries: 13, bytes: 1_300 } });
    expect(await f.storage.cacheBytes()).toBe(2_700);
    expect(await present(keys)).toEqual(keys.slice(13).sort());
    // Under the limit: nothing more goes.
    expect((await sizes.check()).evicted.entries).toBe(0);

    // Entries written since the last check are counted; the oldest go again.
    const newer = await fill(5);
    await f.clock.advance(10_000); // some of them are now "settled", some of the mark's range is new
    const again = await sizes.check();
    expect(again.bytes).toBeLessThanOrEqual(3_000);
    expect(await f.storage.cacheBytes()).toBe(again.bytes);
    expect(await present(newer)).toEqual([...newer].sort());
    expect(await present(keys.slice(-10))).toEqual(keys.slice(-10).sort());
  });

  it('entries cleared elsewhere do not make it delete more than it must', async () => {
    await f.storage.clearCache();
    const keys = await fill(20); // 2,000 bytes
    await f.clock.advance(10_000);
    const sizes = limit(2_500);
    expect((await sizes.check()).bytes).toBe(2_000); // its mark now holds 2,000 settled bytes
    // Another process clears the 10 oldest; then 10 new entries come: really 2,000 bytes, under the limit.
    const gone = await f.storage.evictOldest(1_000, 10);
    expect(gone.entries).toBe(10);
    const newer = await fill(10);
    const r = await sizes.check();
    expect(r).toEqual({ bytes: 2_000, evicted: { entries: 0, bytes: 0 } });
    expect(await present([...keys, ...newer])).toEqual([...keys.slice(10), ...newer].sort());
  });
});
