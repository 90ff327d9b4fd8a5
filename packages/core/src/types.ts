/** Domain types shared by every package. Timestamps are ISO-8601 strings. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Dataset {
  id: string;
  name: string;
  description: string | null;
  metadata: Record<string, unknown> | null;
  inputSchema: Record<string, unknown> | null;
  groundTruthSchema: Record<string, unknown> | null;
  /** Scorers a trigger without `scorerIds` uses. */
  scorerIds: string[] | null;
  /** +1 per item mutation batch; 0 for a new, empty dataset. */
  version: number;
  /** Items valid at the current version. */
  itemCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetItem {
  id: string;
  datasetId: string;
  externalId: string | null;
  input: unknown;
  groundTruth: unknown;
  metadata: Record<string, unknown> | null;
  /** Version at which this revision of the item appeared. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetVersion {
  datasetId: string;
  version: number;
  added: number;
  updated: number;
  deleted: number;
  createdAt: string;
}

export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

export type RunItemStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface RunOptions {
  maxConcurrency: number;
  itemTimeoutMs: number;
  /** Time each scorer may take per item (runs stored before it existed: the default, 30 000). */
  scorerTimeoutMs?: number;
  maxRetries: number;
  repetitions: number;
  /** Failed items in a row that stop the run; 0 disables. */
  maxConsecutiveFailures: number;
  /** A score at or above it passes (the summary's pass rate). Default 0.5. */
  passThreshold?: number;
}

/** Tokens and cost of one target call, as the target reports them. */
export interface Usage {
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
}

export interface ScorerSummary {
  scorerId: string;
  mean: number | null;
  median: number | null;
  /** Share of scores ≥ the run's pass threshold. */
  passRate: number | null;
  count: number;
  errors: number;
  /** With repetitions > 1: the mean of each repetition and their spread. */
  repetitions?: { means: (number | null)[]; stddev: number | null; min: number | null; max: number | null };
}

export interface RunSummary {
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  scorers: ScorerSummary[];
  /** The threshold `passRate` is computed at. */
  passThreshold: number;
  latencyMs: { p50: number | null; p95: number | null; max: number | null; mean: number | null };
  /** Totals and per-item means over the items whose target reported usage; null when none did. */
  usage: {
    items: number;
    inputTokens: number;
    outputTokens: number;
    costUsd: number;
    meanInputTokens: number | null;
    meanOutputTokens: number | null;
    meanCostUsd: number | null;
  } | null;
}

export interface Run {
  id: string;
  datasetId: string;
  datasetVersion: number;
  name: string | null;
  targetType: string;
  targetId: string;
  scorerIds: string[];
  options: RunOptions;
  metadata: Record<string, unknown> | null;
  status: RunStatus;
  totalItems: number;
  succeededCount: number;
  failedCount: number;
  skippedCount: number;
  summary: RunSummary | null;
  error: string | null;
  /** When a cancel was requested (the worker stops the run soon after). */
  cancelRequestedAt: string | null;
  /** Set once every run-item row exists (internal; the planner resumes from scratch until then). */
  plannedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface ItemError {
  message: string;
  code: string;
  retryable: boolean;
}

export interface Score {
  scorerId: string;
  score: number | null;
  reason: string | null;
  error: string | null;
}

/** One try of a run item: earlier attempts are archived when failed items are retried. */
export interface RunItemAttempt {
  itemId: string;
  repetition: number;
  attempt: number;
  status: RunItemStatus;
  output: unknown;
  error: ItemError | null;
  latencyMs: number | null;
  usage: Usage | null;
  startedAt: string | null;
  completedAt: string | null;
  scores: Score[];
  /** True for the item's current result. */
  current: boolean;
}

export interface RunResult {
  itemId: string;
  repetition: number;
  status: RunItemStatus;
  attempt: number;
  input: unknown;
  groundTruth: unknown;
  metadata: Record<string, unknown> | null;
  output: unknown;
  error: ItemError | null;
  latencyMs: number | null;
  startedAt: string | null;
  completedAt: string | null;
  /** The worker process that produced the result (`host:pid:…`). */
  workerId: string | null;
  /** Tokens and cost the target reported, if any. */
  usage: Usage | null;
  scores: Score[];
}

export interface Pagination {
  total: number;
  page: number;
  perPage: number;
  hasMore: boolean;
}

export interface Page<T> {
  rows: T[];
  pagination: Pagination;
}

export interface PageQuery {
  page: number;
  perPage: number;
}
