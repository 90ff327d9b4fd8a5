import { DEFAULT_LIST_BOUNDS, isTruncated, type ListBounds, RUN_DEFAULTS, type Storage } from '@assay/core';
import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters.js';
import { createPendingRun } from './runs.js';

/**
 * Bounded list pages, on every adapter: large stored values come back as `$truncated` markers cut
 * in SQL, the budget of a page cuts its largest values first, and the single routes stay whole.
 */
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
const json = (v: unknown) => JSON.stringify(v);

for (const adapter of ADAPTERS) {
  const describeAdapter = adapter.requires ? describeWithService(await adapter.requires()) : describe;
  describeAdapter(`Bounded lists: ${adapter.name}`, () => {
    let storage: Storage;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ storage, cleanup } = await adapter.open());
    });
    afterAll(async () => {
      await storage.close();
      await cleanup();
    });

    const bounds: ListBounds = { budgetBytes: 100_000, maxFieldBytes: 150_000, previewChars: 40 };

    it('cuts a value over maxFieldBytes to a marker with its byte size and the start of its JSON', async () => {
      const ds = await storage.createDataset({ name: 'big' });
      const big = { text: 'é'.repeat(100_000) }; // 2 bytes per character: sizes are bytes
      const { items } = await storage.addItems(ds.id, [
        { input: 'small', groundTruth: 'gt', externalId: 'a' },
        { input: big, groundTruth: 'gt', metadata: { tag: 'x' }, externalId: 'b' },
      ]);
      const page = await storage.listItems(ds.id, { page: 0, perPage: 10, bounds });
      const [a, b] = page.rows;
      expect(a).toMatchObject({ id: items[0].id, input: 'small', groundTruth: 'gt', metadata: null, externalId: 'a' });
      expect(b).toMatchObject({ id: items[1].id, groundTruth: 'gt', metadata: { tag: 'x' }, externalId: 'b' });
      expect(b.input).toEqual({ $truncated: true, bytes: bytes(big), preview: json(big).slice(0, 40) });
      expect(isTruncated(b.input)).toBe(true);
      // The single item, and a list without bounds, have it whole.
      expect((await storage.getItem(ds.id, items[1].id))!.input).toEqual(big);
      expect((await storage.listItems(ds.id, { page: 0, perPage: 10 })).rows[1].input).toEqual(big);
    });

    it('keeps a page within its budget by cutting its largest values first', async () => {
      const ds = await storage.createDataset({ name: 'budget' });
      const sizes = [10_000, 20_000, 30_000, 40_000, 50_000];
      await storage.addItems(
        ds.id,
        sizes.map((n, i) => ({ input: 'x'.repeat(n), externalId: `e${i}` })),
      );
      const page = await storage.listItems(ds.id, { page: 0, perPage: 10, search: undefined, bounds });
      const byExt = new Map(page.rows.map((r) => [r.externalId, r.input]));
      // 10k + 20k + 30k fit 100k; 40k would not: the two largest are cut.
      expect(byExt.get('e0')).toBe('x'.repeat(10_000));
      expect(byExt.get('e2')).toBe('x'.repeat(30_000));
      expect(byExt.get('e3')).toMatchObject({ $truncated: true, bytes: 40_002 });
      expect(byExt.get('e4')).toMatchObject({ $truncated: true, bytes: 50_002 });
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(bounds.budgetBytes + 1_000);
      // One at a time, each fits.
      const single = await storage.listItems(ds.id, { page: 4, perPage: 1, bounds });
      expect(single.rows[0].input).toBe('x'.repeat(50_000));
    });

    it('a page of many large items stays small (24 items of 1 MiB, default bounds)', async () => {
      const ds = await storage.createDataset({ name: 'many' });
      const mb = 'y'.repeat(1024 * 1024);
      for (let i = 0; i < 24; i += 6) {
        await storage.addItems(
          ds.id,
          Array.from({ length: 6 }, () => ({ input: mb })),
        );
      }
      const page = await storage.listItems(ds.id, { page: 0, perPage: 1000, bounds: DEFAULT_LIST_BOUNDS });
      expect(page.rows).toHaveLength(24);
      expect(page.rows.every((r) => isTruncated(r.input))).toBe(true);
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(64 * 1024);
    });

    it('cuts dataset metadata and run metadata and errors in their lists', async () => {
      const meta = { blob: 'm'.repeat(200_000) };
      const ds = await storage.createDataset({ name: 'meta', metadata: meta });
      const listed = (await storage.listDatasets({ page: 0, perPage: 1000, bounds })).rows.find((d) => d.id === ds.id)!;
      expect(listed.metadata).toMatchObject({ $truncated: true, bytes: bytes(meta) });
      expect(listed.name).toBe('meta');
      expect((await storage.getDataset(ds.id))!.metadata).toEqual(meta);

      const runId = await createPendingRun(storage, ds.id, 0, { name: 'r', scorerIds: [], metadata: meta });
      await storage.updateRun(runId, { status: 'failed', error: 'E'.repeat(200_000) });
      const [run] = (await storage.listRuns(ds.id, { page: 0, perPage: 10, bounds })).rows;
      expect(run).toMatchObject({ id: runId, status: 'failed', name: 'r', targetId: 't', options: RUN_DEFAULTS });
      expect(run.metadata).toMatchObject({ $truncated: true, bytes: bytes(meta) });
      expect(run.error).toEqual({ $truncated: true, bytes: 200_000, preview: 'E'.repeat(40) });
      expect((await storage.getRun(runId))!.error).toBe('E'.repeat(200_000));
    });

    it('cuts result outputs, error messages and score reasons; getResult has them whole', async () => {
      const ds = await storage.createDataset({ name: 'results' });
      const { items, version } = await storage.addItems(ds.id, [{ input: 'in-0' }, { input: 'in-1' }]);
      const runId = await createPendingRun(storage, ds.id, version, { options: { ...RUN_DEFAULTS, repetitions: 2 } });
      let cursor: string | null = '';
      while (cursor !== null) ({ cursor } = await storage.planRunItems(runId, cursor, 10));
      const claimed = await storage.claimWork(runId, 'w', 10, 60_000);
      const output = { answer: 'o'.repeat(200_000) };
      const message = 'm'.repeat(200_000);
      const reason = 'r'.repeat(200_000);
      const at = new Date().toISOString();
      await storage.writeOutcomes(
        runId,
        claimed.map((c) => {
          const big = c.itemId === items[1].id && c.repetition === 1;
          const fails = c.itemId === items[0].id && c.repetition === 1;
          return {
            itemId: c.itemId,
            repetition: c.repetition,
            claimToken: c.claimToken,
            workerId: 'w',
            status: fails ? ('failed' as const) : ('succeeded' as const),
            attempt: 1,
            output: fails ? null : big ? output : 'ok',
            error: fails ? { message, code: 'BIG_ERROR', retryable: true } : null,
            latencyMs: 1,
            usage: null,
            startedAt: at,
            completedAt: at,
            scores: [{ scorerId: 's', score: 1, reason: big ? reason : 'fine', error: null }],
          };
        }),
      );
      const page = await storage.listResults(runId, { page: 0, perPage: 10, bounds });
      const get = (itemId: string, repetition: number) =>
        page.rows.find((r) => r.itemId === itemId && r.repetition === repetition)!;
      expect(get(items[0].id, 0)).toMatchObject({ input: 'in-0', output: 'ok', error: null });
      expect(get(items[0].id, 0).scores).toEqual([{ scorerId: 's', score: 1, reason: 'fine', error: null }]);
      const failed = get(items[0].id, 1);
      expect(failed.status).toBe('failed');
      expect(failed.error).toEqual({
        message: { $truncated: true, bytes: 200_000, preview: 'm'.repeat(40) },
        code: 'BIG_ERROR',
        retryable: true,
      });
      const big = get(items[1].id, 1);
      expect(big.input).toBe('in-1');
      expect(big.output).toEqual({ $truncated: true, bytes: bytes(output), preview: json(output).slice(0, 40) });
      expect(big.scores[0].reason).toEqual({ $truncated: true, bytes: 200_000, preview: 'r'.repeat(40) });
      // Sorting by a score and filtering by status still work with bounds.
      const sorted = await storage.listResults(runId, { page: 0, perPage: 10, sortScorer: 's', order: 'desc', bounds });
      expect(sorted.rows).toHaveLength(4);
      const onlyFailed = await storage.listResults(runId, { page: 0, perPage: 10, status: 'failed', bounds });
      expect(onlyFailed.rows.map((r) => r.error?.code)).toEqual(['BIG_ERROR']);
      expect(onlyFailed.pagination.total).toBe(1);

      // The single result, whole.
      const whole = (await storage.getResult(runId, items[1].id, 1))!;
      expect(whole).toMatchObject({ itemId: items[1].id, repetition: 1, status: 'succeeded', input: 'in-1', output });
      expect(whole.scores).toEqual([{ scorerId: 's', score: 1, reason, error: null }]);
      expect((await storage.getResult(runId, items[0].id, 1))!.error).toEqual({
        message,
        code: 'BIG_ERROR',
        retryable: true,
      });
      expect(await storage.getResult(runId, items[1].id, 7)).toBeUndefined();
      expect(await storage.getResult(runId, 'nope', 0)).toBeUndefined();

      // Attempts of one item: bounded the same way, current and archived (after a retry).
      const current = await storage.listAttempts(runId, items[1].id, bounds);
      expect(current.map((a) => [a.repetition, a.current])).toEqual([
        [0, true],
        [1, true],
      ]);
      expect(current[1].output).toMatchObject({ $truncated: true, bytes: bytes(output) });
      expect(current[1].scores[0].reason).toMatchObject({ $truncated: true, bytes: 200_000 });
      expect((await storage.listAttempts(runId, items[1].id))[1].output).toEqual(output);
      await storage.updateRun(runId, { status: 'failed' });
      expect(await storage.transaction((tx) => tx.resetForRetry(runId))).toBe(1);
      const archived = await storage.listAttempts(runId, items[0].id, bounds);
      const old = archived.find((a) => !a.current && a.repetition === 1)!;
      expect(old.status).toBe('failed');
      expect(old.error).toEqual({
        message: { $truncated: true, bytes: 200_000, preview: 'm'.repeat(40) },
        code: 'BIG_ERROR',
        retryable: true,
      });
      expect(archived.find((a) => a.current && a.repetition === 1)!.status).toBe('queued');
      const full = (await storage.listAttempts(runId, items[0].id)).find((a) => !a.current && a.repetition === 1)!;
      expect(full.error?.message).toBe(message);
    });
  });
}
