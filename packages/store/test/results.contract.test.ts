import { expect, it } from 'vitest';
import { describeStorage } from './contract.js';

/** The results port (result pages, attempts) on every adapter. */
await describeStorage('Results', (f) => {
  it('retries failed items: archives each attempt with its scores and queues the item again', async () => {
    const ds = await f.storage.createDataset({ name: 'retry' });
    const { items, version } = await f.storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    await f.claimAll(runId);
    await f.storage.writeOutcomes(runId, [
      f.outcome(items[0].id, 'succeeded'),
      f.outcome(items[1].id, 'failed', {
        scores: [{ scorerId: 's', score: 0.5, reason: 'half', error: null }],
      }),
    ]);
    expect(await f.storage.closePendingItems(runId, 'cancelled')).toBe(1);
    expect(await f.storage.closePendingItems(runId, 'cancelled')).toBe(0);
    expect(await f.storage.updateRun(runId, { status: 'cancelled' }, ['pending', 'running'])).toBe(true);
    expect(await f.storage.transaction((tx) => tx.resetForRetry(runId))).toBe(2);
    const run = (await f.storage.getRun(runId))!;
    expect(run).toMatchObject({ status: 'running', succeededCount: 1, failedCount: 0, skippedCount: 0 });
    const pending = await f.claimAll(runId);
    expect(pending.map((p) => p.itemId).sort()).toEqual([items[1].id, items[2].id].sort());

    await f.storage.writeOutcomes(runId, [
      f.outcome(items[1].id, 'succeeded', { attempt: 2 }),
      f.outcome(items[2].id, 'succeeded', { attempt: 1, scores: [] }),
    ]);
    const attempts = await f.storage.listAttempts(runId, items[1].id);
    expect(attempts.map((a) => [a.attempt, a.status, a.current])).toEqual([
      [1, 'failed', false],
      [2, 'succeeded', true],
    ]);
    expect(attempts[0].scores).toEqual([{ scorerId: 's', score: 0.5, reason: 'half', error: null }]);
    expect(attempts[0].error).toMatchObject({ message: 'nope' });
    expect(attempts[1].scores).toEqual([{ scorerId: 's', score: 1, reason: 'r', error: null }]);
    const cancelled = await f.storage.listAttempts(runId, items[2].id);
    expect(cancelled.map((a) => [a.status, a.scores, a.current])).toEqual([
      ['cancelled', [], false],
      ['succeeded', [], true],
    ]);
    expect(await f.storage.transaction((tx) => tx.resetForRetry(runId))).toBe(0);
  });

  it("results carry the item's externalId (null when it has none), in pages and alone", async () => {
    const ds = await f.storage.createDataset({ name: 'identity' });
    const { items, version } = await f.storage.addItems(ds.id, [
      { input: 'a', externalId: 'capital-france' },
      { input: 'b' },
    ]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    await f.claimAll(runId);
    await f.storage.writeOutcomes(runId, [f.outcome(items[0].id, 'succeeded'), f.outcome(items[1].id, 'failed')]);
    const page = await f.storage.listResults(runId, { page: 0, perPage: 10 });
    const byId = new Map(page.rows.map((r) => [r.itemId, r.externalId]));
    expect(byId).toEqual(
      new Map([
        [items[0].id, 'capital-france'],
        [items[1].id, null],
      ]),
    );
    expect((await f.storage.getResult(runId, items[0].id, 0))?.externalId).toBe('capital-france');
  });
});
