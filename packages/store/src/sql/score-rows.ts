import type { Score } from '@assay/core';
import { textValue, type ValueColumn } from './bounded.js';

/**
 * The rows of the `scores` table as the bounded reads (result pages, a result's attempts) select
 * them: the user-data columns to size and cut, and the row as the contract's {@link Score}.
 */

const REASON: ValueColumn = { col: 'reason', as: 'reason' };
const ERROR: ValueColumn = { col: 'error', as: 'error' };

/** The two values of a score row that a bounded read may cut: its reason and its error. */
export const SCORE_VALUES: ValueColumn[] = [REASON, ERROR];

/** A score row (`scorer_id`, `score` and {@link SCORE_VALUES} selected) as a {@link Score}. */
export function scoreOf(row: Record<string, unknown>, limit: number | null): Score {
  return {
    scorerId: row.scorer_id as string,
    score: row.score as number | null,
    reason: textValue(row, REASON, limit) as string | null,
    error: textValue(row, ERROR, limit) as string | null,
  };
}
