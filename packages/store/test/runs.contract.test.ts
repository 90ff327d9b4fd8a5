import { newId, RUN_DEFAULTS } from '@assay/core';
import { expect, it } from 'vitest';
import { describeStorage } from './contract.js';

/** The runs port on every adapter. */
await describeStorage('Runs', (f) => {
  it('pages datasets and runs newest first', async () => {
    const ds = await f.storage.createDataset({ name: 'runs-list' });
    const { version } = await f.storage.addItems(ds.id, [{ input: 1 }]);
    const ids = [await f.newRun(ds.id, version), await f.newRun(ds.id, version), await f.newRun(ds.id, version)];
    const page0 = await f.storage.listRuns(ds.id, { page: 0, perPage: 2 });
    expect(page0.rows.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page0.pagination).toEqual({ total: 3, page: 0, perPage: 2, hasMore: true });
    const page1 = await f.storage.listRuns(ds.id, { page: 1, perPage: 2 });
    expect(page1.rows.map((r) => r.id)).toEqual([ids[0]]);
    expect(await f.storage.countActiveRuns(ds.id)).toBe(3);
  });

  it('creates a pending run stamped by the store clock; a run of a deleted dataset is a 404 and never exists', async () => {
    const ds = await f.storage.createDataset({ name: 'runs-create' });
    const { version } = await f.storage.addItems(ds.id, [{ input: 1 }]);
    const id = await f.newRun(ds.id, version);
    expect(await f.storage.getRun(id)).toMatchObject({
      id,
      datasetId: ds.id,
      datasetVersion: version,
      status: 'pending',
      createdAt: new Date(f.clock.now()).toISOString(),
      startedAt: null,
      summary: null,
    });
    await f.storage.updateRun(id, { status: 'completed' });
    await f.storage.deleteDataset(ds.id);
    await expect(f.newRun(ds.id, version)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(await f.storage.listActiveRunIds(1000)).not.toContain(id);
  });

  it('updates a run only from the given statuses, and finds it by idempotency key', async () => {
    const ds = await f.storage.createDataset({ name: 'runs-update' });
    const { version } = await f.storage.addItems(ds.id, [{ input: 1 }]);
    const id = newId('run');
    await f.storage.transaction((tx) =>
      tx.createRun({
        id,
        datasetId: ds.id,
        datasetVersion: version,
        name: 'keyed',
        targetType: 'function',
        targetId: 't',
        scorerIds: ['s'],
        options: { ...RUN_DEFAULTS },
        metadata: { team: 'a' },
        totalItems: 1,
        idempotency: { key: `${ds.id}:k1`, hash: 'h1' },
      }),
    );
    expect(await f.storage.findRunByIdempotencyKey(`${ds.id}:k1`)).toMatchObject({
      run: { id, name: 'keyed' },
      hash: 'h1',
    });
    expect(await f.storage.findRunByIdempotencyKey(`${ds.id}:other`)).toBeUndefined();
    expect(await f.storage.updateRun(id, { status: 'completed' }, ['running'])).toBe(false);
    expect(await f.storage.updateRun(id, { status: 'running', startedAt: 'x' }, ['pending'])).toBe(true);
    expect(await f.storage.getRun(id)).toMatchObject({ status: 'running', startedAt: 'x', metadata: { team: 'a' } });
    expect(await f.storage.updateRun('run_missing', { status: 'failed' })).toBe(false);
  });

  it('lists active run ids in id order, page by page', async () => {
    const ds = await f.storage.createDataset({ name: 'runs-active' });
    const { version } = await f.storage.addItems(ds.id, [{ input: 1 }]);
    const ids = [await f.newRun(ds.id, version), await f.newRun(ds.id, version), await f.newRun(ds.id, version)];
    await f.storage.updateRun(ids[1], { status: 'cancelled' });
    const active: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await f.storage.listActiveRunIds(1, after);
      if (!page.length) break;
      active.push(...page);
      after = page[page.length - 1];
    }
    expect(active.filter((id) => ids.includes(id))).toEqual([ids[0], ids[2]]);
    expect([...active].sort()).toEqual(active);
  });
});
