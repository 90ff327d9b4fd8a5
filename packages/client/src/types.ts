import type {
  Dataset,
  DatasetItem,
  DatasetVersion,
  ItemError,
  RunItemStatus as ItemStatus,
  itemsQuerySchema,
  Pagination,
  pageQuerySchema,
  RunItemAttempt,
  RunResult,
  RunStatus,
  resultsQuerySchema,
  Score,
  Run as StoredRun,
  Truncated,
} from '@assay/core/api';
import type { z } from 'zod';

/** Request types come from the server's zod schemas (`@assay/core/api`), never copied by hand. */
export type {
  CreateDatasetInput,
  Dataset,
  DatasetItem,
  DatasetVersion,
  ItemError,
  ItemInput,
  ItemUpdate,
  Pagination,
  RunItemAttempt,
  RunItemStatus,
  RunOptions,
  RunResult,
  RunStatus,
  RunSummary,
  Score,
  ScorerSummary,
  TriggerRunInput,
  Truncated,
  UpdateDatasetInput,
} from '@assay/core/api';

/** `?page=&perPage=` (page from 0; perPage 1–1000, default 50). */
export type PageParams = Partial<z.output<typeof pageQuerySchema>>;
/** Items query: a page, optionally at an older `version`, optionally filtered by `search`. */
export type ItemsQuery = Partial<z.output<typeof itemsQuerySchema>>;
/** Results query: a page, optionally only results of one `status`. */
export type ResultsQuery = Partial<z.output<typeof resultsQuerySchema>>;

/** A run as the API returns it (the engine's internal bookkeeping left out). */
export type Run = Omit<StoredRun, 'plannedAt'>;
/** The 202 answer of trigger, cancel and retry: the run, with its id also as `runId`. */
export type RunAccepted = Run & { runId: string };

export interface DatasetList {
  datasets: Dataset[];
  pagination: Pagination;
}
export interface ItemList {
  /** Large `input`, `groundTruth` or `metadata` values are {@link Truncated} markers here (`getItem` has them whole). */
  items: DatasetItem[];
  pagination: Pagination;
  /** The dataset version these items are valid at. */
  version: number;
}
export interface VersionList {
  versions: DatasetVersion[];
  pagination: Pagination;
}
/**
 * A result as a results page lists it. Large values are {@link Truncated} markers there: `input`,
 * `groundTruth`, `metadata`, `output` (typed `unknown` already), the error's `message`, and a score's
 * `reason` or `error`. `getRunResult` (and `iterateRunResults`) has them whole.
 */
export type ListedResult = Omit<RunResult, 'error' | 'scores'> & {
  error: (Omit<ItemError, 'message'> & { message: string | Truncated }) | null;
  scores: (Omit<Score, 'reason' | 'error'> & { reason: string | Truncated | null; error: string | Truncated | null })[];
};
export interface RunList {
  /** A large `metadata` or `error` (rare: a run's error quotes its first failed item) is a {@link Truncated} marker here (`getRun` has it whole). */
  runs: Run[];
  pagination: Pagination;
}
export interface ResultList {
  results: ListedResult[];
  pagination: Pagination;
}
export interface AttemptList {
  /** Large outputs, error messages and score reasons are {@link Truncated} markers here, as in a results page. */
  attempts: RunItemAttempt[];
}
export interface BatchAdded {
  count: number;
  version: number;
  items: DatasetItem[];
}

export interface TargetInfo {
  id: string;
  type: string;
  /** `function` (code in the config), `http` or `model`. */
  kind: 'function' | 'http' | 'model';
  description: string | null;
  maxConcurrency: number | null;
  /** Declared targets: method and URL (http), model and price (model). Never headers. */
  details?: Record<string, unknown>;
}
export interface ScorerInfo {
  id: string;
  description: string | null;
  builtIn: boolean;
  /** The built-in a configured `{ id, use, options }` scorer is made of. */
  use?: string;
}
export interface Health {
  status: 'ok';
  storage?: string;
  queue?: string;
  worker?: boolean;
  version?: string;
  targets: number;
  scorers: number;
}

/**
 * One event of {@link AssayClient.streamRun}. After every (re)connect the first event is `run`,
 * the full current state, so a consumer is never behind after a reconnect.
 */
export type RunStreamEvent =
  | { type: 'run'; run: Run }
  | { type: 'run.status'; runId: string; datasetId: string; status: RunStatus; error?: string | null }
  | { type: 'run.progress'; runId: string; datasetId: string; succeeded: number; failed: number; total: number }
  /** A cancel was requested; the final `run.status` follows once the worker has stopped. */
  | { type: 'run.cancel'; runId: string; datasetId: string };

/** What `waitForRun`'s `onProgress` receives: counts so far. */
export interface RunProgress {
  status: RunStatus;
  succeeded: number;
  failed: number;
  /** Items × repetitions; 0 until the run is planned. */
  total: number;
  /** succeeded + failed. */
  done: number;
}

/** `POST /datasets/:id/compare`: run B against baseline A, computed by the server. */
export interface ServerComparison {
  runA: Run;
  runB: Run;
  scorers: {
    scorerId: string;
    a: { mean: number | null; passRate: number | null; count: number };
    b: { mean: number | null; passRate: number | null; count: number };
    /** B − A of the means; null unless both are known. */
    delta: number | null;
    threshold: number;
    /** B's mean dropped by more than the threshold. */
    regressed: boolean;
  }[];
  counts: { matched: number; regressed: number; improved: number; unchanged: number; onlyInA: number; onlyInB: number };
  /** Regressions (largest drop first), then improvements (largest gain first), at most `limit`. */
  items: {
    itemId: string;
    repetition: number;
    change: 'regression' | 'improvement';
    delta: number;
    a: { status: ItemStatus; output: unknown; error: unknown };
    b: { status: ItemStatus; output: unknown; error: unknown };
    input: unknown;
    groundTruth: unknown;
    scores: { scorerId: string; a: number | null; b: number | null; delta: number | null }[];
  }[];
}
