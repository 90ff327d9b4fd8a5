import type { ListBounds } from '@assay/contract';
import type { Page, PageQuery, Run, RunStatus, RunSummary } from '../types.js';

/** A run as the trigger creates it. */
export interface NewRun {
  id: string;
  datasetId: string;
  datasetVersion: number;
  name: string | null;
  targetType: string;
  targetId: string;
  scorerIds: string[];
  options: Run['options'];
  metadata: Record<string, unknown> | null;
  totalItems: number;
  /** `datasetId:Idempotency-Key` and a hash of the request, when the trigger sent a key. */
  idempotency?: { key: string; hash: string };
  /** A re-score: the finished run whose stored outputs this run scores. */
  sourceRunId?: string | null;
}

export interface RunPatch {
  status?: RunStatus;
  startedAt?: string | null;
  completedAt?: string | null;
  error?: string | null;
  summary?: RunSummary | null;
  totalItems?: number;
  plannedAt?: string | null;
  cancelRequestedAt?: string | null;
}

/** Run rows: their status, counts and summary. Runs are created in a transaction ({@link StorageTx}). */
export interface RunStore {
  getRun(runId: string): Promise<Run | undefined>;
  /** With `bounds`, a large metadata or error comes as a `Truncated` marker (see truncated.ts). */
  listRuns(datasetId: string, q: PageQuery & { bounds?: ListBounds }): Promise<Page<Run>>;
  countActiveRuns(datasetId: string): Promise<number>;
  /** How many runs have each status, over every dataset (one indexed `group by`, for metrics). */
  countRunsByStatus(): Promise<Record<RunStatus, number>>;
  /** Ids of `pending` and `running` runs in id order, after `after` when given (the reconciler re-enqueues their jobs). */
  listActiveRunIds(limit: number, after?: string): Promise<string[]>;
  /**
   * Updates a run. With `ifStatus`, only when its status is one of them; returns whether it changed.
   */
  updateRun(runId: string, patch: RunPatch, ifStatus?: Run['status'][]): Promise<boolean>;
  findRunByIdempotencyKey(key: string): Promise<{ run: Run; hash: string } | undefined>;
}
