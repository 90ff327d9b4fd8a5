import type { ResultStore } from '@assay/core';
import { listAttempts } from './attempts.js';
import type { SqlContext } from './context.js';
import { getResult, listResults } from './listing.js';

/**
 * Stored results on SQL: the pages (listing.ts, bounded in SQL: see bounded.ts) and an item's
 * attempts (attempts.ts).
 */
export function createResultStore(ctx: SqlContext): ResultStore {
  return {
    listResults: (runId, q) => listResults(ctx.db, ctx.adapter, runId, q),
    getResult: (runId, itemId, repetition, bounds) => getResult(ctx.db, ctx.adapter, runId, itemId, repetition, bounds),
    listAttempts: (runId, itemId, bounds) => listAttempts(ctx.db, ctx.adapter, runId, itemId, bounds),
  };
}
