import type { Scorer } from '../config.js';
import { isLinearScorer } from '../scorers/index.js';

/**
 * Where an item whose output is stored (a cache hit, a re-score) is scored. Sending it to a worker
 * thread costs the thread that claims and stores items more than exact-match itself on a small
 * value (docs/benchmarks.md, issue 14), so it is scored right here when every scorer is a built-in
 * whose time is linear in its arguments (exact-match, json-valid, latency-under: no pattern, schema
 * or regex from item data) and the item's values together stay under {@link INLINE_SCORING_LIMIT}:
 * each such item holds this thread for microseconds, never long enough to delay a request or a
 * lease renewal. Anything else — user code, other built-ins, larger values — runs where targets run.
 */
export const INLINE_SCORING_LIMIT = 64 * 1024;

/** Whether the scorers can score these values (input, ground truth, metadata, output) on this thread. */
export function scoresInline(scorers: Scorer[], values: unknown[]): boolean {
  if (scorers.length === 0 || !scorers.every(isLinearScorer)) return false;
  let budget = INLINE_SCORING_LIMIT;
  for (const v of values) {
    budget = within(v, budget, 0);
    if (budget < 0) return false;
  }
  return true;
}

/**
 * What is left of `budget` after a JSON value's size (characters of text and keys, a few per other
 * value), or a negative number once it is spent: it stops early, so a huge value costs no more
 * than the budget to measure.
 */
function within(v: unknown, budget: number, depth: number): number {
  if (typeof v === 'string') return budget - v.length - 2;
  if (v === null || typeof v !== 'object') return budget - 8;
  if (depth >= 32) return -1;
  budget -= 2;
  if (Array.isArray(v)) {
    for (const x of v) {
      budget = within(x, budget - 1, depth + 1);
      if (budget < 0) return budget;
    }
    return budget;
  }
  for (const [k, x] of Object.entries(v)) {
    budget = within(x, budget - k.length - 3, depth + 1);
    if (budget < 0) return budget;
  }
  return budget;
}
