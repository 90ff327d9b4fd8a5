import { z } from 'zod';
import { text } from './common.js';
import { runItemStatusSchema, runSchema } from './runs.js';

/**
 * What a scorer measures. `quality` scorers decide a comparison's verdict by default; `latency`
 * and `cost` ones (a latency budget, a price cap) are reported beside it, since a faster answer
 * is not a better one.
 */
export const scorerKindSchema = z.enum(['quality', 'latency', 'cost']);
export type ScorerKind = z.infer<typeof scorerKindSchema>;

/** One number, or one per scorer id (scorers not named get 0). */
const perScorer = z.union([z.number().min(0).max(1e9), z.record(text(), z.number().min(0).max(1e9))]);

/**
 * `POST /datasets/:id/compare`: run A is the baseline, B the candidate, both runs of the dataset.
 * Items are matched by item id (runs of two dataset versions compare on the items they share);
 * an item run several times counts once, with its mean over the repetitions.
 */
export const compareRunsSchema = z.strictObject({
  runIdA: text().min(1, 'runIdA is required'),
  runIdB: text().min(1, 'runIdB is required'),
  /**
   * The scorers that decide the verdict and rank the changed items. Default: every scorer both runs
   * used, except those the config marks `kind: 'latency'` or `'cost'` (those are still reported).
   */
  scorerIds: z.array(text().min(1)).min(1).max(100).optional(),
  /** A scorer's change is significant when its Holm-adjusted p-value is below this. Default 0.05. */
  alpha: z.number().gt(0).lt(1).optional(),
  /**
   * The smallest change of a scorer's mean (B − A, in score units) that counts as an improvement
   * or a regression, however significant (one number, or per scorer id). Default 0.
   */
  minEffect: perScorer.optional(),
  /** An item changed when one of its deciding scores moved by more than this (one number, or per scorer id). Default 0. */
  thresholds: perScorer.optional(),
  /** Changed items returned, regressions first. Default 50. */
  limit: z.number().int().min(0).max(500).optional(),
});
export type CompareRunsInput = z.infer<typeof compareRunsSchema>;

/** A confidence interval (the type is core's `Interval`). */
export const intervalSchema = z.object({ lower: z.number(), upper: z.number() });

/** One run's side of a scorer, over the items both runs have: each item's mean over its repetitions. */
const side = z.object({
  /** Mean of the items' scores; null when no shared item has one. */
  mean: z.number().nullable(),
  /** Share of items whose score is at or above the run's pass threshold. */
  passRate: z.number().nullable(),
  /** 95% Wilson interval of `passRate`. */
  passInterval: intervalSchema.nullable(),
  /** Shared items with a score in this run. */
  count: z.number().int(),
});

export const verdictSchema = z.enum(['improved', 'regressed', 'no significant change']);
export type Verdict = z.infer<typeof verdictSchema>;

export const scorerComparisonSchema = z.object({
  scorerId: z.string(),
  kind: scorerKindSchema,
  /** The scorer is one of those deciding the verdict (`scorerIds`, or the default choice). */
  deciding: z.boolean(),
  a: side,
  b: side,
  /** Items with a score in both runs: the pairs the difference, its interval and its test are over. */
  paired: z.number().int(),
  /** Shared items without a score in A only, in B only, and in neither (counted, never guessed). */
  missing: z.object({ a: z.number().int(), b: z.number().int(), both: z.number().int() }),
  /** Mean of B − A over the paired items; null when there are none. */
  delta: z.number().nullable(),
  /** 95% confidence interval of `delta`; null below two paired items. */
  ci: intervalSchema.nullable(),
  /** `bootstrap`: paired percentile bootstrap over items (fixed seed); `t`: Student's t (large runs). */
  ciMethod: z.enum(['bootstrap', 't']).nullable(),
  /** The test behind `pValue`: `mcnemar` (exact, every score 0 or 1) or `paired-t`. */
  test: z.enum(['mcnemar', 'paired-t']).nullable(),
  /** Two-sided p-value for "no difference"; null without paired items. */
  pValue: z.number().nullable(),
  /** `pValue` after Holm's correction across the deciding scorers; for the others, their own `pValue`. */
  pAdjusted: z.number().nullable(),
  /** Paired items that went from pass to fail (`down`) and from fail to pass (`up`). */
  flips: z.object({ down: z.number().int(), up: z.number().int() }),
  /** Exact McNemar p-value of `flips`. */
  flipsPValue: z.number(),
  /** The effect this scorer needs (`minEffect`). */
  minEffect: z.number(),
  /** The item threshold (`thresholds`). */
  threshold: z.number(),
  /** Significant (`pAdjusted` < alpha) and at least `minEffect` either way, else no significant change. */
  verdict: verdictSchema,
  /** A deciding scorer whose verdict is `regressed`. */
  regressed: z.boolean(),
});
export type ScorerComparison = z.infer<typeof scorerComparisonSchema>;

const outcome = z.object({ status: runItemStatusSchema, output: z.unknown(), error: z.unknown() });

export const changedItemSchema = z.object({
  itemId: z.string(),
  /** The item's own id in the dataset, if it has one: show it, falling back to `itemId`. */
  externalId: z.string().nullable(),
  /** The repetition whose outputs are shown (the first); scores are means over all of them. */
  repetition: z.number().int(),
  /** Repetitions of the item in each run. */
  repetitions: z.object({ a: z.number().int(), b: z.number().int() }),
  /**
   * `regression`: a deciding score dropped by more than its threshold (a score that disappeared
   * counts as 0), or the item stopped succeeding; `improvement` the other way round.
   */
  change: z.enum(['regression', 'improvement']),
  /** The total drop (negative) or, for an improvement, the total gain over the deciding scorers: the order of the list. */
  delta: z.number(),
  /** The item's status in each run (the worst of its repetitions); output and error of the repetition shown. */
  a: outcome,
  b: outcome,
  /** As run B saw them. Large values (and outputs) are `$truncated` markers. */
  input: z.unknown(),
  groundTruth: z.unknown(),
  /** Only the scorers whose score changed, deciding ones first. */
  scores: z.array(
    z.object({
      scorerId: z.string(),
      deciding: z.boolean(),
      a: z.number().nullable(),
      b: z.number().nullable(),
      delta: z.number().nullable(),
    }),
  ),
});
export type ChangedItem = z.infer<typeof changedItemSchema>;

export const comparisonCountsSchema = z.object({
  /** Items both runs have (the shared items of two dataset versions). */
  matched: z.number().int(),
  regressed: z.number().int(),
  improved: z.number().int(),
  unchanged: z.number().int(),
  /** Items only one run has (runs of two dataset versions). */
  onlyInA: z.number().int(),
  onlyInB: z.number().int(),
});

/** The answer of `POST /datasets/:id/compare`. */
export const comparisonSchema = z.object({
  runA: runSchema,
  runB: runSchema,
  /**
   * `regressed` when a deciding scorer regressed (whatever the others did), else `improved` when
   * one improved, else `no significant change`.
   */
  verdict: verdictSchema,
  /** The scorers that decide `verdict`, as chosen or by default. */
  decidingScorerIds: z.array(z.string()),
  /** The significance level and confidence used. */
  alpha: z.number(),
  confidence: z.number(),
  /** Every scorer either run used, by id. */
  scorers: z.array(scorerComparisonSchema),
  counts: comparisonCountsSchema,
  /** Regressions (largest total drop first), then improvements (largest gain first); at most `limit`. */
  items: z.array(changedItemSchema),
});
export type Comparison = z.infer<typeof comparisonSchema>;

/** Candidate runs one `POST /datasets/:id/compare/many` compares with its baseline. */
export const MAX_COMPARED_RUNS = 10;
/** Changed items per candidate of a many-run comparison when the input does not say. */
export const DEFAULT_MANY_COMPARE_LIMIT = 10;

/**
 * `POST /datasets/:id/compare/many`: up to {@link MAX_COMPARED_RUNS} runs, each compared with one
 * baseline exactly as `POST /datasets/:id/compare` compares run B with run A (the same paired
 * statistics; Holm's correction within each candidate's deciding scorers). All runs are of the
 * dataset.
 */
export const compareManySchema = z.strictObject({
  baselineRunId: text().min(1, 'baselineRunId is required'),
  /** The candidates, each compared with the baseline; the answer keeps their order. */
  runIds: z
    .array(text().min(1))
    .min(1, 'runIds must name at least one run')
    .max(MAX_COMPARED_RUNS, `runIds: at most ${MAX_COMPARED_RUNS} runs are compared with one baseline per request`),
  /**
   * The scorers that decide each verdict (scorers of the baseline). Default, per candidate: every
   * scorer both runs used, except `kind: 'latency'` or `'cost'` ones.
   */
  scorerIds: compareRunsSchema.shape.scorerIds,
  alpha: compareRunsSchema.shape.alpha,
  minEffect: compareRunsSchema.shape.minEffect,
  thresholds: compareRunsSchema.shape.thresholds,
  /** Changed items returned per candidate, regressions first. Default 10. */
  limit: z.number().int().min(0).max(100).optional(),
});
export type CompareManyInput = z.infer<typeof compareManySchema>;

/** One candidate against the baseline: a {@link comparisonSchema} whose run A is the baseline. */
export const candidateComparisonSchema = comparisonSchema
  .omit({ runA: true, runB: true, alpha: true, confidence: true })
  .extend({ run: runSchema });
export type CandidateComparison = z.infer<typeof candidateComparisonSchema>;

/** The answer of `POST /datasets/:id/compare/many`. */
export const manyComparisonSchema = z.object({
  baseline: runSchema,
  alpha: z.number(),
  confidence: z.number(),
  /** One per candidate, in the order of `runIds`. */
  comparisons: z.array(candidateComparisonSchema),
});
export type ManyComparison = z.infer<typeof manyComparisonSchema>;

/** `GET /datasets/:id/runs/:runId/scores?bins=N`: histogram bins, 1 to 100 (default 10). */
export const scoreStatsQuerySchema = z.object({ bins: z.coerce.number().int().min(1).max(100).default(10) });

export const scorerStatsSchema = z.object({
  scorerId: z.string(),
  /** Scores with a value. */
  count: z.number().int(),
  mean: z.number().nullable(),
  /** Share of scores ≥ the run's pass threshold. */
  passRate: z.number().nullable(),
  errors: z.number().int(),
  /** Counts per bin: bin i holds scores in [i/bins, (i+1)/bins); below 0 goes to the first, 1 and above to the last. */
  histogram: z.array(z.number().int()),
  /** Items with a score (each item's mean over its repetitions is one value of the intervals below). */
  items: z.number().int(),
  /**
   * 95% interval of the mean over items: Wilson when every item's score is 0 or 1, else Student's t;
   * null below two items (`--fail-under scorer=x:lower` gates on its lower bound).
   */
  meanInterval: intervalSchema.extend({ method: z.enum(['wilson', 't']) }).nullable(),
  /** 95% Wilson interval of the share of items whose score is at or above the pass threshold. */
  passInterval: intervalSchema.nullable(),
});
export type ScorerStats = z.infer<typeof scorerStatsSchema>;

export const scoreStatsSchema = z.object({
  bins: z.number().int(),
  passThreshold: z.number(),
  scorers: z.array(scorerStatsSchema),
});
export type ScoreStats = z.infer<typeof scoreStatsSchema>;
