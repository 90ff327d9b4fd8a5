import { type ClaimedItem, type ItemOutcome, newId, RUN_DEFAULTS, type Storage } from '@assay/core';
import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from './adapters.js';

/**
 * The storage contract: every adapter of the Storage port must pass these. An adapter that needs
 * a server runs when the server is reachable (see services.ts); each gets a fresh database.
 */
for (const adapter of ADAPTERS) {
  const describeAdapter = adapter.requires ? describeWithService(await adapter.requires()) : describe;
  describeAdapter(`Storage contract: ${adapter.name}`, () => {
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

    const newRun = async (datasetId: string, version: number, repetitions = 1, passThreshold?: number) => {
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
          options: { ...RUN_DEFAULTS, repetitions, ...(passThreshold === undefined ? {} : { passThreshold }) },
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
    /** Claim tokens of the items claimed last, by `itemId:repetition`. */
    const tokens = new Map<string, number>();
    const claimAll = async (runId: string, workerId = 'w', leaseMs = 60_000) => {
      const all: ClaimedItem[] = [];
      for (;;) {
        const batch = await storage.claimWork(runId, workerId, 7, leaseMs);
        if (!batch.length) return all;
        for (const c of batch) tokens.set(`${c.itemId}:${c.repetition}`, c.claimToken);
        all.push(...batch);
      }
    };
    const outcome = (
      itemId: string,
      status: 'succeeded' | 'failed',
      extra: Partial<ItemOutcome> = {},
    ): ItemOutcome => ({
      itemId,
      claimToken: tokens.get(`${itemId}:${extra.repetition ?? 0}`) ?? -1,
      workerId: 'w',
      repetition: 0,
      status,
      attempt: 1,
      output: status === 'succeeded' ? { ok: itemId } : null,
      error: status === 'failed' ? { message: 'nope', code: 'X', retryable: false } : null,
      latencyMs: 10,
      usage: null,
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
      const work = await claimAll(runId);
      expect(work).toHaveLength(60);
      expect(new Set(work.map((w) => w.input))).toEqual(new Set(Array.from({ length: 30 }, (_, i) => i)));
      expect(work.filter((w) => w.repetition === 1)).toHaveLength(30);
      expect(new Set(work.map((w) => `${w.itemId}:${w.repetition}`)).size).toBe(60);
      expect(await storage.countUnfinished(runId)).toBe(60);
      expect(await storage.claimWork(runId, 'other', 10, 60_000)).toEqual([]); // all held
    });

    it('counts lost claims: every claimed item the first time, then only items started under the lost claim', async () => {
      const ds = await storage.createDataset({ name: 'lost' });
      const { items, version } = await storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      const claim = async (w: string, leaseMs: number) => {
        const got = await storage.claimWork(runId, w, 10, leaseMs);
        expect(got).toHaveLength(3);
        const lost = Object.fromEntries(got.map((c) => [items.findIndex((i) => i.id === c.itemId), c.lostClaims]));
        return { got, lost };
      };
      const expire = () => new Promise((r) => setTimeout(r, 5));
      expect((await claim('A', 1)).lost).toEqual({ 0: 0, 1: 0, 2: 0 });
      await expire();
      expect((await claim('B', 1)).lost).toEqual({ 0: 1, 1: 1, 2: 1 }); // A's claims were lost: all count
      await expire();
      // B's claims expire too, but B started none of them: no item counts again.
      const c = await claim('C', 60_000);
      expect(c.lost).toEqual({ 0: 1, 1: 1, 2: 1 });
      await storage.markStarted(runId, items[0].id, 0, c.got.find((x) => x.itemId === items[0].id)!.claimToken);
      await storage.markStarted(runId, items[1].id, 0, 999); // a stale token marks nothing
      expect(await storage.releaseClaims(runId, 'C', true)).toBe(3); // C died while item 0 ran
      expect((await claim('D', 60_000)).lost).toEqual({ 0: 2, 1: 1, 2: 1 });
      // A graceful hand-back (shutdown) is not a loss.
      expect(await storage.releaseClaims(runId, 'D')).toBe(3);
      expect((await claim('E', 60_000)).lost).toEqual({ 0: 2, 1: 1, 2: 1 });
    });

    it('writes outcomes once, counts each once, and drops outcomes with a stale claim token', async () => {
      const ds = await storage.createDataset({ name: 'fence' });
      const { items, version } = await storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      // Worker A claims everything, then stops renewing: its lease runs out at once.
      const stale = await storage.claimWork(runId, 'A', 10, 1);
      expect(stale).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 5));
      expect(await storage.listClaimOwners(runId)).toEqual(['A']);
      const fresh = await claimAll(runId, 'B');
      expect(fresh.map((c) => c.itemId).sort()).toEqual(items.map((i) => i.id).sort());
      expect(fresh[0].claimToken).toBeGreaterThan(stale[0].claimToken);
      expect(await storage.listClaimOwners(runId)).toEqual(['B']);
      // A's late outcome is dropped: not stored, not counted.
      const late = {
        ...outcome(items[0].id, 'failed'),
        claimToken: stale.find((c) => c.itemId === items[0].id)!.claimToken,
      };
      expect(await storage.writeOutcomes(runId, [late])).toEqual({ succeeded: 0, failed: 0 });
      expect(
        await storage.writeOutcomes(runId, [outcome(items[0].id, 'succeeded'), outcome(items[1].id, 'failed')]),
      ).toEqual({
        succeeded: 1,
        failed: 1,
      });
      // A re-delivered outcome for a finished item changes nothing.
      expect(await storage.writeOutcomes(runId, [outcome(items[0].id, 'failed')])).toEqual({ succeeded: 1, failed: 1 });
      const run = (await storage.getRun(runId))!;
      expect([run.succeededCount, run.failedCount]).toEqual([1, 1]);
      expect(await storage.countUnfinished(runId)).toBe(1);
      // Heartbeat and hand-back of B's remaining claim.
      expect(await storage.extendClaims(runId, 'B', 60_000)).toBe(1);
      expect(await storage.extendClaims(runId, 'A', 60_000)).toBe(0);
      expect(await storage.releaseClaims(runId, 'B')).toBe(1);
      const again = await claimAll(runId, 'C');
      expect(again.map((c) => c.itemId)).toEqual([items[2].id]);
      const results = await storage.listResults(runId, { page: 0, perPage: 10 });
      expect(results.pagination).toEqual({ total: 3, page: 0, perPage: 10, hasMore: false });
      const a = results.rows.find((r) => r.itemId === items[0].id)!;
      expect(a).toMatchObject({ status: 'succeeded', input: 'a', output: { ok: items[0].id }, workerId: 'w' });
      expect(a.scores).toEqual([{ scorerId: 's', score: 1, reason: 'r', error: null }]);
      const failed = await storage.listResults(runId, { page: 0, perPage: 10, status: 'failed' });
      expect(failed.rows.map((r) => r.error?.message)).toEqual(['nope']);
    });

    it('claims by concurrent workers never overlap', async () => {
      const ds = await storage.createDataset({ name: 'claims' });
      const { version } = await storage.addItems(
        ds.id,
        Array.from({ length: 300 }, (_, i) => ({ input: i })),
      );
      const runId = await newRun(ds.id, version);
      await planAll(runId, 50);
      const grab = async (w: string) => {
        const got: string[] = [];
        for (;;) {
          const batch = await storage.claimWork(runId, w, 9, 60_000);
          if (!batch.length) return got;
          got.push(...batch.map((c) => c.itemId));
        }
      };
      const all = (await Promise.all(['w1', 'w2', 'w3', 'w4'].map(grab))).flat();
      expect(all).toHaveLength(300);
      expect(new Set(all).size).toBe(300);
    });

    it('summarizes counts, scorer means and pass rates, and latency percentiles from stored rows', async () => {
      const ds = await storage.createDataset({ name: 'summary' });
      const { items, version } = await storage.addItems(
        ds.id,
        Array.from({ length: 20 }, (_, i) => ({ input: i })),
      );
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      await claimAll(runId);
      await storage.writeOutcomes(
        runId,
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
        { scorerId: 'broken', mean: null, median: null, passRate: null, count: 0, errors: 18 },
        { scorerId: 'half', mean: 0.5, median: 0.5, passRate: 0.5, count: 18, errors: 0 },
      ]);
      expect(s.passThreshold).toBe(0.5);
      expect(s.latencyMs.p50).toBe(10);
      expect(s.latencyMs.p95).toBe(100);
      expect(s.latencyMs.max).toBe(100);
      expect(s.usage).toBeNull();
    });

    it('summary: median, pass rate at the run threshold, usage totals and means; results carry usage', async () => {
      const ds = await storage.createDataset({ name: 'usage', scorerIds: ['a', 'b'] });
      expect(ds.scorerIds).toEqual(['a', 'b']);
      expect((await storage.updateDataset(ds.id, { scorerIds: ['c'] }))?.scorerIds).toEqual(['c']);
      const { items, version } = await storage.addItems(
        ds.id,
        Array.from({ length: 5 }, (_, i) => ({ input: i })),
      );
      const runId = await newRun(ds.id, version, 1, 0.8);
      await planAll(runId);
      await claimAll(runId);
      const scores = [0.1, 0.9, 0.8, 0.3, 0.79];
      await storage.writeOutcomes(
        runId,
        items.map((it, i) =>
          outcome(it.id, 'succeeded', {
            latencyMs: 10 * (i + 1),
            // 3 of 5 items report usage; one reports only a cost
            usage:
              i < 2
                ? { inputTokens: 100 * (i + 1), outputTokens: 10, costUsd: 0.25 }
                : i === 2
                  ? { inputTokens: null, outputTokens: null, costUsd: 0.5 }
                  : null,
            scores: [{ scorerId: 'q', score: scores[i], reason: null, error: null }],
          }),
        ),
      );
      const s = await storage.summarizeRun(runId);
      expect(s.passThreshold).toBe(0.8);
      expect(s.scorers[0]).toMatchObject({ scorerId: 'q', median: 0.79, passRate: 2 / 5, count: 5 });
      expect(s.scorers[0].mean).toBeCloseTo(2.89 / 5, 10);
      expect(s.latencyMs.max).toBe(50);
      // The run page's cards count passes at the same threshold.
      expect((await storage.scoreStats(runId, 2, 0.8))[0]).toMatchObject({ passRate: 2 / 5, histogram: [2, 3] });
      expect((await storage.scoreStats(runId, 2))[0]).toMatchObject({ passRate: 3 / 5 });
      expect(s.usage).toEqual({
        items: 3,
        inputTokens: 300,
        outputTokens: 20,
        costUsd: 1,
        meanInputTokens: 100,
        meanOutputTokens: 20 / 3,
        meanCostUsd: 1 / 3,
      });
      const page = await storage.listResults(runId, { page: 0, perPage: 10 });
      const byInput = new Map(page.rows.map((r) => [r.input, r.usage]));
      expect(byInput.get(0)).toEqual({ inputTokens: 100, outputTokens: 10, costUsd: 0.25 });
      expect(byInput.get(3)).toBeNull();
      // An even count takes the mean of the two middle scores.
      const runId2 = await newRun(ds.id, version);
      await planAll(runId2);
      await claimAll(runId2);
      await storage.writeOutcomes(
        runId2,
        items.slice(0, 4).map((it, i) =>
          outcome(it.id, 'succeeded', {
            scores: [{ scorerId: 'q', score: [0, 0.2, 0.6, 1][i], reason: null, error: null }],
          }),
        ),
      );
      expect((await storage.summarizeRun(runId2)).scorers[0].median).toBeCloseTo(0.4, 10);
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

    it('searches items case-insensitively, taking % and _ literally', async () => {
      const ds = await storage.createDataset({ name: 'search' });
      await storage.addItems(ds.id, [
        { input: 'Hello World', externalId: 'greeting' },
        { input: '100% sure', groundTruth: 'yes' },
        { input: 'a_b' },
        { input: 'axb' },
      ]);
      const search = async (text: string) =>
        (await storage.listItems(ds.id, { page: 0, perPage: 10, search: text })).rows.map((i) => i.input).sort();
      expect(await search('hello')).toEqual(['Hello World']);
      expect(await search('GREET')).toEqual(['Hello World']); // externalId
      expect(await search('0%')).toEqual(['100% sure']);
      expect(await search('a_b')).toEqual(['a_b']);
      // Values are JSON text: JSON's own quotes are not content, and a NUL is a character like any
      // other (PostgreSQL text cannot hold one, so it must never reach the database raw).
      await storage.addItems(ds.id, [{ input: 'she said "hi"' }, { input: 'C:\\temp' }, { input: 'nul\u0000here' }]);
      expect(await search('"')).toEqual(['she said "hi"']);
      expect(await search('C:\\t')).toEqual(['C:\\temp']);
      expect(await search('\u0000')).toEqual(['nul\u0000here']);
      const page = await storage.listItems(ds.id, { page: 0, perPage: 1, search: 'b' });
      expect(page.pagination).toEqual({ total: 2, page: 0, perPage: 1, hasMore: true });
    });

    it('keeps the first outcome of an item sent twice in one batch, with its own scores', async () => {
      const ds = await storage.createDataset({ name: 'dup-batch' });
      const { items, version } = await storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }]);
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      await claimAll(runId);
      const first = outcome(items[0].id, 'succeeded', {
        latencyMs: 12.5,
        scores: [
          { scorerId: 's', score: 0.25, reason: 'first', error: null },
          { scorerId: 's', score: 0.75, reason: 'same scorer again', error: null },
        ],
      });
      const again = outcome(items[0].id, 'failed', {
        scores: [{ scorerId: 't', score: 1, reason: null, error: null }],
      });
      expect(await storage.writeOutcomes(runId, [first, again, outcome(items[1].id, 'failed')])).toEqual({
        succeeded: 1,
        failed: 1,
      });
      const [a] = (await storage.listResults(runId, { page: 0, perPage: 10, status: 'succeeded' })).rows;
      expect(a).toMatchObject({ itemId: items[0].id, latencyMs: 12.5 });
      expect(a.scores).toEqual([{ scorerId: 's', score: 0.75, reason: 'same scorer again', error: null }]);
    });

    it('retries failed items: archives each attempt with its scores and queues the item again', async () => {
      const ds = await storage.createDataset({ name: 'retry' });
      const { items, version } = await storage.addItems(ds.id, [{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
      const runId = await newRun(ds.id, version);
      await planAll(runId);
      await claimAll(runId);
      await storage.writeOutcomes(runId, [
        outcome(items[0].id, 'succeeded'),
        outcome(items[1].id, 'failed', {
          scores: [{ scorerId: 's', score: 0.5, reason: 'half', error: null }],
        }),
      ]);
      expect(await storage.closePendingItems(runId, 'cancelled')).toBe(1);
      expect(await storage.closePendingItems(runId, 'cancelled')).toBe(0);
      expect(await storage.updateRun(runId, { status: 'cancelled' }, ['pending', 'running'])).toBe(true);
      expect(await storage.transaction((tx) => tx.resetForRetry(runId))).toBe(2);
      const run = (await storage.getRun(runId))!;
      expect(run).toMatchObject({ status: 'running', succeededCount: 1, failedCount: 0, skippedCount: 0 });
      const pending = await claimAll(runId);
      expect(pending.map((p) => p.itemId).sort()).toEqual([items[1].id, items[2].id].sort());

      await storage.writeOutcomes(runId, [
        outcome(items[1].id, 'succeeded', { attempt: 2 }),
        outcome(items[2].id, 'succeeded', { attempt: 1, scores: [] }),
      ]);
      const attempts = await storage.listAttempts(runId, items[1].id);
      expect(attempts.map((a) => [a.attempt, a.status, a.current])).toEqual([
        [1, 'failed', false],
        [2, 'succeeded', true],
      ]);
      expect(attempts[0].scores).toEqual([{ scorerId: 's', score: 0.5, reason: 'half', error: null }]);
      expect(attempts[0].error).toMatchObject({ message: 'nope' });
      expect(attempts[1].scores).toEqual([{ scorerId: 's', score: 1, reason: 'r', error: null }]);
      const cancelled = await storage.listAttempts(runId, items[2].id);
      expect(cancelled.map((a) => [a.status, a.scores, a.current])).toEqual([
        ['cancelled', [], false],
        ['succeeded', [], true],
      ]);
      expect(await storage.transaction((tx) => tx.resetForRetry(runId))).toBe(0);
    });

    it('serializes concurrent item batches of one dataset: one version each, externalIds stay unique', async () => {
      // Several rounds: the first one may be serialized by chance (connections still opening).
      for (let round = 0; round < 4; round++) {
        const ds = await storage.createDataset({ name: `concurrent-${round}` });
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) =>
            storage.addItems(ds.id, [{ input: i, externalId: i < 3 ? 'same' : `x${i}` }]),
          ),
        );
        const ok = results.filter((r) => r.status === 'fulfilled');
        const rejected = results.filter((r) => r.status === 'rejected');
        expect(rejected.map((r) => (r.reason as { status?: number }).status)).toEqual([409, 409]);
        expect(ok.map((r) => r.value.version).sort()).toEqual([1, 2, 3, 4]);
        expect(await storage.getDataset(ds.id)).toMatchObject({ version: 4, itemCount: 4 });
        expect((await storage.listVersions(ds.id, { page: 0, perPage: 10 })).pagination.total).toBe(4);
      }
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
