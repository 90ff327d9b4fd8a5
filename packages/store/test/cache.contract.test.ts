import { expect, it } from 'vitest';
import { describeStorage } from './contract.js';

/**
 * The target output cache port on every adapter: entries are written only with the outcome they
 * come from, in its transaction, and only for succeeded outcomes that landed.
 */
await describeStorage('Target cache', (f) => {
  /** A run of a fresh dataset with `inputs`, planned and claimed by worker `w`. */
  const claimedRun = async (name: string, inputs: string[]) => {
    const ds = await f.storage.createDataset({ name });
    const { items, version } = await f.storage.addItems(
      ds.id,
      inputs.map((input) => ({ input })),
    );
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    await f.claimAll(runId);
    return { items, runId };
  };
  const usage = { inputTokens: 7, outputTokens: 3, costUsd: 0.25 };

  it('stores the output of a succeeded outcome with it; failed and stale outcomes store nothing', async () => {
    const { items, runId } = await claimedRun('write', ['a', 'b', 'c']);
    const [a, b, c] = items.map((i) => i.id);
    const wanted = (key: string) => ({ cacheWrite: { key, targetId: 't' } });
    const stale = { ...f.outcome(c!, 'succeeded', wanted('key-c')), claimToken: -5 };
    await f.storage.writeOutcomes(runId, [
      f.outcome(a!, 'succeeded', { ...wanted('key-a'), latencyMs: 41.5, usage }),
      f.outcome(b!, 'failed', wanted('key-b')),
      stale,
    ]);
    const found = await f.storage.readCache(['key-a', 'key-b', 'key-c', 'nothing']);
    expect([...found.keys()]).toEqual(['key-a']);
    expect(found.get('key-a')).toEqual({
      key: 'key-a',
      targetId: 't',
      output: { ok: a },
      latencyMs: 41.5,
      usage,
      runId,
      itemId: a,
      repetition: 0,
      createdAt: new Date(f.clock.now()).toISOString(),
    });
    expect(await f.storage.runCacheCounts(runId)).toEqual({
      hits: 0,
      misses: 2,
      stored: 1,
      costSpentUsd: 0.25,
      costSavedUsd: 0,
    });
  });

  it('keeps the first entry of a key; a cached result names its source run and counts as saved', async () => {
    const first = await claimedRun('first', ['x']);
    await f.storage.writeOutcomes(first.runId, [
      f.outcome(first.items[0]!.id, 'succeeded', { cacheWrite: { key: 'shared', targetId: 't' }, usage }),
    ]);
    const second = await claimedRun('second', ['x', 'y']);
    const [x, y] = second.items.map((i) => i.id);
    await f.storage.writeOutcomes(second.runId, [
      f.outcome(x!, 'succeeded', { output: 'from cache', usage, cachedFrom: first.runId }),
      f.outcome(y!, 'succeeded', { output: 'new', cacheWrite: { key: 'shared', targetId: 't' } }),
    ]);
    expect((await f.storage.readCache(['shared'])).get('shared')).toMatchObject({
      runId: first.runId,
      output: { ok: first.items[0]!.id },
    });
    const rows = (await f.storage.listResults(second.runId, { page: 0, perPage: 10 })).rows;
    const byId = new Map(rows.map((r) => [r.itemId, r]));
    expect(byId.get(x!)).toMatchObject({ cached: true, cachedFrom: first.runId, output: 'from cache', usage });
    expect(byId.get(y!)).toMatchObject({ cached: false, cachedFrom: null });
    expect(await f.storage.runCacheCounts(second.runId)).toEqual({
      hits: 1,
      misses: 1,
      stored: 0,
      costSpentUsd: 0,
      costSavedUsd: 0.25,
    });
  });

  it('a failed outcome write stores neither the results nor their cache entries', async () => {
    const { items, runId } = await claimedRun('atomic', ['p', 'q']);
    const [p, q] = items.map((i) => i.id);
    // The second outcome's score breaks the transaction after the cache rows were inserted.
    const broken = { scorerId: null as unknown as string, score: 1, reason: null, error: null };
    await expect(
      f.storage.writeOutcomes(runId, [
        f.outcome(p!, 'succeeded', { cacheWrite: { key: 'atomic-p', targetId: 't' } }),
        f.outcome(q!, 'succeeded', { cacheWrite: { key: 'atomic-q', targetId: 't' }, scores: [broken] }),
      ]),
    ).rejects.toThrow();
    expect((await f.storage.readCache(['atomic-p', 'atomic-q'])).size).toBe(0);
    expect(await f.storage.countUnfinished(runId)).toBe(2);
    // Written again, whole: both land together.
    await f.storage.writeOutcomes(runId, [
      f.outcome(p!, 'succeeded', { cacheWrite: { key: 'atomic-p', targetId: 't' } }),
      f.outcome(q!, 'succeeded', { cacheWrite: { key: 'atomic-q', targetId: 't' } }),
    ]);
    expect((await f.storage.readCache(['atomic-p', 'atomic-q'])).size).toBe(2);
    expect(await f.storage.countUnfinished(runId)).toBe(0);
  });

  it('reports entries per target and clears by target and by age', async () => {
    const before = new Date(f.clock.now()).toISOString();
    await f.storage.clearCache();
    const one = await claimedRun('stats-1', ['s1', 's2']);
    await f.storage.writeOutcomes(
      one.runId,
      one.items.map((i, k) =>
        f.outcome(i.id, 'succeeded', { cacheWrite: { key: `s-${k}`, targetId: 'alpha' }, usage }),
      ),
    );
    await f.clock.advance(60_000);
    const two = await claimedRun('stats-2', ['s3']);
    await f.storage.writeOutcomes(two.runId, [
      f.outcome(two.items[0]!.id, 'succeeded', { cacheWrite: { key: 's-x', targetId: 'beta' } }),
    ]);
    const stats = await f.storage.cacheStats();
    expect(stats.map((s) => [s.targetId, s.entries, s.costUsd])).toEqual([
      ['alpha', 2, 0.5],
      ['beta', 1, 0],
    ]);
    expect(stats[0]!.bytes).toBeGreaterThan(0);
    expect(stats[0]!.oldest).toBe(before);
    expect(await f.storage.cacheStats({ targetId: 'beta' })).toHaveLength(1);
    // Older than a minute after the first writes: only alpha's entries.
    expect(await f.storage.clearCache({ olderThan: new Date(Date.parse(before) + 1).toISOString() })).toBe(2);
    expect(await f.storage.clearCache({ targetId: 'alpha' })).toBe(0);
    expect(await f.storage.clearCache({ targetId: 'beta' })).toBe(1);
    expect(await f.storage.cacheStats()).toEqual([]);
  });
});
