import type { ApiRun, QueryOf, RunStatus } from '@assay/contract';

/**
 * Every request and response type is the type of a schema in the API contract (`@assay/contract`),
 * which the server validates with: none is written here by hand.
 */
export type {
  AttemptList,
  BatchAdded,
  CandidateComparison,
  ChangedItem,
  CompareManyInput,
  CompareRunsInput,
  Comparison,
  CreateDatasetInput,
  Dataset,
  DatasetDeleted,
  DatasetItem,
  DatasetList,
  DatasetVersion,
  Health,
  ItemDeleted,
  ItemError,
  ItemInput,
  ItemList,
  ItemsDeleted,
  ItemUpdate,
  ListedResult,
  ManyComparison,
  Pagination,
  RescoreRunInput,
  ResponseOf,
  ResultList,
  RunAccepted,
  RunItemAttempt,
  RunItemStatus,
  RunList,
  RunOptions,
  RunResult,
  RunStatus,
  RunStreamEvent,
  RunSummary,
  Score,
  ScorerComparison,
  ScorerInfo,
  ScorerStats,
  ScorerSummary,
  ScoreStats,
  TargetInfo,
  TriggerRunInput,
  Truncated,
  UpdateDatasetInput,
  VersionList,
} from '@assay/contract';

/** A run as the API returns it (the engine's internal bookkeeping left out). */
export type Run = ApiRun;

/** `?page=&perPage=` (page from 0; perPage 1–1000, default 50). */
export type PageParams = QueryOf<'listDatasets'>;
/** Items query: a page, optionally at an older `version`, optionally filtered by `search`. */
export type ItemsQuery = QueryOf<'listItems'>;
/** Results query: a page, optionally only results of one `status`, optionally sorted by a score. */
export type ResultsQuery = QueryOf<'listResults'>;

/** What `waitForRun`'s `onProgress` receives: counts so far (the SDK's own, not a response). */
export interface RunProgress {
  status: RunStatus;
  succeeded: number;
  failed: number;
  /** Items × repetitions; 0 until the run is planned. */
  total: number;
  /** succeeded + failed. */
  done: number;
}
