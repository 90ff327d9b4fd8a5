import { z } from 'zod';
import { text } from './common.js';
import { runItemStatusSchema, runSchema } from './runs.js';

/** `POST /datasets/:id/compare`: run A is the baseline, B the candidate, both runs of the dataset. */
export const compareRunsSchema = z.strictObject({
  runIdA: text().min(1, 'runIdA is required'),
  runIdB: text().min(1, 'runIdB is required'),
  /** A scorer regresses when its mean drops by more than this (one number, or per scorer id). Default 0. */
  thresholds: z.union([z.number().min(0).max(1e9), z.record(text(), z.number().min(0).max(1e9))]).optional(),
  /** Changed items returned, regressions first. Default 50. */
  limit: z.number().int().min(0).max(500).optional(),
});
export type CompareRunsInput = z.infer<typeof compareRunsSchema>;

const side = z.object({ mean: z.number().nullable(), passRate: z.number().nullable(), count: z.number().int() });

export const scorerComparisonSchema = z.object({
  scorerId: z.string(),
  a: side,
  b: side,
  /** B − A of the means; null unless both are known. */
  delta: z.number().nullable(),
  threshold: z.number(),
  /** B's mean is lower than A's by more than the threshold. */
  regressed: z.boolean(),
});
export type ScorerComparison = z.infer<typeof scorerComparisonSchema>;

const outcome = z.object({ status: runItemStatusSchema, output: z.unknown(), error: z.unknown() });

export const changedItemSchema = z.object({
  itemId: z.string(),
  repetition: z.number().int(),
  /** `regression`: some score dropped by more than its threshold, or the item stopped succeeding. */
  change: z.enum(['regression', 'improvement']),
  /** The largest drop (negative) or, for an improvement, the largest gain over the compared scorers. */
  delta: z.number(),
  a: outcome,
  b: outcome,
  /** As run B saw them. Large values (and outputs) are `$truncated` markers. */
  input: z.unknown(),
  groundTruth: z.unknown(),
  scores: z.array(
    z.object({
      scorerId: z.string(),
      a: z.number().nullable(),
      b: z.number().nullable(),
      delta: z.number().nullable(),
    }),
  ),
});
export type ChangedItem = z.infer<typeof changedItemSchema>;

export const comparisonCountsSchema = z.object({
  /** Results (item × repetition) present in both runs. */
  matched: z.number().int(),
  regressed: z.number().int(),
  improved: z.number().int(),
  unchanged: z.number().int(),
  onlyInA: z.number().int(),
  onlyInB: z.number().int(),
});

/** The answer of `POST /datasets/:id/compare`. */
export const comparisonSchema = z.object({
  runA: runSchema,
  runB: runSchema,
  scorers: z.array(scorerComparisonSchema),
  counts: comparisonCountsSchema,
  /** Regressions (largest drop first), then improvements (largest gain first); at most `limit`. */
  items: z.array(changedItemSchema),
});
export type Comparison = z.infer<typeof comparisonSchema>;

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
});
export type ScorerStats = z.infer<typeof scorerStatsSchema>;

export const scoreStatsSchema = z.object({
  bins: z.number().int(),
  passThreshold: z.number(),
  scorers: z.array(scorerStatsSchema),
});
export type ScoreStats = z.infer<typeof scoreStatsSchema>;
