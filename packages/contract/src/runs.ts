import { z } from 'zod';
import { cutText, pageQuerySchema, paginationSchema, record, text, timestamp } from './common.js';

export const runStatusSchema = z.enum(['pending', 'running', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runItemStatusSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped']);
export type RunItemStatus = z.infer<typeof runItemStatusSchema>;

export const targetTypeSchema = z.enum(['agent', 'workflow', 'function', 'http', 'model']);

/**
 * How a run uses the target output cache (docs/targets.md, "Caching outputs"): `read` takes a
 * stored output instead of calling the target, `write` stores the outputs of the target's
 * successful calls, `readwrite` both, `off` neither. Default: the target's `cache` in the config,
 * else `off`.
 */
export const cacheModeSchema = z.enum(['off', 'read', 'write', 'readwrite']);
export type CacheMode = z.infer<typeof cacheModeSchema>;

/** Defaults a run's options take when the trigger omits them. */
export const RUN_DEFAULTS = {
  maxConcurrency: 10,
  itemTimeoutMs: 60_000,
  scorerTimeoutMs: 30_000,
  maxRetries: 2,
  repetitions: 1,
  maxConsecutiveFailures: 20,
} as const;

export const triggerRunSchema = z.strictObject({
  targetId: text().min(1, 'targetId is required'),
  targetType: targetTypeSchema.optional(),
  scorerIds: z.array(text().min(1)).max(100).optional(),
  version: z.number().int().min(0).optional(),
  maxConcurrency: z.number().int().min(1).max(1000).optional(),
  itemTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  /** Time each scorer of an item may take, in ms. Default 30 000. */
  scorerTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
  repetitions: z.number().int().min(1).max(100).optional(),
  /** Failed items in a row that stop the run (circuit breaker); 0 disables. */
  maxConsecutiveFailures: z.number().int().min(0).max(1_000_000).optional(),
  /** A score at or above it passes, in the summary's pass rate. Default 0.5. */
  passThreshold: z.number().min(0).max(1).optional(),
  /** Use of the target output cache. Default: the target's `cache` in the config, else `off`. */
  cache: cacheModeSchema.optional(),
  name: text().max(200).optional(),
  metadata: record.optional(),
});
export type TriggerRunInput = z.infer<typeof triggerRunSchema>;

/**
 * `POST /datasets/:id/runs/:runId/rescore`: a new run that scores the stored outputs of a finished
 * run with other scorers, calling no target.
 */
export const rescoreRunSchema = z.strictObject({
  scorerIds: z.array(text().min(1)).min(1, 'scorerIds must name at least one scorer').max(100),
  /** Default: the source run's. */
  passThreshold: z.number().min(0).max(1).optional(),
  /** Default: `rescore of <the source run's name or id>`. */
  name: text().max(200).optional(),
  /**
   * The model-call cache for the scorers' calls (an `llm-judge`'s): `readwrite` (the default)
   * answers them from the cache and stores the new ones, `read` or `write` one of the two, `off`
   * neither — every judge call is made again. The outputs always come from the source run.
   */
  cache: cacheModeSchema.optional(),
});
export type RescoreRunInput = z.infer<typeof rescoreRunSchema>;

/** `Idempotency-Key` header of a trigger: same key + same body returns the first run. */
export const triggerHeadersSchema = z.object({ 'idempotency-key': z.string().min(1).max(255).optional() });

export const runOptionsSchema = z.object({
  maxConcurrency: z.number().int(),
  itemTimeoutMs: z.number().int(),
  /** Time each scorer may take per item (runs stored before it existed: the default, 30 000). */
  scorerTimeoutMs: z.number().int().optional(),
  maxRetries: z.number().int(),
  repetitions: z.number().int(),
  /** Failed items in a row that stop the run; 0 disables. */
  maxConsecutiveFailures: z.number().int(),
  /** A score at or above it passes (the summary's pass rate). Default 0.5. */
  passThreshold: z.number().optional(),
  /** The cache mode the run uses (absent: `off`, nothing asked for one). */
  cache: cacheModeSchema.optional(),
  /** Why the run does not use the cache it asked for (its target has no fingerprint, …). */
  cacheNotice: z.string().optional(),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

/** Tokens and cost of one target call, as the target reports them. */
export const usageSchema = z.object({
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  costUsd: z.number().nullable(),
});
export type Usage = z.infer<typeof usageSchema>;

const nullableNumber = z.number().nullable();

export const scorerSummarySchema = z.object({
  scorerId: z.string(),
  mean: nullableNumber,
  median: nullableNumber,
  /** Share of scores ≥ the run's pass threshold. */
  passRate: nullableNumber,
  count: z.number().int(),
  errors: z.number().int(),
  /** With repetitions > 1: the mean of each repetition and their spread. */
  repetitions: z
    .object({ means: z.array(nullableNumber), stddev: nullableNumber, min: nullableNumber, max: nullableNumber })
    .optional(),
  /**
   * What the scorer's judge spent over the run: sums over the scores that reported it (null: no
   * score reported that measure); absent when none reported any.
   */
  usage: z.object({ inputTokens: nullableNumber, outputTokens: nullableNumber, costUsd: nullableNumber }).optional(),
});
export type ScorerSummary = z.infer<typeof scorerSummarySchema>;

export const runSummarySchema = z.object({
  total: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  cancelled: z.number().int(),
  scorers: z.array(scorerSummarySchema),
  /** The threshold `passRate` is computed at. */
  passThreshold: z.number(),
  latencyMs: z.object({ p50: nullableNumber, p95: nullableNumber, max: nullableNumber, mean: nullableNumber }),
  /** Totals and per-item means over the items whose target reported usage; null when none did. */
  usage: z
    .object({
      items: z.number().int(),
      inputTokens: z.number(),
      outputTokens: z.number(),
      costUsd: z.number(),
      meanInputTokens: nullableNumber,
      meanOutputTokens: nullableNumber,
      meanCostUsd: nullableNumber,
    })
    .nullable(),
  /** The target output cache's share of the run; absent when the run used no cache. */
  cache: z
    .object({
      mode: cacheModeSchema,
      /** Results taken from the cache: their target was not called. */
      hits: z.number().int(),
      /** Finished results whose target was called. */
      misses: z.number().int(),
      /** Cache entries this run stored. */
      stored: z.number().int(),
      /** Cost of the target calls this run made (USD). */
      costSpentUsd: z.number(),
      /** Cost the cached results had when first computed, not spent again (USD). */
      costSavedUsd: z.number(),
      /**
       * The model-call cache's share of the scorers' model calls (an `llm-judge`'s): calls made
       * now, and answered from the cache (a `model` target answered from it counts as a hit). Absent
       * in summaries stored before they were counted.
       */
      modelCalls: z.object({ made: z.number().int(), reused: z.number().int() }).optional(),
    })
    .optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

/** A run as the API returns it (the engine's bookkeeping, `plannedAt`, left out). */
export const runSchema = z.object({
  id: z.string(),
  datasetId: z.string(),
  datasetVersion: z.number().int(),
  name: z.string().nullable(),
  targetType: z.string(),
  targetId: z.string(),
  scorerIds: z.array(z.string()),
  options: runOptionsSchema,
  metadata: record.nullable(),
  status: runStatusSchema,
  totalItems: z.number().int(),
  succeededCount: z.number().int(),
  failedCount: z.number().int(),
  skippedCount: z.number().int(),
  summary: runSummarySchema.nullable(),
  error: z.string().nullable(),
  /** When a cancel was requested (the worker stops the run soon after). */
  cancelRequestedAt: timestamp.nullable(),
  /** For a re-score: the run whose stored outputs this run scores (its target is not called). */
  sourceRunId: z.string().nullable(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  completedAt: timestamp.nullable(),
});
export type ApiRun = z.infer<typeof runSchema>;

/** The 202 answer of trigger, cancel and retry: the run, with its id also as `runId`. */
export const runAcceptedSchema = runSchema.extend({ runId: z.string() });
export type RunAccepted = z.infer<typeof runAcceptedSchema>;

export const runListSchema = z.object({
  /** A large `metadata` or `error` (rare: a run's error quotes its first failed item) is a `$truncated` marker here. */
  runs: z.array(runSchema.extend({ error: cutText.nullable() })),
  pagination: paginationSchema,
});
export type RunList = z.infer<typeof runListSchema>;

export const runsQuerySchema = pageQuerySchema;
