import { newId, notFound } from '@assay/core';
import { expect, it } from 'vitest';
import { describeStorage } from './contract.js';
import { pendingRun } from './runs.js';

/** The catalog port (datasets, items, versions) on every adapter. */
await describeStorage('Catalog', (f) => {
  it('versions a dataset: each mutation batch bumps the version once and is listed', async () => {
    const ds = await f.storage.createDataset({ name: 'v' });
    expect(ds.version).toBe(0);
    const a = await f.storage.addItems(ds.id, [{ input: 1 }, { input: 2 }, { input: 3 }]);
    expect(a.version).toBe(1);
    const u = await f.storage.updateItems(ds.id, [{ id: a.items[0].id, input: 10 }]);
    expect(u.version).toBe(2);
    const d = await f.storage.deleteItems(ds.id, [a.items[1].id]);
    expect(d).toEqual({ version: 3, count: 1 });
    const now = (await f.storage.getDataset(ds.id))!;
    expect(now).toMatchObject({ version: 3, itemCount: 2 });
    const versions = await f.storage.listVersions(ds.id, { page: 0, perPage: 10 });
    expect(versions.rows.map((v) => [v.version, v.added, v.updated, v.deleted])).toEqual([
      [3, 0, 0, 1],
      [2, 0, 1, 0],
      [1, 3, 0, 0],
    ]);
    // Each version shows exactly the items valid at it.
    const at = async (version: number) =>
      (await f.storage.listItems(ds.id, { page: 0, perPage: 10, version })).rows.map((i) => i.input).sort();
    expect(await at(0)).toEqual([]);
    expect(await at(1)).toEqual([1, 2, 3]);
    expect(await at(2)).toEqual([10, 2, 3].sort());
    expect(await at(3)).toEqual([10, 3].sort());
    expect(await f.storage.countItems(ds.id, 1)).toBe(3);
    expect((await f.storage.getItem(ds.id, a.items[0].id, 1))?.input).toBe(1);
    expect((await f.storage.getItem(ds.id, a.items[0].id))?.input).toBe(10);
    expect(await f.storage.getItem(ds.id, a.items[1].id)).toBeUndefined();
  });

  it('keeps externalId unique among current items, and free again after a delete', async () => {
    const ds = await f.storage.createDataset({ name: 'ext' });
    const { items } = await f.storage.addItems(ds.id, [{ input: 'a', externalId: 'x' }]);
    await expect(f.storage.addItems(ds.id, [{ input: 'b', externalId: 'x' }])).rejects.toMatchObject({ status: 409 });
    await expect(
      f.storage.addItems(ds.id, [
        { input: 'b', externalId: 'y' },
        { input: 'c', externalId: 'y' },
      ]),
    ).rejects.toMatchObject({
      status: 400,
    });
    expect((await f.storage.getDataset(ds.id))!.version).toBe(1); // failed batches change nothing
    await f.storage.deleteItems(ds.id, [items[0].id]);
    await expect(f.storage.addItems(ds.id, [{ input: 'b', externalId: 'x' }])).resolves.toMatchObject({ version: 3 });
  });

  it('rejects unknown items atomically', async () => {
    const ds = await f.storage.createDataset({ name: 'atomic' });
    const { items } = await f.storage.addItems(ds.id, [{ input: 1 }]);
    await expect(f.storage.deleteItems(ds.id, [items[0].id, 'item_missing'])).rejects.toMatchObject({ status: 404 });
    await expect(f.storage.updateItems(ds.id, [{ id: 'item_missing', input: 2 }])).rejects.toMatchObject({
      status: 404,
    });
    expect(await f.storage.getDataset(ds.id)).toMatchObject({ version: 1, itemCount: 1 });
  });

  it('searches items case-insensitively, taking % and _ literally', async () => {
    const ds = await f.storage.createDataset({ name: 'search' });
    await f.storage.addItems(ds.id, [
      { input: 'Hello World', externalId: 'greeting' },
      { input: '100% sure', groundTruth: 'yes' },
      { input: 'a_b' },
      { input: 'axb' },
    ]);
    const search = async (text: string) =>
      (await f.storage.listItems(ds.id, { page: 0, perPage: 10, search: text })).rows.map((i) => i.input).sort();
    expect(await search('hello')).toEqual(['Hello World']);
    expect(await search('GREET')).toEqual(['Hello World']); // externalId
    expect(await search('0%')).toEqual(['100% sure']);
    expect(await search('a_b')).toEqual(['a_b']);
    // Values are JSON text: JSON's own quotes are not content, and a NUL is a character like any
    // other (PostgreSQL text cannot hold one, so it must never reach the database raw).
    await f.storage.addItems(ds.id, [{ input: 'she said "hi"' }, { input: 'C:\\temp' }, { input: 'nul\u0000here' }]);
    expect(await search('"')).toEqual(['she said "hi"']);
    expect(await search('C:\\t')).toEqual(['C:\\temp']);
    expect(await search('\u0000')).toEqual(['nul\u0000here']);
    const page = await f.storage.listItems(ds.id, { page: 0, perPage: 1, search: 'b' });
    expect(page.pagination).toEqual({ total: 2, page: 0, perPage: 1, hasMore: true });
  });

  it('serializes concurrent item batches of one dataset: one version each, externalIds stay unique', async () => {
    // Several rounds: the first one may be serialized by chance (connections still opening).
    for (let round = 0; round < 4; round++) {
      const ds = await f.storage.createDataset({ name: `concurrent-${round}` });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          f.storage.addItems(ds.id, [{ input: i, externalId: i < 3 ? 'same' : `x${i}` }]),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected.map((r) => (r.reason as { status?: number }).status)).toEqual([409, 409]);
      expect(ok.map((r) => r.value.version).sort()).toEqual([1, 2, 3, 4]);
      expect(await f.storage.getDataset(ds.id)).toMatchObject({ version: 4, itemCount: 4 });
      expect((await f.storage.listVersions(ds.id, { page: 0, perPage: 10 })).pagination.total).toBe(4);
    }
  });

  it('deletes a dataset with its items, runs and results', async () => {
    const ds = await f.storage.createDataset({ name: 'doomed' });
    const { version } = await f.storage.addItems(ds.id, [{ input: 1 }]);
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    // Not while a run is pending or running: the same 409 the HTTP API answers.
    await expect(f.storage.deleteDataset(ds.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      status: 409,
      message: 'dataset has pending or running runs; wait for them to finish first',
    });
    expect(await f.storage.updateRun(runId, { status: 'running' })).toBe(true);
    await expect(f.storage.deleteDataset(ds.id)).rejects.toMatchObject({ status: 409 });
    expect(await f.storage.getRun(runId)).toBeDefined();
    expect(await f.storage.updateRun(runId, { status: 'completed' })).toBe(true);
    await f.storage.deleteDataset(ds.id);
    expect(await f.storage.getDataset(ds.id)).toBeUndefined();
    expect(await f.storage.getRun(runId)).toBeUndefined();
    await expect(f.storage.deleteDataset(ds.id)).rejects.toMatchObject({ status: 404 });
  });

  it('a delete racing run triggers never loses a run: either the delete is refused or the run never existed', async () => {
    // Each round starts the delete at another place among four triggers (each reads the dataset,
    // then inserts its run in a transaction, as the run service does); every run that was created
    // must still exist afterwards, and a delete that went through must have left no run behind.
    let refused = 0;
    let deleted = 0;
    for (let round = 0; round < 20; round++) {
      const ds = await f.storage.createDataset({ name: `race-${round}` });
      const { version } = await f.storage.addItems(ds.id, [{ input: 1 }]);
      const runIds = Array.from({ length: 4 }, () => newId('run'));
      const trigger = async (id: string) => {
        if (!(await f.storage.getDataset(ds.id))) throw notFound('Dataset', ds.id);
        return f.storage.transaction((tx) => tx.createRun(pendingRun(ds.id, version, { id, totalItems: 1 })));
      };
      const at = round % 5;
      const ops: Promise<unknown>[] = runIds.map((id) => trigger(id));
      ops.splice(at, 0, f.storage.deleteDataset(ds.id));
      const settled = await Promise.allSettled(ops);
      const [del] = settled.splice(at, 1);
      const created = settled.filter((r) => r.status === 'fulfilled').length;
      for (const [i, r] of settled.entries()) {
        const run = await f.storage.getRun(runIds[i]);
        if (r.status === 'fulfilled') expect(run).toBeDefined();
        else {
          expect(r.reason).toMatchObject({ code: 'NOT_FOUND', status: 404 });
          expect(run).toBeUndefined();
        }
      }
      if (del.status === 'fulfilled') {
        deleted++;
        expect(created).toBe(0);
        expect(await f.storage.getDataset(ds.id)).toBeUndefined();
      } else {
        refused++;
        expect(del.reason).toMatchObject({ code: 'CONFLICT', status: 409 });
        expect(created).toBeGreaterThan(0);
        expect(await f.storage.countActiveRuns(ds.id)).toBe(created);
        for (const id of runIds) await f.storage.updateRun(id, { status: 'completed' });
      }
    }
    expect(refused + deleted).toBe(20);
  });
});
