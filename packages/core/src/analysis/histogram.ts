import type { ScorerStats } from '../ports/analysis.js';
import { type MeanSums, meanInterval } from '../stats/mean.js';
import { wilson } from '../stats/proportion.js';
import { passRate } from './summary.js';

/**
 * Score histograms over [0, 1] as pure functions: a store counts each bin with one conditional
 * sum per bin over the bounds below (one pass over the scores, no scores in memory).
 */

/**
 * The bounds of `bins` equal bins over [0, 1]: bin i holds scores in [lo, hi). The first bin has
 * no lower bound (scores below 0 land there) and the last no upper bound (1 and above).
 *
 * @example histogramBins(2) // [{ lo: null, hi: 0.5 }, { lo: 0.5, hi: null }]
 */
export function histogramBins(bins: number): { lo: number | null; hi: number | null }[] {
  return Array.from({ length: bins }, (_, i) => ({
    lo: i === 0 ? null : i / bins,
    hi: i === bins - 1 ? null : (i + 1) / bins,
  }));
}

/** The bin of one score under {@link histogramBins} (the same bounds, the same comparisons). */
export function binOf(score: number, bins: number): number {
  const i = histogramBins(bins).findIndex((b) => (b.lo === null || score >= b.lo) && (b.hi === null || score < b.hi));
  return i < 0 ? bins - 1 : i;
}

/** What a store reads for one scorer's card: aggregates and the count of each bin. */
export interface ScorerStatsAggregate {
  scorerId: string;
  count: number;
  mean: number | null;
  passed: number;
  errors: number;
  /** Scores per bin of {@link histogramBins}. */
  binCounts: number[];
  /**
   * Sums over the items with a score, each item's mean over its repetitions one value, and how
   * many of those pass: the intervals' input. Absent: no intervals.
   */
  items?: MeanSums & { passed: number };
}

/** One scorer's card from its aggregates. */
export function scorerStats(a: ScorerStatsAggregate): ScorerStats {
  return {
    scorerId: a.scorerId,
    count: a.count,
    mean: a.mean,
    passRate: passRate(a.passed, a.count),
    errors: a.errors,
    histogram: a.binCounts,
    items: a.items?.n ?? 0,
    meanInterval: a.items ? meanInterval(a.items) : null,
    passInterval: a.items ? wilson(a.items.passed, a.items.n) : null,
  };
}
