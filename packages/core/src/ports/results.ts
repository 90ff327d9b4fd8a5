import type { ListBounds } from '@assay/contract';
import type { Page, PageQuery, RunItemAttempt, RunItemStatus, RunResult } from '../types.js';

/** Stored results of a run: one per item × repetition, with its earlier attempts. */
export interface ResultStore {
  /**
   * Ordered by (itemId, repetition), or by one scorer's score (`sortScorer`, missing scores last).
   * With `bounds`, large input, groundTruth, metadata, output, error message and score reasons or
   * errors come as `Truncated` markers (see truncated.ts); {@link getResult} has them in full.
   */
  listResults(
    runId: string,
    q: PageQuery & { status?: RunItemStatus; sortScorer?: string; order?: 'asc' | 'desc'; bounds?: ListBounds },
  ): Promise<Page<RunResult>>;
  /** One result of a run (item × repetition), in full unless `bounds` are given; undefined when there is none. */
  getResult(runId: string, itemId: string, repetition: number, bounds?: ListBounds): Promise<RunResult | undefined>;
  /**
   * Earlier attempts and the current result of one item, oldest first. With `bounds`, large outputs,
   * error messages and score reasons (an archived attempt's whole score list) come as `Truncated` markers.
   */
  listAttempts(runId: string, itemId: string, bounds?: ListBounds): Promise<RunItemAttempt[]>;
}
