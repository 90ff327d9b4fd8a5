import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binOf,
  buildRunSummary,
  histogramBins,
  medianOf,
  medianWindow,
  nearestRankIndex,
  passRate,
  passThresholdOf,
  repetitionSpread,
  type SummaryAggregates,
  scorerStats,
  usageSummary,
} from '../src/analysis/index.js';
import { meanInterval, wilson } from '../src/stats/index.js';

/** What a store reads at a window of ascending values. */
const at = (sorted: number[], w: { offset: number; limit: number } | null) =>
  w ? sorted.slice(w.offset, w.offset + w.limit) : [];
const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('analysis: median and percentiles from values at ranks', () => {
  it('the median is the middle value, or the mean of the two middle ones', () => {
    expect(medianWindow(0)).toBeNull();
    expect(medianWindow(1)).toEqual({ offset: 0, limit: 1 });
    expect(medianWindow(4)).toEqual({ offset: 1, limit: 2 });
    expect(medianWindow(5)).toEqual({ offset: 2, limit: 1 });
    expect(medianOf([])).toBeNull();
    expect(medianOf(at([0, 0.2, 0.6, 1], medianWindow(4)))).toBeCloseTo(0.4, 12);
    expect(medianOf(at(ascending([0.1, 0.9, 0.8, 0.3, 0.79]), medianWindow(5)))).toBe(0.79);
  });

  it('matches the median of the whole list, for any list', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 200 }), (xs) => {
        const s = ascending(xs);
        const n = s.length;
        const reference = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        expect(medianOf(at(s, medianWindow(n)))).toBeCloseTo(reference, 9);
      }),
    );
  });

  it('percentiles by nearest rank: the smallest value with at least p of the values at or below it', () => {
    expect(nearestRankIndex(0.5, 0)).toBeNull();
    expect(nearestRankIndex(0.5, 1)).toBe(0);
    expect(nearestRankIndex(0.5, 20)).toBe(9);
    expect(nearestRankIndex(0.95, 20)).toBe(18);
    expect(nearestRankIndex(0, 7)).toBe(0);
    expect(nearestRankIndex(1, 7)).toBe(6);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, p) => {
        const i = nearestRankIndex(p, n)!;
        expect(i).toBeGreaterThanOrEqual(0);
        expect(i).toBeLessThan(n);
        // At least p of the values are at ranks ≤ i, and fewer below it.
        expect((i + 1) / n).toBeGreaterThanOrEqual(p - 1e-12);
        if (i > 0) expect(i / n).toBeLessThan(p + 1e-12);
      }),
    );
  });
});

describe('analysis: pass rates, spread, usage', () => {
  it('pass rate is null without scores; the threshold defaults to 0.5', () => {
    expect(passRate(0, 0)).toBeNull();
    expect(passRate(2, 5)).toBe(0.4);
    expect(passThresholdOf(null)).toBe(0.5);
    expect(passThresholdOf({})).toBe(0.5);
    expect(passThresholdOf({ passThreshold: 0.8 })).toBe(0.8);
  });

  it('spread across repetitions: population stddev, min and max over repetitions with a score', () => {
    expect(repetitionSpread([])).toBeUndefined();
    expect(repetitionSpread([0.5])).toBeUndefined();
    expect(repetitionSpread([0.2, 0.6])).toEqual({
      means: [0.2, 0.6],
      stddev: expect.closeTo(0.2, 12),
      min: 0.2,
      max: 0.6,
    });
    expect(repetitionSpread([null, 1, null])).toEqual({ means: [null, 1, null], stddev: 0, min: 1, max: 1 });
    expect(repetitionSpread([null, null])).toEqual({ means: [null, null], stddev: null, min: null, max: null });
  });

  it('usage: totals and per-item means over the items that reported any; null when none did', () => {
    expect(usageSummary({ items: 0, inputTokens: null, outputTokens: null, costUsd: null })).toBeNull();
    expect(usageSummary({ items: 3, inputTokens: 300, outputTokens: 20, costUsd: 1 })).toEqual({
      items: 3,
      inputTokens: 300,
      outputTokens: 20,
      costUsd: 1,
      meanInputTokens: 100,
      meanOutputTokens: 20 / 3,
      meanCostUsd: 1 / 3,
    });
    // A measure no item reported counts as 0.
    expect(usageSummary({ items: 2, inputTokens: null, outputTokens: null, costUsd: 0.5 })).toMatchObject({
      inputTokens: 0,
      meanInputTokens: 0,
      meanCostUsd: 0.25,
    });
  });
});

describe('analysis: the run summary from aggregates', () => {
  const aggregates: SummaryAggregates = {
    statusCounts: [
      { status: 'failed', count: 2 },
      { status: 'succeeded', count: 18 },
    ],
    passThreshold: 0.5,
    scorers: [
      { scorerId: 'broken', count: 0, mean: null, passed: 0, errors: 18, middle: [], repetitionMeans: [null] },
      { scorerId: 'half', count: 18, mean: 0.5, passed: 9, errors: 0, middle: [0, 1], repetitionMeans: [0.5] },
    ],
    latency: { count: 20, mean: 24.55, max: 100, p50: 10, p95: 100 },
    usage: { items: 0, inputTokens: null, outputTokens: null, costUsd: null },
  };

  it('counts, scorers in order, latency and usage', () => {
    expect(buildRunSummary(aggregates)).toEqual({
      total: 20,
      succeeded: 18,
      failed: 2,
      skipped: 0,
      cancelled: 0,
      scorers: [
        { scorerId: 'broken', mean: null, median: null, passRate: null, count: 0, errors: 18 },
        { scorerId: 'half', mean: 0.5, median: 0.5, passRate: 0.5, count: 18, errors: 0 },
      ],
      passThreshold: 0.5,
      latencyMs: { p50: 10, p95: 100, max: 100, mean: 24.55 },
      usage: null,
    });
  });

  it('adds the spread of a scorer run with repetitions', () => {
    const s = buildRunSummary({
      ...aggregates,
      scorers: [
        { scorerId: 'q', count: 4, mean: 0.5, passed: 2, errors: 0, middle: [0.5], repetitionMeans: [0.25, 0.75] },
      ],
    });
    expect(s.scorers[0].repetitions).toEqual({ means: [0.25, 0.75], stddev: 0.25, min: 0.25, max: 0.75 });
  });

  it('an empty run: zero counts, null statistics', () => {
    expect(
      buildRunSummary({
        statusCounts: [],
        passThreshold: 0.8,
        scorers: [],
        latency: { count: 0, mean: null, max: null, p50: null, p95: null },
        usage: { items: 0, inputTokens: null, outputTokens: null, costUsd: null },
      }),
    ).toEqual({
      total: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      scorers: [],
      passThreshold: 0.8,
      latencyMs: { p50: null, p95: null, max: null, mean: null },
      usage: null,
    });
  });
});

describe('analysis: histograms', () => {
  it('equal bins over [0, 1], open at both ends', () => {
    expect(histogramBins(1)).toEqual([{ lo: null, hi: null }]);
    expect(histogramBins(4)).toEqual([
      { lo: null, hi: 0.25 },
      { lo: 0.25, hi: 0.5 },
      { lo: 0.5, hi: 0.75 },
      { lo: 0.75, hi: null },
    ]);
    expect([-1, 0, 0.24, 0.25, 0.5, 0.99, 1, 7].map((s) => binOf(s, 4))).toEqual([0, 0, 0, 1, 2, 3, 3, 3]);
  });

  it('every score lands in exactly one bin, in bin order', () => {
    fc.assert(
      fc.property(fc.double({ min: -2, max: 3, noNaN: true }), fc.integer({ min: 1, max: 100 }), (score, bins) => {
        const holding = histogramBins(bins).filter(
          (b) => (b.lo === null || score >= b.lo) && (b.hi === null || score < b.hi),
        );
        expect(holding).toHaveLength(1);
        const i = binOf(score, bins);
        expect(histogramBins(bins)[i]).toEqual(holding[0]);
        if (score >= 0 && score < 1) expect(Math.abs(i - Math.floor(score * bins))).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('a scorer card from its aggregates', () => {
    expect(scorerStats({ scorerId: 'q', count: 5, mean: 0.578, passed: 2, errors: 1, binCounts: [2, 3] })).toEqual({
      scorerId: 'q',
      count: 5,
      mean: 0.578,
      passRate: 0.4,
      errors: 1,
      histogram: [2, 3],
      items: 0,
      meanInterval: null,
      passInterval: null,
    });
    // With the per-item sums: the intervals of the mean (t) and of the items' pass rate (Wilson).
    const withItems = scorerStats({
      scorerId: 'q',
      count: 4,
      mean: 0.5,
      passed: 2,
      errors: 0,
      binCounts: [2, 2],
      items: { n: 4, sum: 2, sumSquares: 1.5, binary: false, passed: 2 },
    });
    expect(withItems.items).toBe(4);
    expect(withItems.passInterval).toEqual(wilson(2, 4));
    expect(withItems.meanInterval).toEqual(meanInterval({ n: 4, sum: 2, sumSquares: 1.5, binary: false }));
    expect(
      scorerStats({ scorerId: 'e', count: 0, mean: null, passed: 0, errors: 3, binCounts: [0] }).passRate,
    ).toBeNull();
  });
});
