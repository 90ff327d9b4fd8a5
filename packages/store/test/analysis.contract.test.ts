import { buildRunSummary, meanInterval, medianWindow, nearestRankIndex, wilson } from '@assay/core';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { SqlStorage, sqliteAdapter } from '../src/index.js';
import { postgresAdapter } from '../src/postgres.js';
import { describeStorage } from './contract.js';

const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** Equal, up to floating-point rounding (SQL's avg sums in another order). */
const near = (got: number | null, want: number | null) =>
  got === null || want === null ? expect(got).toBe(want) : expect(got).toBeCloseTo(want, 9);

/** The analysis port (summary, score cards, result keys) on every adapter. */
await describeStorage('Analysis', (f) => {
  it('summarizes counts, scorer means and pass rates, and latency percentiles from stored rows', async () => {
    const ds = await f.storage.createDataset({ name: 'summary' });
    const { items, version } = await f.storage.addItems(
      ds.id,
      Array.from({ length: 20 }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, version);
    await f.planAll(runId);
    await f.claimAll(runId);
    await f.storage.writeOutcomes(
      runId,
      items.map((it, i) =>
        i < 18
          ? f.outcome(it.id, 'succeeded', {
              latencyMs: i + 1,
              scores: [
                { scorerId: 'half', score: i % 2 ? 1 : 0, reason: null, error: null },
                { scorerId: 'broken', score: null, reason: null, error: 'threw' },
              ],
            })
          : f.outcome(it.id, 'failed', { latencyMs: 100 }),
      ),
    );
    const s = await f.storage.summarizeRun(runId);
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
    const ds = await f.storage.createDataset({ name: 'usage', scorerIds: ['a', 'b'] });
    expect(ds.scorerIds).toEqual(['a', 'b']);
    expect((await f.storage.updateDataset(ds.id, { scorerIds: ['c'] }))?.scorerIds).toEqual(['c']);
    const { items, version } = await f.storage.addItems(
      ds.id,
      Array.from({ length: 5 }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, version, 1, 0.8);
    await f.planAll(runId);
    await f.claimAll(runId);
    const scores = [0.1, 0.9, 0.8, 0.3, 0.79];
    await f.storage.writeOutcomes(
      runId,
      items.map((it, i) =>
        f.outcome(it.id, 'succeeded', {
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
    const s = await f.storage.summarizeRun(runId);
    expect(s.passThreshold).toBe(0.8);
    expect(s.scorers[0]).toMatchObject({ scorerId: 'q', median: 0.79, passRate: 2 / 5, count: 5 });
    expect(s.scorers[0].mean).toBeCloseTo(2.89 / 5, 10);
    expect(s.latencyMs.max).toBe(50);
    // The run page's cards count passes at the same threshold.
    expect((await f.storage.scoreStats(runId, 2, 0.8))[0]).toMatchObject({ passRate: 2 / 5, histogram: [2, 3] });
    expect((await f.storage.scoreStats(runId, 2))[0]).toMatchObject({ passRate: 3 / 5 });
    expect(s.usage).toEqual({
      items: 3,
      inputTokens: 300,
      outputTokens: 20,
      costUsd: 1,
      meanInputTokens: 100,
      meanOutputTokens: 20 / 3,
      meanCostUsd: 1 / 3,
    });
    const page = await f.storage.listResults(runId, { page: 0, perPage: 10 });
    const byInput = new Map(page.rows.map((r) => [r.input, r.usage]));
    expect(byInput.get(0)).toEqual({ inputTokens: 100, outputTokens: 10, costUsd: 0.25 });
    expect(byInput.get(3)).toBeNull();
    // An even count takes the mean of the two middle scores.
    const runId2 = await f.newRun(ds.id, version);
    await f.planAll(runId2);
    await f.claimAll(runId2);
    await f.storage.writeOutcomes(
      runId2,
      items.slice(0, 4).map((it, i) =>
        f.outcome(it.id, 'succeeded', {
          scores: [{ scorerId: 'q', score: [0, 0.2, 0.6, 1][i], reason: null, error: null }],
        }),
      ),
    );
    expect((await f.storage.summarizeRun(runId2)).scorers[0].median).toBeCloseTo(0.4, 10);
  });

  it('pages result keys (status and scores, no payloads) by item and repetition', async () => {
    const ds = await f.storage.createDataset({ name: 'keys' });
    const { items, version } = await f.storage.addItems(
      ds.id,
      Array.from({ length: 5 }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, version, 2);
    await f.planAll(runId);
    const claimed = await f.claimAll(runId);
    await f.storage.writeOutcomes(
      runId,
      claimed
        .filter((c) => c.repetition === 0)
        .map((c) => ({
          ...f.outcome(c.itemId, 'succeeded'),
          scores: [
            { scorerId: 'b', score: 0.5, reason: null, error: null },
            { scorerId: 'a', score: null, reason: null, error: 'threw' },
          ],
        })),
    );
    const keys: Awaited<ReturnType<typeof f.storage.listResultKeys>> = [];
    let after: { itemId: string; repetition: number } | null = null;
    for (;;) {
      const page = await f.storage.listResultKeys(runId, after, 3);
      if (!page.length) break;
      keys.push(...page);
      after = page[page.length - 1];
    }
    const ids = items.map((i) => i.id).sort();
    expect(keys.map((k) => [k.itemId, k.repetition])).toEqual(
      ids.flatMap((id) => [
        [id, 0],
        [id, 1],
      ]),
    );
    expect(keys[0]).toEqual({
      itemId: ids[0],
      repetition: 0,
      status: 'succeeded',
      scores: [
        { scorerId: 'a', score: null },
        { scorerId: 'b', score: 0.5 },
      ],
    });
    expect(keys[1]).toEqual({ itemId: ids[0], repetition: 1, status: 'running', scores: [] });
    // Score cards: the errored scorer has no values, one error per result.
    expect(await f.storage.scoreStats(runId, 4)).toEqual([
      {
        scorerId: 'a',
        count: 0,
        mean: null,
        passRate: null,
        errors: 5,
        histogram: [0, 0, 0, 0],
        items: 0,
        meanInterval: null,
        passInterval: null,
      },
      {
        scorerId: 'b',
        count: 5,
        mean: 0.5,
        passRate: 1,
        errors: 0,
        histogram: [0, 0, 5, 0],
        items: 5,
        meanInterval: { lower: 0.5, upper: 0.5, method: 't' },
        passInterval: wilson(5, 5),
      },
    ]);
  });

  it('score cards: intervals over items, each item the mean of its repetitions (Wilson for 0/1, else t)', async () => {
    const ds = await f.storage.createDataset({ name: 'intervals' });
    const { items, version } = await f.storage.addItems(
      ds.id,
      Array.from({ length: 4 }, (_, i) => ({ input: i })),
    );
    const runId = await f.newRun(ds.id, version, 2);
    await f.planAll(runId);
    const claimed = await f.claimAll(runId);
    const index = new Map(items.map((it, i) => [it.id, i]));
    // Item i, repetition r: `graded` = i / 4 + r / 10 (item mean i / 4 + 0.05); `binary` = 1 for items 0 and 1.
    await f.storage.writeOutcomes(
      runId,
      claimed.map((c) => {
        const i = index.get(c.itemId)!;
        return f.outcome(c.itemId, 'succeeded', {
          repetition: c.repetition,
          scores: [
            { scorerId: 'binary', score: i < 2 ? 1 : 0, reason: null, error: null },
            { scorerId: 'graded', score: i / 4 + c.repetition / 10, reason: null, error: null },
          ],
        });
      }),
    );
    const [binary, graded] = await f.storage.scoreStats(runId, 2);
    expect(binary).toMatchObject({ count: 8, items: 4, passInterval: wilson(2, 4) });
    expect(binary!.meanInterval).toEqual({ ...wilson(2, 4)!, method: 'wilson' });
    const means = [0, 1, 2, 3].map((i) => i / 4 + 0.05);
    const ref = meanInterval({
      n: 4,
      sum: means.reduce((a, b) => a + b, 0),
      sumSquares: means.reduce((a, b) => a + b * b, 0),
      binary: false,
    })!;
    expect(graded).toMatchObject({ count: 8, items: 4, passInterval: wilson(2, 4) }); // 0.55 and 0.80 pass
    expect(graded!.meanInterval!.method).toBe('t');
    near(graded!.meanInterval!.lower, ref.lower);
    near(graded!.meanInterval!.upper, ref.upper);
  });

  it('the stored summary equals the statistics of the same values in memory (random runs)', async () => {
    const values = fc.record({
      items: fc.array(
        fc.record({
          failed: fc.boolean(),
          latencyMs: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: null }),
          score: fc.option(
            fc.integer({ min: 0, max: 100 }).map((n) => n / 100),
            { nil: null },
          ),
          tokens: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: null }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      threshold: fc.constantFrom(0.5, 0.8),
    });
    await fc.assert(
      fc.asyncProperty(values, async ({ items, threshold }) => {
        const ds = await f.storage.createDataset({ name: 'random-summary' });
        const added = await f.storage.addItems(
          ds.id,
          items.map((_, i) => ({ input: i })),
        );
        const runId = await f.newRun(ds.id, added.version, 1, threshold);
        await f.planAll(runId);
        await f.claimAll(runId);
        await f.storage.writeOutcomes(
          runId,
          added.items.map((it, i) => {
            const v = items[i];
            return f.outcome(it.id, v.failed ? 'failed' : 'succeeded', {
              latencyMs: v.latencyMs,
              usage: v.tokens === null ? null : { inputTokens: v.tokens, outputTokens: null, costUsd: null },
              scores: [{ scorerId: 'q', score: v.score, reason: null, error: v.score === null ? 'threw' : null }],
            });
          }),
        );
        const scores = ascending(items.flatMap((v) => (v.score === null ? [] : [v.score])));
        const latencies = ascending(items.flatMap((v) => (v.latencyMs === null ? [] : [v.latencyMs])));
        const tokens = items.flatMap((v) => (v.tokens === null ? [] : [v.tokens]));
        const w = medianWindow(scores.length);
        const rank = (p: number) => nearestRankIndex(p, latencies.length);
        const expected = buildRunSummary({
          statusCounts: [
            { status: 'succeeded', count: items.filter((v) => !v.failed).length },
            { status: 'failed', count: items.filter((v) => v.failed).length },
          ],
          passThreshold: threshold,
          scorers: [
            {
              scorerId: 'q',
              count: scores.length,
              mean: scores.length ? sum(scores) / scores.length : null,
              passed: scores.filter((x) => x >= threshold).length,
              errors: items.length - scores.length,
              middle: w ? scores.slice(w.offset, w.offset + w.limit) : [],
              repetitionMeans: [scores.length ? sum(scores) / scores.length : null],
            },
          ],
          latency: {
            count: latencies.length,
            mean: latencies.length ? sum(latencies) / latencies.length : null,
            max: latencies.length ? latencies[latencies.length - 1] : null,
            p50: rank(0.5) === null ? null : latencies[rank(0.5)!],
            p95: rank(0.95) === null ? null : latencies[rank(0.95)!],
          },
          usage: {
            items: tokens.length,
            inputTokens: tokens.length ? sum(tokens) : null,
            outputTokens: null,
            costUsd: null,
          },
        });
        const got = await f.storage.summarizeRun(runId);
        expect({ ...got, scorers: [] }).toEqual({
          ...expected,
          scorers: [],
          latencyMs: { ...expected.latencyMs, mean: got.latencyMs.mean },
        });
        near(got.latencyMs.mean, expected.latencyMs.mean);
        const [g] = got.scorers;
        const [e] = expected.scorers;
        expect({ ...g, mean: 0, median: 0 }).toEqual({ ...e, mean: 0, median: 0 });
        near(g.mean, e.mean);
        near(g.median, e.median);
        // The same run read range by range (3 rows per statement instead of 50,000): the same answers.
        const ranged = new SqlStorage(f.storage.db, f.adapter === 'sqlite' ? sqliteAdapter : postgresAdapter, {
          analysisRangeRows: 3,
        });
        const again = await ranged.summarizeRun(runId);
        expect({ ...again, scorers: [], latencyMs: { ...again.latencyMs, mean: 0 } }).toEqual({
          ...got,
          scorers: [],
          latencyMs: { ...got.latencyMs, mean: 0 },
        });
        near(again.latencyMs.mean, got.latencyMs.mean);
        expect({ ...again.scorers[0], mean: 0 }).toEqual({ ...g, mean: 0 });
        near(again.scorers[0].mean, g.mean);
        const stats = await f.storage.scoreStats(runId, 4, threshold);
        const rangedStats = await ranged.scoreStats(runId, 4, threshold);
        const exact = (x: (typeof stats)[number]) => ({ ...x, mean: 0, meanInterval: x.meanInterval?.method ?? null });
        expect(rangedStats.map(exact)).toEqual(stats.map(exact));
        near(rangedStats[0]?.mean ?? null, stats[0]?.mean ?? null);
        near(rangedStats[0]?.meanInterval?.lower ?? null, stats[0]?.meanInterval?.lower ?? null);
        near(rangedStats[0]?.meanInterval?.upper ?? null, stats[0]?.meanInterval?.upper ?? null);
        await f.storage.updateRun(runId, { status: 'completed' });
        await f.storage.deleteDataset(ds.id);
      }),
      { numRuns: 15 },
    );
  });
});
