import type { RunSummary, ScorerSummary } from '../types.js';

/**
 * Run summary statistics as pure functions. A store reads aggregates (counts, sums, means) and a
 * few values at given ranks ({@link medianWindow}, {@link nearestRankIndex}) with indexed,
 * ordered reads; these functions turn them into the {@link RunSummary}. Nothing here needs a whole
 * run in memory, so the same math serves a 10-item run and a 1,000,000-item one.
 */

/** What a store reads for one scorer of a run. */
export interface ScorerAggregate {
  scorerId: string;
  /** Scores with a value. */
  count: number;
  /** Mean of the scores with a value; null when there are none. */
  mean: number | null;
  /** Scores at or above the run's pass threshold. */
  passed: number;
  /** Scores whose scorer failed (an error was recorded). */
  errors: number;
  /** The middle score(s), read at {@link medianWindow}(count) of the scores in ascending order. */
  middle: number[];
  /** The mean score of each repetition, in repetition order (null: no score in that repetition). */
  repetitionMeans: (number | null)[];
  /** Sums of what the scorer reported spending (a judge); null where no score reported that measure. */
  usage?: { inputTokens: number | null; outputTokens: number | null; costUsd: number | null };
}

/** Everything {@link buildRunSummary} needs, as a store reads it. */
export interface SummaryAggregates {
  /** Run-item rows per status (statuses without rows may be left out). */
  statusCounts: { status: string; count: number }[];
  /** The threshold pass rates are counted at. */
  passThreshold: number;
  /** One entry per scorer, in the order the summary lists them (scorer id). */
  scorers: ScorerAggregate[];
  latency: {
    /** Items with a latency. */
    count: number;
    mean: number | null;
    max: number | null;
    /** The latencies at {@link nearestRankIndex}(0.5, count) and (0.95, count), ascending. */
    p50: number | null;
    p95: number | null;
  };
  usage: {
    /** Items that reported any usage (tokens or cost). */
    items: number;
    /** Sums over those items; null when no item reported that measure. */
    inputTokens: number | null;
    outputTokens: number | null;
    costUsd: number | null;
  };
}

/** The default pass threshold: a score counts as a pass at 0.5 or above. */
export const DEFAULT_PASS_THRESHOLD = 0.5;

/** The pass threshold of a run's options: `passThreshold`, else {@link DEFAULT_PASS_THRESHOLD}. */
export function passThresholdOf(options: { passThreshold?: number } | null | undefined): number {
  return options?.passThreshold ?? DEFAULT_PASS_THRESHOLD;
}

/**
 * Where the median of `n` ascending values sits: one value in the middle for odd `n`, the two
 * middle ones (to average) for even `n`; null when there are none.
 *
 * @example medianWindow(5) // { offset: 2, limit: 1 }
 */
export function medianWindow(n: number): { offset: number; limit: 1 | 2 } | null {
  if (n <= 0) return null;
  return { offset: Math.floor((n - 1) / 2), limit: n % 2 ? 1 : 2 };
}

/** The median from the values at {@link medianWindow}: their mean; null when there are none. */
export function medianOf(middle: number[]): number | null {
  return middle.length ? middle.reduce((a, b) => a + b, 0) / middle.length : null;
}

/**
 * The 0-based rank of the `p` percentile among `n` ascending values, by nearest rank (the
 * smallest value with at least `p` of the values at or below it); null when there are none.
 *
 * @example nearestRankIndex(0.95, 20) // 18: the 19th value
 */
export function nearestRankIndex(p: number, n: number): number | null {
  if (n <= 0) return null;
  return Math.max(0, Math.ceil(p * n) - 1);
}

/** Share of `passed` among `count` scores; null when there are none. */
export function passRate(passed: number, count: number): number | null {
  return count > 0 ? passed / count : null;
}

/**
 * How the mean score varies across repetitions: the per-repetition means, their (population)
 * standard deviation, min and max over the repetitions with a score. Undefined for a single
 * repetition.
 */
export function repetitionSpread(means: (number | null)[]): ScorerSummary['repetitions'] {
  if (means.length < 2) return undefined;
  const xs = means.filter((m): m is number => m !== null);
  const avg = xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  return {
    means,
    stddev: xs.length ? Math.sqrt(xs.reduce((a, b) => a + (b - avg) ** 2, 0) / xs.length) : null,
    min: xs.length ? Math.min(...xs) : null,
    max: xs.length ? Math.max(...xs) : null,
  };
}

/** Usage totals and per-item means over the items that reported usage; null when none did. */
export function usageSummary(u: SummaryAggregates['usage']): RunSummary['usage'] {
  if (!u.items) return null;
  const inputTokens = u.inputTokens ?? 0;
  const outputTokens = u.outputTokens ?? 0;
  const costUsd = u.costUsd ?? 0;
  return {
    items: u.items,
    inputTokens,
    outputTokens,
    costUsd,
    meanInputTokens: inputTokens / u.items,
    meanOutputTokens: outputTokens / u.items,
    meanCostUsd: costUsd / u.items,
  };
}

/** One scorer's line of the summary. */
export function scorerSummary(s: ScorerAggregate): ScorerSummary {
  const repetitions = repetitionSpread(s.repetitionMeans);
  return {
    scorerId: s.scorerId,
    mean: s.mean,
    median: medianOf(s.middle),
    passRate: passRate(s.passed, s.count),
    count: s.count,
    errors: s.errors,
    ...(repetitions ? { repetitions } : {}),
    ...judgeUsage(s.usage),
  };
}

/** A scorer summary's `usage`, when any of its scores reported one. */
function judgeUsage(u: ScorerAggregate['usage']): { usage?: NonNullable<ScorerSummary['usage']> } {
  if (!u || (u.inputTokens === null && u.outputTokens === null && u.costUsd === null)) return {};
  return { usage: { ...u } };
}

/** The run summary from a store's aggregates. */
export function buildRunSummary(a: SummaryAggregates): RunSummary {
  const count = (status: string) => a.statusCounts.find((r) => r.status === status)?.count ?? 0;
  return {
    total: a.statusCounts.reduce((sum, r) => sum + r.count, 0),
    succeeded: count('succeeded'),
    failed: count('failed'),
    skipped: count('skipped'),
    cancelled: count('cancelled'),
    scorers: a.scorers.map(scorerSummary),
    passThreshold: a.passThreshold,
    latencyMs: { p50: a.latency.p50, p95: a.latency.p95, max: a.latency.max, mean: a.latency.mean },
    usage: usageSummary(a.usage),
  };
}
