/**
 * Domain types shared by every package. Timestamps are ISO-8601 strings. Each is the type of its
 * schema in the API contract (contract/), so the wire and the code cannot drift; only what never
 * leaves the server (`Run.plannedAt`) is added here.
 */
import type { ApiRun } from '@assay/contract';

export type {
  CacheMode,
  Dataset,
  DatasetItem,
  DatasetVersion,
  ItemError,
  Json,
  Page,
  PageQuery,
  Pagination,
  RescoreRunInput,
  RunItemAttempt,
  RunItemStatus,
  RunOptions,
  RunResult,
  RunStatus,
  RunSummary,
  Score,
  ScorerSummary,
  Usage,
} from '@assay/contract';
export { FINAL_RUN_STATUSES } from '@assay/contract';

/** A run as storage holds it: the API's run plus the planner's bookkeeping. */
export interface Run extends ApiRun {
  /** Set once every run-item row exists (internal; the planner resumes from scratch until then). */
  plannedAt: string | null;
}
