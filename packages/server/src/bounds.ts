import { z } from 'zod';

/**
 * `GET /datasets/:id/runs/:runId/results/:itemId?repetition=N`: one result in full, the values a
 * results page cut (see @assay/core truncated.ts). `repetition` defaults to 0.
 */
export const resultKeySchema = z.object({
  repetition: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
