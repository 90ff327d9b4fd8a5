import { z } from 'zod';

/** Input schemas: parsed once at the boundary (HTTP, config); inside, types are trusted. */

const record = z.record(z.string(), z.unknown());
/** Text stored in text columns: PostgreSQL cannot hold a NUL character, so none may enter. */
const text = () => z.string().refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');
const jsonValue = z.unknown().refine((v) => v !== undefined, 'is required');

export const createDatasetSchema = z.strictObject({
  name: text().trim().min(1, 'name must not be empty').max(200),
  description: text().max(10_000).nullish(),
  metadata: record.nullish(),
  inputSchema: record.nullish(),
  groundTruthSchema: record.nullish(),
  /** Scorers a trigger without `scorerIds` uses. */
  scorerIds: z.array(text().min(1)).max(100).nullish(),
});
export type CreateDatasetInput = z.infer<typeof createDatasetSchema>;

export const updateDatasetSchema = createDatasetSchema.partial();
export type UpdateDatasetInput = z.infer<typeof updateDatasetSchema>;

export const itemInputSchema = z.strictObject({
  input: jsonValue,
  groundTruth: z.unknown().optional(),
  metadata: record.nullish(),
  externalId: text().min(1).max(500).nullish(),
});
export type ItemInput = z.infer<typeof itemInputSchema>;

export const itemUpdateSchema = z
  .strictObject({
    input: z.unknown().optional(),
    groundTruth: z.unknown().optional(),
    metadata: record.nullish(),
    externalId: text().min(1).max(500).nullish(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update: give input, groundTruth, metadata or externalId');
export type ItemUpdate = z.infer<typeof itemUpdateSchema>;

/** Items per batch request. */
export const MAX_BATCH_ITEMS = 10_000;

export const batchAddSchema = z.strictObject({
  items: z.array(itemInputSchema).min(1, 'items must not be empty').max(MAX_BATCH_ITEMS),
});
export const batchDeleteSchema = z.strictObject({
  itemIds: z.array(text().min(1)).min(1, 'itemIds must not be empty').max(MAX_BATCH_ITEMS),
});

const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const pageQuerySchema = z.object({
  page: intParam(0, 1_000_000).default(0),
  perPage: intParam(1, 1000).default(50),
});
export const itemsQuerySchema = pageQuerySchema.extend({
  version: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
  search: z.string().max(500).optional(),
});
export const resultsQuerySchema = pageQuerySchema.extend({
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped']).optional(),
  /** Sort by this scorer's score (results without one last) instead of by (itemId, repetition). */
  sortScorer: text().min(1).max(200).optional(),
  /** Direction of the score sort. Default `asc` (worst first). */
  order: z.enum(['asc', 'desc']).optional(),
});

/** `POST /datasets/:id/compare`: run A is the baseline, B the candidate. */
export const compareRunsSchema = z.strictObject({
  runIdA: text().min(1, 'runIdA is required'),
  runIdB: text().min(1, 'runIdB is required'),
  /** A scorer regresses when its mean drops by more than this (one number, or per scorer id). Default 0. */
  thresholds: z.union([z.number().min(0).max(1e9), z.record(text(), z.number().min(0).max(1e9))]).optional(),
  /** Changed items returned, regressions first. Default 50. */
  limit: z.number().int().min(0).max(500).optional(),
});
export type CompareRunsInput = z.infer<typeof compareRunsSchema>;

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
  targetType: z.enum(['agent', 'workflow', 'function', 'http', 'model']).optional(),
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
  name: text().max(200).optional(),
  metadata: record.optional(),
});
export type TriggerRunInput = z.infer<typeof triggerRunSchema>;

/** Turns zod issues into `details` a client can show next to the offending field. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}
