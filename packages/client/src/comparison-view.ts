import type { Comparison, RunItemStatus, ScorerComparison, ScorerKind, Verdict } from '@assay/contract';
import type { Run } from './types.js';

/** A 95% confidence interval. */
export interface Bounds {
  lower: number;
  upper: number;
}

/**
 * {@link AssayClient.compareRuns}: the server's {@link Comparison} seen from a CI job, run A as
 * the baseline and B as the candidate (the shape the CLI's reports print). Built from the
 * comparison by {@link comparisonView}, so its numbers are the server's.
 */
export interface RunComparison {
  baseline: Run;
  candidate: Run;
  /** `regressed` when a deciding scorer regressed significantly, `improved` when one improved and none regressed. */
  verdict: Verdict;
  /** The scorers that decide the verdict. */
  decidingScorerIds: string[];
  /** Significance level of the verdicts. */
  alpha: number;
  scorers: {
    scorerId: string;
    /** `latency` and `cost` scorers are reported beside the verdict unless chosen to decide it. */
    kind: ScorerKind;
    deciding: boolean;
    /** Mean score over the shared items, each item's mean over its repetitions; null without scores. */
    baseline: number | null;
    candidate: number | null;
    /** Mean of candidate − baseline over the items both runs scored; null unless there are some. */
    delta: number | null;
    /** 95% confidence interval of `delta`. */
    ci: Bounds | null;
    /** Two-sided p-value of "no difference", and after Holm's correction across the deciding scorers. */
    pValue: number | null;
    pAdjusted: number | null;
    test: ScorerComparison['test'];
    verdict: Verdict;
    /** The smallest change that counts as a regression or improvement. */
    minEffect: number;
    /** Items scored in both runs, and shared items without a score in one or both. */
    paired: number;
    missing: ScorerComparison['missing'];
    baselinePassRate: number | null;
    candidatePassRate: number | null;
    /** 95% Wilson intervals of the pass rates. */
    baselinePassInterval: Bounds | null;
    candidatePassInterval: Bounds | null;
    /** Items that went from pass to fail (`down`) and back (`up`), with their exact McNemar p-value. */
    flips: ScorerComparison['flips'];
    flipsPValue: number;
  }[];
  items: {
    /** Items both runs have (their shared items when the runs pinned two dataset versions). */
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
  /** The item's id in the dataset, if it has one (show it, falling back to `itemId`). */
  externalId: string | null;
  /** The repetition whose outputs the server showed; scores are means over all repetitions. */
  repetition: number;
  /** Total drop (negative) or gain over the deciding scorers. */
  delta: number;
  status: { baseline: RunItemStatus; candidate: RunItemStatus };
  /** Every scorer whose score differs (a missing score counts as a change), deciding ones first. */
  scores: {
    scorerId: string;
    deciding: boolean;
    baseline: number | null;
    candidate: number | null;
    delta: number | null;
  }[];
}

/** The CI view of a comparison: A renamed baseline, B candidate; the changed items split by kind. */
export function comparisonView(c: Comparison, maxItems = Number.POSITIVE_INFINITY): RunComparison {
  const change = (i: Comparison['items'][number]): ItemChange => ({
    itemId: i.itemId,
    externalId: i.externalId,
    repetition: i.repetition,
    delta: i.delta,
    status: { baseline: i.a.status, candidate: i.b.status },
    scores: i.scores.map((s) => ({
      scorerId: s.scorerId,
      deciding: s.deciding,
      baseline: s.a,
      candidate: s.b,
      delta: s.delta,
    })),
  });
  return {
    baseline: c.runA,
    candidate: c.runB,
    verdict: c.verdict,
    decidingScorerIds: c.decidingScorerIds,
    alpha: c.alpha,
    scorers: c.scorers.map((s) => ({
      scorerId: s.scorerId,
      kind: s.kind,
      deciding: s.deciding,
      baseline: s.a.mean,
      candidate: s.b.mean,
      delta: s.delta,
      ci: s.ci,
      pValue: s.pValue,
      pAdjusted: s.pAdjusted,
      test: s.test,
      verdict: s.verdict,
      minEffect: s.minEffect,
      paired: s.paired,
      missing: s.missing,
      baselinePassRate: s.a.passRate,
      candidatePassRate: s.b.passRate,
      baselinePassInterval: s.a.passInterval,
      candidatePassInterval: s.b.passInterval,
      flips: s.flips,
      flipsPValue: s.flipsPValue,
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
