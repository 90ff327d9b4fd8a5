import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FencedError, type ItemOutcome, newId, RUN_DEFAULTS, type Storage } from '@assay/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStorage } from '../src/index.js';

/**
 * The storage contract: every adapter of the Storage port must pass these. PostgreSQL joins this
 * list when its adapter lands.
 */
const ADAPTERS: { name: string; open(): Promise<{ storage: Storage; cleanup(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'assay-store-'));
      const storage = createSqliteStorage({ file: join(dir, 'assay.db') });
      await storage.migrate();
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];

for (const adapter of ADAPTERS) {
  describe(`Storage contract: ${adapter.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ storage, cleanup } = await adapter.open());
      await storage.migrate(); // migrating twice is harmless
    });
    afterAll(async () => {
      await storage.close();
      await cleanup();
    });

    const newRun = async (datasetId: string, version: number, repetitions = 1) => {
      const id = newId('run');
      await storage.transaction((tx) =>
        tx.createRun({
          id,
          datasetId,
          datasetVersion: version,
          name: null,
          targetType: 'function',
          targetId: 't',
          scorerIds: ['s'],
          options: { ...RUN_DEFAULTS, repetitions },
          metadata: null,
          totalItems: 0,
        }),
      );
      return id;
    };
    const planAll = async (runId: string, pageSize = 7) => {
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        ({ cursor } = await storage.planRunItems(runId, cursor, pageSize));
        pages++;
      }
      return pages;
    };
    const outcome = (
      itemId: string,
      status: 'succeeded' | 'failed',
      extra: Partial<ItemOutcome> = {},
    ): ItemOutcome => ({
      itemId,
      repetition: 0,
      status,
      attempt: 1,
      output: status === 'succeeded' ? { ok: itemId } : null,
      error: status === 'failed' ? { message: 'nope', code: 'X', retryable: false } : null,
      latencyMs: 10,
      startedAt: new Date().toISOString(),
      completedAt: new Date().toISOString(),
      scores: status === 'succeeded' ? [{ scorerId: 's', score: 1, reason: 'r', error: null }] : [],
      ...extra,
    });

    it('versions a dataset: each mutation batch bumps the version once and is listed', async () => {
      const ds = await storage.createDataset({ name: 'v' });
      expect(ds.version).toBe(0);
      const a = await storage.addItems(ds.id, [{ input: 1 }, { input: 2 }, { input: 3 }]);
      expect(a.version).toBe(1);
      const u = await storage.updateItems(ds.id, [{ id: a.items[0].id, input: 10 }]);
      expect(u.version).toBe(2);
      const d = await storage.deleteItems(ds.id, [a.items[1].id]);
      expect(d).toEqual({ version: 3, count: 1 });
      const now = (await storage.getDataset(ds.id))!;
      expect(now).toMatchObject({ version: 3, itemCount: 2 });
      const versions = await storage.listVersions(ds.id, { page: 0, perPage: 10 });
      expect(versions.rows.map((v) => [v.version, v.added, v.updated, v.deleted])).toEqual([
        [3, 0, 0, 1],
        [2, 0, 1, 0],
        [1, 3, 0, 0],
      ]);
      // Each version shows exactly the items valid at it.
      const at = async (version: number) =>
        (await storage.listItems(ds.id, { page: 0, perPage: 10, version })).rows.map((i) => i.input).sort();
      expect(await at(0)).toEqual([]);
      expect(await at(1)).toEqual([1, 2, 3]);
      expect(await at(2)).toEqual([10, 2, 3].sort());
      expect(await at(3)).toEqual([10, 3].sort());
      expect(await storage.countItems(ds.id, 1)).toBe(3);
      expect((await storage.getItem(ds.id, a.items[0].id, 1))?.input).toBe(1);
      expect((await storage.getItem(ds.id, a.items[0].id))?.input).toBe(10);
      expect(await storage.getItem(ds.id, a.items[1].id)).toBeUndefined();
    });

    it('keeps externalId unique among current items, and free again after a delete', async () => {
      const ds = await storage.createDataset({ name: 'ext' });
      const { items } = await storage.addItems(ds.id, [{ input: 'a', externalId: 'x' }]);
      await expect(storage.addItems(ds.id, [{ input: 'b', externalId: 'x' }])).rejects.toMatchObject({ status: 409 });
      await expect(
        storage.addItems(ds.id, [
          { input: 'b', externalId: 'y' },
          { input: 'c', externalId: 'y' },
        ]),
      ).rejects.toMatchObject({
        status: 400,
      });
      expect((await storage.getDataset(ds.id))!.version).toBe(1); // failed batches change nothing
      await storage.deleteItems(ds.id, [items[0].id]);
      await expect(storage.addItems(ds.id, [{ input: 'b', externalId: 'x' }])).resolves.toMatchObject({ version: 3 });
    });

    it('rejects unknown items atomically', async () => {
      const ds = await storage.createDataset({ name: 'atomic' });
      const { items } = await storage.addItems(ds.id, [{ input: 1 }]);
      await expect(storage.deleteItems(ds.id, [items[0].id, 'item_missing'])).rejects.toMatchObject({ status: 404 });
      await expect(storage.updateItems(ds.id, [{ id: 'item_missing', input: 2 }])).rejects.toMatchObject({
        status: 404,
      });
      expect(await storage.getDataset(ds.id)).toMatchObject({ version: 1, itemCount: 1 });
    });

    it('plans run items page by page from the pinned version, idempotently', async () => {
      const ds = await storage.createDataset({ name: 'plan' });
      const first = await storage.addItems(
        ds.id,
        Array.from({ length: 30 }, (_, i) => ({ input: i })),
      );
      const runId = await newRun(ds.id, first.version, 2);
      // The dataset changes after the run was pinned: the run must not see it.
      await storage.addItems(ds.id, [{ input: 'late' }]);
      await storage.deleteItems(ds.id, [first.items[0].id]);
      expect(await planAll(runId)).toBeGreaterThan(4);
      await planAll(runId); // re-planning (a resumed planner) adds nothing
      const work = await storage.listPendingWork(runId, null, 1000);
      expect(work).toHaveLength(60);
      expect(new Set(work.map((w) => w.input))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => i)));
      expect(work.filter((w) => w.repetition === 1)).toHaveLength(30);
      // keyset paging: pages concatenate to the whole, in key order, without overlap
      const paged = [];
      let after: { itemId: string; repetition: number } | null = null;
      for (;;) {
        const page = await storage.listPendingWork(runId, after, 11);
        if (!page.length) break;
        paged.push(...page);
        after = { itemId: page[page.length - 1].itemId, repetition: page[page.length - 1].repetition };
      }
      expect(paged.map((w) => `${w.itemId}:${w.repetition}`)).toEqual(work.map((w) => `${w.itemId}:${w.repetition}`));
    });

    it('writes outcomes once, counts each once, and rejects a stale fencing token', async () => {
      const ds = await storage.createDataset({ name: 'fence' });
      const { items, version } = await storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      const stale = await storage.acquireRun(runId);
      const fence = await storage.acquireRun(runId);
      expect(fence).toBeGreaterThan(stale);
      await expect(storage.writeOutcomes(runId, stale, [outcome(items[0].id, 'succeeded')])).rejects.toBeInstanceOf(
        FencedError,
      );
      expect(
        await storage.writeOutcomes(runId, fence, [outcome(items[0].id, 'succeeded'), outcome(items[1].id, 'failed')]),
      ).toEqual({
        succeeded: 1,
        failed: 1,
      });
      // A re-delivered outcome for a finished item changes nothing.
      expect(await storage.writeOutcomes(runId, fence, [outcome(items[0].id, 'failed')])).toEqual({
        succeeded: 1,
        failed: 1,
      });
      const run = (await storage.getRun(runId))!;
      expect([run.succeededCount, run.failedCount]).toEqual([1, 1]);
      const pending = await storage.listPendingWork(runId, null, 10);
      expect(pending.map((p) => p.itemId)).toEqual([items[2].id]);
      const results = await storage.listResults(runId, { page: 0, perPage: 10 });
      expect(results.pagination).toEqual({ total: 3, page: 0, perPage: 10, hasMore: false });
      const a = results.rows.find((r) => r.itemId === items[0].id)!;
      expect(a).toMatchObject({ status: 'succeeded', input: 'a', output: { ok: items[0].id } });
      expect(a.scores).toEqual([{ scorerId: 's', score: 1, reason: 'r', error: null }]);
      const failed = await storage.listResults(runId, { page: 0, perPage: 10, status: 'failed' });
      expect(failed.rows.map((r) => r.error?.message)).toEqual(['nope']);
    });

    it('summarizes counts, scorer means and pass rates, and latency percentiles from stored rows', async () => {
      const ds = await storage.createDataset({ name: 'summary' });
      const { items, version } = await storage.addItems(
        ds.id,
        Array.from({ length: 20 }, (_, i) => ({ input: i })),
      );
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      const fence = await storage.acquireRun(runId);
      await storage.writeOutcomes(
        runId,
        fence,
        items.map((it, i) =>
          i < 18
            ? outcome(it.id, 'succeeded', {
                latencyMs: i + 1,
                scores: [
                  { scorerId: 'half', score: i % 2 ? 1 : 0, reason: null, error: null },
                  { scorerId: 'broken', score: null, reason: null, error: 'threw' },
                ],
              })
            : outcome(it.id, 'failed', { latencyMs: 100 }),
        ),
      );
      const s = await storage.summarizeRun(runId);
      expect(s).toMatchObject({ total: 20, succeeded: 18, failed: 2, skipped: 0 });
      expect(s.scorers).toEqual([
        { scorerId: 'broken', mean: null, passRate: null, count: 0, errors: 18 },
        { scorerId: 'half', mean: 0.5, passRate: 0.5, count: 18, errors: 0 },
      ]);
      expect(s.latencyMs.p50).toBe(10);
      expect(s.latencyMs.p95).toBe(100);
    });

    it('pages datasets and runs newest first', async () => {
      const ds = await storage.createDataset({ name: 'runs-list' });
      const { version } = await storage.addItems(ds.id, [{ input: 1 }]);
      const ids = [await newRun(ds.id, version), await newRun(ds.id, version), await newRun(ds.id, version)];
      const page0 = await storage.listRuns(ds.id, { page: 0, perPage: 2 });
      expect(page0.rows.map((r) => r.id)).toEqual([ids[2], ids[1]]);
      expect(page0.pagination).toEqual({ total: 3, page: 0, perPage: 2, hasMore: true });
      const page1 = await storage.listRuns(ds.id, { page: 1, perPage: 2 });
      expect(page1.rows.map((r) => r.id)).toEqual([ids[0]]);
      expect(await storage.countActiveRuns(ds.id)).toBe(3);
    });

    it('deletes a dataset with its items, runs and results', async () => {
      const ds = await storage.createDataset({ name: 'doomed' });
      const { version } = await storage.addItems(ds.id, [{ input: 1 }]);
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      await storage.deleteDataset(ds.id);
      expect(await storage.getDataset(ds.id)).toBeUndefined();
      expect(await storage.getRun(runId)).toBeUndefined();
      await expect(storage.deleteDataset(ds.id)).rejects.toMatchObject({ status: 404 });
    });
  });
}
