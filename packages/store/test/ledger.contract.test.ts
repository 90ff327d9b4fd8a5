import { expect, it } from 'vitest';
import { describeStorage } from './contract.js';

/** The work-ledger port (planning, claims and leases, outcomes) on every adapter; leases run on a manual clock. */
await describeStorage('Work ledger', (f) => {
  it('plans run items page by page from the pinned version, idempotently', async () => {
    const ds = await f.storage.createDataset({ name: 'plan' });
    const first = await f.storage.addItems(
      ds.id,
      Array.from({ length: 30 }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, first.version, 2);
    // The dataset changes after the run was pinned: the run must not see it.
    await f.storage.addItems(ds.id, [{ input: 'late' }]);
    await f.storage.deleteItems(ds.id, [first.items[0].id]);
    expect(await f.planAll(runId)).toBeGreaterThan(4);
    await f.planAll(runId); // re-planning (a resumed planner) adds nothing
    const work = await f.claimAll(runId);
    expect(work).toHaveLength(60);
    expect(new Set(work.map((w) => w.input))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => i)));
    expect(work.filter((w) => w.repetition === 1)).toHaveLength(30);
    expect(new Set(work.map((w) => `${w.itemId}:${w.repetition}`)).size).toBe(60);
    expect(await f.storage.countUnfinished(runId)).toBe(60);
    expect(await f.storage.claimWork(runId, 'other', 10, 60_000)).toEqual([]); // all held
  });

  it('counts lost claims: every claimed item the first time, then only items started under the lost claim', async () => {
    const ds = await f.storage.createDataset({ name: 'lost' });
    const { items, version } = await f.storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    const claim = async (w: string, leaseMs: number) => {
      const got = await f.storage.claimWork(runId, w, 10, leaseMs);
      expect(got).toHaveLength(3);
      const lost = Object.fromEntries(got.map((c) => [items.findIndex((i) => i.id === c.itemId), c.lostClaims]));
      return { got, lost };
    };
    // The store's clock is manual: a lease runs out exactly when the test moves time past it.
    const expire = () => f.clock.advance(2);
    expect((await claim('A', 1)).lost).toEqual({ 0: 0, 1: 0, 2: 0 });
    expect(await f.storage.claimWork(runId, 'early', 10, 1)).toEqual([]); // A's 1 ms lease still runs
    await expire();
    expect((await claim('B', 1)).lost).toEqual({ 0: 1, 1: 1, 2: 1 }); // A's claims were lost: all count
    await expire();
    // B's claims expire too, but B started none of them: no item counts again.
    const c = await claim('C', 60_000);
    expect(c.lost).toEqual({ 0: 1, 1: 1, 2: 1 });
    await f.storage.markStarted(runId, items[0].id, 0, c.got.find((x) => x.itemId === items[0].id)!.claimToken);
    await f.storage.markStarted(runId, items[1].id, 0, 999); // a stale token marks nothing
    expect(await f.storage.releaseClaims(runId, 'C', true)).toBe(3); // C died while item 0 ran
    expect((await claim('D', 60_000)).lost).toEqual({ 0: 2, 1: 1, 2: 1 });
    // A graceful hand-back (shutdown) is not a loss.
    expect(await f.storage.releaseClaims(runId, 'D')).toBe(3);
    expect((await claim('E', 60_000)).lost).toEqual({ 0: 2, 1: 1, 2: 1 });
  });

  it('writes outcomes once, counts each once, and drops outcomes with a stale claim token', async () => {
    const ds = await f.storage.createDataset({ name: 'fence' });
    const { items, version } = await f.storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    // Worker A claims everything, then stops renewing: its lease runs out at once.
    const stale = await f.storage.claimWork(runId, 'A', 10, 1);
    expect(stale).toHaveLength(3);
    expect(await f.storage.claimWork(runId, 'B', 10, 60_000)).toEqual([]); // not yet: time has not moved
    await f.clock.advance(2);
    expect(await f.storage.listClaimOwners(runId)).toEqual(['A']);
    const fresh = await f.claimAll(runId, 'B');
    expect(fresh.map((c) => c.itemId).sort()).toEqual(items.map((i) => i.id).sort());
    expect(fresh[0].claimToken).toBeGreaterThan(stale[0].claimToken);
    expect(await f.storage.listClaimOwners(runId)).toEqual(['B']);
    // A's late outcome is dropped: not stored, not counted.
    const late = {
      ...f.outcome(items[0].id, 'failed'),
      claimToken: stale.find((c) => c.itemId === items[0].id)!.claimToken,
    };
    expect(await f.storage.writeOutcomes(runId, [late])).toEqual({ succeeded: 0, failed: 0 });
    expect(
      await f.storage.writeOutcomes(runId, [f.outcome(items[0].id, 'succeeded'), f.outcome(items[1].id, 'failed')]),
    ).toEqual({
      succeeded: 1,
      failed: 1,
    });
    // A re-delivered outcome for a finished item changes nothing.
    expect(await f.storage.writeOutcomes(runId, [f.outcome(items[0].id, 'failed')])).toEqual({
      succeeded: 1,
      failed: 1,
    });
    const run = (await f.storage.getRun(runId))!;
    expect([run.succeededCount, run.failedCount]).toEqual([1, 1]);
    expect(await f.storage.countUnfinished(runId)).toBe(1);
    // Heartbeat and hand-back of B's remaining claim.
    expect(await f.storage.extendClaims(runId, 'B', 60_000)).toBe(1);
    expect(await f.storage.extendClaims(runId, 'A', 60_000)).toBe(0);
    expect(await f.storage.releaseClaims(runId, 'B')).toBe(1);
    const again = await f.claimAll(runId, 'C');
    expect(again.map((c) => c.itemId)).toEqual([items[2].id]);
    const results = await f.storage.listResults(runId, { page: 0, perPage: 10 });
    expect(results.pagination).toEqual({ total: 3, page: 0, perPage: 10, hasMore: false });
    const a = results.rows.find((r) => r.itemId === items[0].id)!;
    expect(a).toMatchObject({ status: 'succeeded', input: 'a', output: { ok: items[0].id }, workerId: 'w' });
    expect(a.scores).toEqual([{ scorerId: 's', score: 1, reason: 'r', error: null }]);
    const failed = await f.storage.listResults(runId, { page: 0, perPage: 10, status: 'failed' });
    expect(failed.rows.map((r) => r.error?.message)).toEqual(['nope']);
  });

  it('claims by concurrent workers never overlap', async () => {
    const ds = await f.storage.createDataset({ name: 'claims' });
    const { version } = await f.storage.addItems(
      ds.id,
      Array.from({ length: 300 }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId, 50);
    const grab = async (w: string) => {
      const got: string[] = [];
      for (;;) {
        const batch = await f.storage.claimWork(runId, w, 9, 60_000);
        if (!batch.length) return got;
        got.push(...batch.map((c) => c.itemId));
      }
    };
    const all = (await Promise.all(['w1', 'w2', 'w3', 'w4'].map(grab))).flat();
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
  });

  it('keeps the first outcome of an item sent twice in one batch, with its own scores', async () => {
    const ds = await f.storage.createDataset({ name: 'dup-batch' });
    const { items, version } = await f.storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    await f.claimAll(runId);
    const first = f.outcome(items[0].id, 'succeeded', {
      latencyMs: 12.5,
      scores: [
        { scorerId: 's', score: 0.25, reason: 'first', error: null },
        { scorerId: 's', score: 0.75, reason: 'same scorer again', error: null },
      ],
    });
    const again = f.outcome(items[0].id, 'failed', {
      scores: [{ scorerId: 't', score: 1, reason: null, error: null }],
    });
    expect(await f.storage.writeOutcomes(runId, [first, again, f.outcome(items[1].id, 'failed')])).toEqual({
      succeeded: 1,
      failed: 1,
    });
    const [a] = (await f.storage.listResults(runId, { page: 0, perPage: 10, status: 'succeeded' })).rows;
    expect(a).toMatchObject({ itemId: items[0].id, latencyMs: 12.5 });
    expect(a.scores).toEqual([{ scorerId: 's', score: 0.75, reason: 'same scorer again', error: null }]);
  });

  it('leases run on the store clock: a heartbeat extends them, and only an expired one is taken over', async () => {
    const ds = await f.storage.createDataset({ name: 'lease' });
    const { items, version } = await f.storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    const held = await f.storage.claimWork(runId, 'A', 10, 1_000);
    expect(held).toHaveLength(2);
    await f.clock.advance(600);
    expect(await f.storage.extendClaims(runId, 'A', 1_000)).toBe(2); // now + 1 000: until 1 600
    await f.clock.advance(600); // 1 200: the first lease would have run out, the renewed one has not
    expect(await f.storage.claimWork(runId, 'B', 10, 1_000)).toEqual([]);
    await f.clock.advance(400); // 1 600: not yet (a lease runs out after its last millisecond)
    expect(await f.storage.claimWork(runId, 'B', 10, 1_000)).toEqual([]);
    await f.clock.advance(1);
    const taken = await f.storage.claimWork(runId, 'B', 10, 1_000);
    expect(taken.map((c) => c.itemId).sort()).toEqual(items.map((i) => i.id).sort());
    expect(taken.every((c) => c.lostClaims === 1 && c.claimToken > held[0].claimToken)).toBe(true);
    expect(await f.storage.listClaimOwners(runId)).toEqual(['B']);
    // A's heartbeat after the takeover extends nothing, and its outcome is dropped.
    expect(await f.storage.extendClaims(runId, 'A', 1_000)).toBe(0);
    const late = { ...f.outcome(items[0].id, 'succeeded'), workerId: 'A', claimToken: held[0].claimToken };
    expect(await f.storage.writeOutcomes(runId, [late])).toEqual({ succeeded: 0, failed: 0 });
  });

  it('closes the pending items of a run: queued and claimed ones, never finished ones', async () => {
    const ds = await f.storage.createDataset({ name: 'close' });
    const { items, version } = await f.storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    const [first] = await f.storage.claimWork(runId, 'w', 1, 60_000);
    const claimed = await f.storage.claimWork(runId, 'w', 1, 60_000);
    expect(claimed).toHaveLength(1);
    await f.storage.writeOutcomes(runId, [{ ...f.outcome(first.itemId, 'succeeded'), claimToken: first.claimToken }]);
    expect(await f.storage.countUnfinished(runId)).toBe(2);
    expect(await f.storage.closePendingItems(runId, 'skipped')).toBe(2);
    expect(await f.storage.countUnfinished(runId)).toBe(0);
    const results = await f.storage.listResults(runId, { page: 0, perPage: 10 });
    expect(results.rows.map((r) => r.status).sort()).toEqual(['skipped', 'skipped', 'succeeded']);
    expect(items).toHaveLength(3);
    expect(await f.storage.closePendingItems('run_missing', 'cancelled')).toBe(0);
  });
});
