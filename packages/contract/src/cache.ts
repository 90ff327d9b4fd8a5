import { z } from 'zod';
import { text, timestamp } from './common.js';

/** The target output cache's housekeeping: `GET /cache` (its size by target) and `DELETE /cache`. */

/** An age such as `30d`, `12h`, `90m` or `45s`. */
export const ageSchema = z.string().regex(/^[1-9]\d{0,6}[dhms]$/, 'must be an age such as 30d, 12h, 90m or 45s');

export const cacheStatsQuerySchema = z.object({
  /** Only this target's entries. */
  targetId: text().min(1).max(200).optional(),
});

const cacheTargetStatsSchema = z.object({
  targetId: z.string(),
  entries: z.number().int(),
  /** Size of the stored outputs, in bytes of JSON text. */
  bytes: z.number(),
  /** What computing the stored outputs cost (USD): what a full rerun from the cache saves. */
  costUsd: z.number(),
  oldest: timestamp.nullable(),
  newest: timestamp.nullable(),
});

export const cacheStatsSchema = z.object({
  targets: z.array(cacheTargetStatsSchema),
  total: z.object({ entries: z.number().int(), bytes: z.number(), costUsd: z.number() }),
});
export type CacheStats = z.infer<typeof cacheStatsSchema>;

export const clearCacheQuerySchema = z.object({
  /** Only this target's entries. */
  targetId: text().min(1).max(200).optional(),
  /** Only entries stored longer ago than this (`30d`). */
  olderThan: ageSchema.optional(),
});
export type ClearCacheQuery = z.infer<typeof clearCacheQuerySchema>;

export const cacheClearedSchema = z.object({ deleted: z.number().int() });
