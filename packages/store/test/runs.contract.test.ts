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
});
