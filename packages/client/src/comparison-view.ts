import type { Comparison, RunItemStatus } from '@assay/contract';
import type { Run } from './types.js';

/**
 * {@link AssayClient.compareRuns}: the server's {@link Comparison} seen from a CI job, run A as
 * the baseline and B as the candidate (the shape the CLI's reports print). Built from the
 * comparison by {@link comparisonView}, so its numbers are the server's.
 */
export interface RunComparison {
  baseline: Run;
  candidate: Run;
  scorers: {
    scorerId: string;
    /** Mean score in each run; null when the run has no score for this scorer. */
    baseline: number | null;
    candidate: number | null;
    /** candidate − baseline; null unless both are known. */
    delta: number | null;
    baselinePassRate: number | null;
    candidatePassRate: number | null;
  }[];
  items: {
    matched: number;
    regressed: number;
    improved: number;
    unchanged: number;
    onlyInBaseline: number;
    onlyInCandidate: number;
  };
  /** The items that regressed most, largest drop first; at most the `maxItems` asked for. */
  regressions: ItemChange[];
  /** The items that improved most, largest gain first. */
  improvements: ItemChange[];
}

export interface ItemChange {
  itemId: string;
  repetition: number;
  status: { baseline: RunItemStatus; candidate: RunItemStatus };
  /** Every compared scorer whose score differs (a missing score counts as a change). */
  scores: { scorerId: string; baseline: number | null; candidate: number | null; delta: number | null }[];
}

/** The CI view of a comparison: A renamed baseline, B candidate; the changed items split by kind. */
export function comparisonView(c: Comparison, maxItems = Number.POSITIVE_INFINITY): RunComparison {
  const change = (i: Comparison['items'][number]): ItemChange => ({
    itemId: i.itemId,
    repetition: i.repetition,
    status: { baseline: i.a.status, candidate: i.b.status },
    scores: i.scores
      .filter((s) => s.a !== s.b)
      .map((s) => ({ scorerId: s.scorerId, baseline: s.a, candidate: s.b, delta: s.delta })),
  });
  return {
    baseline: c.runA,
    candidate: c.runB,
    scorers: c.scorers.map((s) => ({
      scorerId: s.scorerId,
      baseline: s.a.mean,
      candidate: s.b.mean,
      delta: s.delta,
      baselinePassRate: s.a.passRate,
      candidatePassRate: s.b.passRate,
    })),
    items: {
      matched: c.counts.matched,
      regressed: c.counts.regressed,
      improved: c.counts.improved,
      unchanged: c.counts.unchanged,
      onlyInBaseline: c.counts.onlyInA,
      onlyInCandidate: c.counts.onlyInB,
    },
    regressions: c.items
      .filter((i) => i.change === 'regression')
      .slice(0, maxItems)
      .map(change),
    improvements: c.items
      .filter((i) => i.change === 'improvement')
      .slice(0, maxItems)
      .map(change),
  };
}
