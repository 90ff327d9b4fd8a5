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
      modelCalls: { made: 0, reused: 0 },
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
      modelCalls: { made: 0, reused: 0 },
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

  it("stores a landed outcome's model calls as entries and counts the scorers' calls in the run's cost", async () => {
    const { items, runId } = await claimedRun('calls', ['m', 'n', 'o']);
    const [m, n, o] = items.map((i) => i.id);
    const verdict = { score: 0.5, reason: 'half' };
    const calls = (key: string, extra = {}) => ({
      modelCalls: {
        store: [{ key, ownerId: 'judge', value: verdict, latencyMs: 12, usage }],
        made: 1,
        reused: 2,
        costSpentUsd: 0.25,
        costSavedUsd: 0.5,
        ...extra,
      },
    });
    await f.storage.writeOutcomes(runId, [
      // From the output cache: its output is not stored again, its judge's call is.
      f.outcome(m!, 'succeeded', {
        cachedFrom: 'run_old',
        cacheWrite: { key: 'out-m', targetId: 't' },
        ...calls('call-m'),
      }),
      f.outcome(n!, 'succeeded', { workerId: 'w2', cacheWrite: { key: 'out-n', targetId: 't' }, ...calls('call-n') }),
      // Stale (a lost claim): neither its entries nor its counts land.
      { ...f.outcome(o!, 'succeeded', calls('call-o')), claimToken: -3 },
    ]);
    const found = await f.storage.readCache(['out-m', 'out-n', 'call-m', 'call-n', 'call-o']);
    expect([...found.keys()].sort()).toEqual(['call-m', 'call-n', 'out-n']);
    expect(found.get('call-m')).toMatchObject({ targetId: 'judge', output: verdict, latencyMs: 12, usage, runId });
    expect(await f.storage.runCacheCounts(runId)).toEqual({
      hits: 1,
      misses: 1,
      stored: 3,
      // The scorers' calls of both workers, added to what the results cost (none reported usage).
      costSpentUsd: 0.5,
      costSavedUsd: 1,
      // Both workers' scorer calls: one made and two reused each.
      modelCalls: { made: 2, reused: 4 },
    });
    // Counted per worker, and added up when the same worker writes again.
    const more = await claimedRun('calls-2', ['p']);
    await f.storage.writeOutcomes(more.runId, [f.outcome(more.items[0]!.id, 'succeeded', calls('call-n'))]);
    await f.storage.writeOutcomes(more.runId, [f.outcome(more.items[0]!.id, 'succeeded', calls('call-n'))]);
    expect((await f.storage.runCacheCounts(more.runId)).costSavedUsd).toBe(0.5);
    expect((await f.storage.readCache(['call-n'])).get('call-n')!.runId).toBe(runId); // the first entry stays
    const stats = await f.storage.cacheStats({ targetId: 'judge' });
    expect(stats.map((t) => t.entries)).toEqual([2]);
  });

  it('sums entry sizes by age and deletes the oldest first', async () => {
    await f.storage.clearCache();
    const t0 = new Date(f.clock.now()).toISOString();
    const run = await claimedRun('sizes', ['a', 'b', 'c', 'd']);
    for (const [k, item] of run.items.entries()) {
      await f.clock.advance(1_000);
      await f.storage.writeOutcomes(run.runId, [
        f.outcome(item.id, 'succeeded', { output: 'x'.repeat(98), cacheWrite: { key: `size-${k}`, targetId: 't' } }),
      ]);
    }
    const at = (s: number) => new Date(Date.parse(t0) + s * 1_000).toISOString();
    expect(await f.storage.cacheBytes()).toBe(400); // 100 bytes of JSON each
    expect(await f.storage.cacheBytes({ upTo: at(2) })).toBe(200);
    expect(await f.storage.cacheBytes({ after: at(2) })).toBe(200);
    expect(await f.storage.cacheBytes({ after: at(1), upTo: at(3) })).toBe(200);
    expect(await f.storage.evictOldest(150, 500)).toEqual({ entries: 2, bytes: 200 });
    expect([...(await f.storage.readCache(['size-0', 'size-1', 'size-2', 'size-3'])).keys()].sort()).toEqual([
      'size-2',
      'size-3',
    ]);
    expect(await f.storage.evictOldest(1_000, 1)).toEqual({ entries: 1, bytes: 100 });
    expect(await f.storage.evictOldest(0, 10)).toEqual({ entries: 0, bytes: 0 });
    expect(await f.storage.cacheBytes()).toBe(100);
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
