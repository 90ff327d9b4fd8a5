import { z } from 'zod';
import { cutText, pageQuerySchema, paginationSchema, record, text, timestamp, truncatedSchema } from './common.js';
import { runItemStatusSchema, usageSchema } from './runs.js';

export const itemErrorSchema = z.object({ message: z.string(), code: z.string(), retryable: z.boolean() });
export type ItemError = z.infer<typeof itemErrorSchema>;

export const scoreSchema = z.object({
  scorerId: z.string(),
  score: z.number().nullable(),
  reason: z.string().nullable(),
  error: z.string().nullable(),
  /** Tokens and cost the scorer reported (a judge model's, e.g. a Mastra judge scorer); absent when none. */
  usage: usageSchema.optional(),
});
export type Score = z.infer<typeof scoreSchema>;

export const runResultSchema = z.object({
  itemId: z.string(),
  /** The item's own id in the dataset (`externalId`), if it has one: show it, falling back to `itemId`. */
  externalId: z.string().nullable(),
  repetition: z.number().int(),
  status: runItemStatusSchema,
  attempt: z.number().int(),
  input: z.unknown(),
  groundTruth: z.unknown(),
  metadata: record.nullable(),
  output: z.unknown(),
  error: itemErrorSchema.nullable(),
  latencyMs: z.number().nullable(),
  startedAt: timestamp.nullable(),
  completedAt: timestamp.nullable(),
  /** The worker process that produced the result (`host:pid:…`). */
  workerId: z.string().nullable(),
  /** Tokens and cost the target reported, if any (for a cached result: those of its first computation). */
  usage: usageSchema.nullable(),
  /** True when the output came from the target output cache: the target was not called for it. */
  cached: z.boolean(),
  /** The run whose target call produced a cached output; null when not cached. */
  cachedFrom: z.string().nullable(),
  /**
   * What the target reported beside its output (`ctx.reportTrace`): an agent's `traceId` and
   * `toolCalls`, say. Null when nothing (and for a result from the cache). Large values are cut
   * in lists, like the output.
   */
  trace: z.unknown().nullable().optional(),
  scores: z.array(scoreSchema),
});
export type RunResult = z.infer<typeof runResultSchema>;

/** A list page's copy of a string field: a large one is a `$truncated` marker. */
const listedError = itemErrorSchema.extend({ message: cutText });
const listedScore = scoreSchema.extend({ reason: cutText.nullable(), error: cutText.nullable() });

/**
 * A result as a results page lists it. Large values are `$truncated` markers there: `input`,
 * `groundTruth`, `metadata`, `output`, the error's `message`, and a score's `reason` or `error`.
 * `GET …/results/:itemId` (and the SDK's `iterateRunResults`) has them whole.
 */
export const listedResultSchema = runResultSchema.extend({
  error: listedError.nullable(),
  scores: z.array(listedScore),
});
export type ListedResult = z.infer<typeof listedResultSchema>;

export const resultListSchema = z.object({ results: z.array(listedResultSchema), pagination: paginationSchema });
export type ResultList = z.infer<typeof resultListSchema>;

export const resultsQuerySchema = pageQuerySchema.extend({
  status: runItemStatusSchema.optional(),
  /** Sort by this scorer's score (results without one last) instead of by (itemId, repetition). */
  sortScorer: text().min(1).max(200).optional(),
  /** Direction of the score sort. Default `asc` (worst first). */
  order: z.enum(['asc', 'desc']).optional(),
});
export type ResultsQuery = z.output<typeof resultsQuerySchema>;

/**
 * `GET /datasets/:id/runs/:runId/results/:itemId?repetition=N`: one result in full, the values a
 * results page cut (see truncated.ts). `repetition` defaults to 0.
 */
export const resultKeySchema = z.object({
  repetition: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** One try of a run item: earlier attempts are archived when failed items are retried. */
export const runItemAttemptSchema = z.object({
  itemId: z.string(),
  repetition: z.number().int(),
  attempt: z.number().int(),
  status: runItemStatusSchema,
  output: z.unknown(),
  error: itemErrorSchema.nullable(),
  latencyMs: z.number().nullable(),
  usage: usageSchema.nullable(),
  startedAt: timestamp.nullable(),
  completedAt: timestamp.nullable(),
  scores: z.array(scoreSchema),
  /** True for the item's current result. */
  current: z.boolean(),
});
export type RunItemAttempt = z.infer<typeof runItemAttemptSchema>;

export const attemptListSchema = z.object({
  /** Large outputs, error messages and score reasons are `$truncated` markers here, as in a results page. */
  attempts: z.array(
    runItemAttemptSchema.extend({
      error: listedError.nullable(),
      /** An archived attempt's score list over the page's bounds is one marker. */
      scores: z.union([z.array(listedScore), truncatedSchema]),
    }),
  ),
});
export type AttemptList = z.infer<typeof attemptListSchema>;
