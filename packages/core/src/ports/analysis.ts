import type { ScorerStats } from '@assay/contract';
import type { RunItemStatus, RunSummary } from '../types.js';

export type { ScorerStats };

export interface ResultKey {
  itemId: string;
  repetition: number;
  status: RunItemStatus;
  scores: { scorerId: string; score: number | null }[];
}

/**
 * Aggregates over a run's stored rows (run page cards, compare, the finalizer's summary). The
 * store fetches aggregates and a few ordered values; the math is core's (`analysis/`).
 * Reads never hold a whole run in memory, whatever its size.
 */
export interface AnalysisStore {
  /** Recomputes counts and the summary from run-item rows and scores (see `buildRunSummary`). */
  summarizeRun(runId: string): Promise<RunSummary>;
  /** Per-scorer mean, pass rate (score ≥ passThreshold, default 0.5), count, errors and a histogram. */
  scoreStats(runId: string, bins: number, passThreshold?: number): Promise<ScorerStats[]>;
  /**
   * A page of a run's results without payloads (status and scores only), ordered by
   * (itemId, repetition), after `after` (keyset paging: flat memory and cost for any run size).
   */
  listResultKeys(
    runId: string,
    after: { itemId: string; repetition: number } | null,
    limit: number,
  ): Promise<ResultKey[]>;
}
