import type { Score } from '@assay/core';
import { textValue, type ValueColumn } from './bounded.js';
import { num } from './rows.js';

/**
 * The rows of the `scores` table as the bounded reads (result pages, a result's attempts) select
 * them: the user-data columns to size and cut, and the row as the contract's {@link Score}.
 */

const REASON: ValueColumn = { col: 'reason', as: 'reason' };
const ERROR: ValueColumn = { col: 'error', as: 'error' };

/** The two values of a score row that a bounded read may cut: its reason and its error. */
export const SCORE_VALUES: ValueColumn[] = [REASON, ERROR];

/** The columns of a score's usage (what a judge spent), selected beside `score`. */
export const SCORE_USAGE = ['input_tokens', 'output_tokens', 'cost_usd'] as const;

/** A score row (`scorer_id`, `score`, {@link SCORE_USAGE} and {@link SCORE_VALUES} selected) as a {@link Score}. */
export function scoreOf(row: Record<string, unknown>, limit: number | null): Score {
  const usage = {
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    costUsd: num(row.cost_usd),
  };
  const reported = usage.inputTokens !== null || usage.outputTokens !== null || usage.costUsd !== null;
  return {
    scorerId: row.scorer_id as string,
    score: row.score as number | null,
    reason: textValue(row, REASON, limit) as string | null,
    error: textValue(row, ERROR, limit) as string | null,
    ...(reported ? { usage } : {}),
  };
}
