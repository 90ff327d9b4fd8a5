import type { CreateDatasetInput, ItemInput, ItemUpdate, UpdateDatasetInput } from './schemas.js';
import type { ListBounds } from './truncated.js';
import type {
  Dataset,
  DatasetItem,
  DatasetVersion,
  ItemError,
  Page,
  PageQuery,
  Run,
  RunItemAttempt,
  RunItemStatus,
  RunResult,
  RunStatus,
  RunSummary,
  Usage,
} from './types.js';

/** Time and randomness, injectable so lease expiry and backoff are tested without sleeping. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

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
}

/** One pending unit of work handed to the executor: a run item with its pinned item data. */
export interface WorkItem {
  itemId: string;
  repetition: number;
  attempt: number;
  input: unknown;
  groundTruth: unknown;
  metadata: Record<string, unknown> | null;
}

/** A work item claimed by one worker; `claimToken` fences its outcome. */
export interface ClaimedItem extends WorkItem {
  claimToken: number;
  /**
   * How often a claim of this item was lost without an outcome (its worker crashed, was killed or
   * let the lease run out) — counted for every claimed item the first time, then only when the
   * item had been started under the lost claim ({@link Storage.markStarted}).
   */
  lostClaims: number;
}

export interface ItemOutcome {
  itemId: string;
  /** The token the item was claimed with; the write is dropped when it is stale. */
  claimToken: number;
  /** The worker that produced this result. */
  workerId: string;
  repetition: number;
  status: Extract<RunItemStatus, 'succeeded' | 'failed'>;
  attempt: number;
  output: unknown;
  error: ItemError | null;
  /** The target's time; null when it was not called (an item failed for losing its worker). */
  latencyMs: number | null;
  /** Tokens and cost the target reported (null: none). */
  usage: Usage | null;
  startedAt: string;
  completedAt: string;
  scores: { scorerId: string; score: number | null; reason: string | null; error: string | null }[];
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

/**
 * A transaction other adapters may join. `handle` is the adapter's own transaction object (a
 * Kysely `Transaction` for the SQL store): only an adapter built on the same database looks at it.
 */
export interface StorageTx {
  readonly handle: unknown;
  createRun(run: NewRun): Promise<Run>;
  /**
   * Archives the failed, cancelled and skipped items of a finished run as earlier attempts and
   * queues them again; the run goes back to `running`. Returns how many items were queued.
   */
  resetForRetry(runId: string): Promise<number>;
}

/**
 * The storage port. Implemented once with Kysely (SQLite now, PostgreSQL as a dialect); every
 * method is safe to call concurrently and keeps the version and uniqueness rules itself.
 */
export interface Storage {
  readonly dialect: string;
  migrate(): Promise<void>;
  close(): Promise<void>;
  transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T>;

  createDataset(input: CreateDatasetInput): Promise<Dataset>;
  getDataset(id: string): Promise<Dataset | undefined>;
  findDatasetByName(name: string): Promise<Dataset | undefined>;
  /** With `bounds`, large metadata and schemas come as `Truncated` markers (see truncated.ts). */
  listDatasets(q: PageQuery & { bounds?: ListBounds }): Promise<Page<Dataset>>;
  updateDataset(id: string, patch: UpdateDatasetInput): Promise<Dataset>;
  /** Deletes a dataset with its items, runs and results. */
  deleteDataset(id: string): Promise<void>;

  /** Adds items as one version bump. Rejects (409) an externalId already in use. */
  addItems(datasetId: string, items: ItemInput[]): Promise<{ version: number; items: DatasetItem[] }>;
  /** Updates items as one version bump; the old revisions stay visible to older versions. */
  updateItems(
    datasetId: string,
    updates: (ItemUpdate & { id: string })[],
  ): Promise<{ version: number; items: DatasetItem[] }>;
  /** Deletes items as one version bump. Unknown ids are a 404 and nothing changes. */
  deleteItems(datasetId: string, itemIds: string[]): Promise<{ version: number; count: number }>;
  getItem(datasetId: string, itemId: string, version?: number): Promise<DatasetItem | undefined>;
  /** With `bounds`, large input, groundTruth and metadata come as `Truncated` markers (see truncated.ts). */
  listItems(
    datasetId: string,
    q: PageQuery & { version?: number; search?: string; bounds?: ListBounds },
  ): Promise<Page<DatasetItem>>;
  countItems(datasetId: string, version: number): Promise<number>;
  listVersions(datasetId: string, q: PageQuery): Promise<Page<DatasetVersion>>;

  getRun(runId: string): Promise<Run | undefined>;
  /** With `bounds`, a large metadata or error comes as a `Truncated` marker (see truncated.ts). */
  listRuns(datasetId: string, q: PageQuery & { bounds?: ListBounds }): Promise<Page<Run>>;
  countActiveRuns(datasetId: string): Promise<number>;
  /** Ids of pending or running runs, oldest first (the reconciler re-enqueues their jobs). */
  /** Ids of `pending` and `running` runs in id order, after `after` when given. */
  listActiveRunIds(limit: number, after?: string): Promise<string[]>;
  /**
   * Updates a run. With `ifStatus`, only when its status is one of them; returns whether it changed.
   */
  updateRun(runId: string, patch: RunPatch, ifStatus?: Run['status'][]): Promise<boolean>;
  findRunByIdempotencyKey(key: string): Promise<{ run: Run; hash: string } | undefined>;
  /** Closes every non-final item of a run with `status` (cancelled or skipped); returns how many. */
  closePendingItems(runId: string, status: 'cancelled' | 'skipped'): Promise<number>;
  /**
   * Earlier attempts and the current result of one item, oldest first. With `bounds`, large outputs,
   * error messages and score reasons (an archived attempt's whole score list) come as `Truncated` markers.
   */
  listAttempts(runId: string, itemId: string, bounds?: ListBounds): Promise<RunItemAttempt[]>;
  /**
   * Creates the next page of run-item rows from the items valid at the run's pinned version,
   * after `cursor` (an item id; '' to start). Idempotent. Returns the next cursor, or null at the end.
   */
  planRunItems(runId: string, cursor: string, pageSize: number): Promise<{ planned: number; cursor: string | null }>;
  /**
   * Claims up to `limit` items of a run for one worker: queued items, and items whose claim lease
   * ran out (their worker died). Each claimed item gets a new claim token, the fencing token its
   * outcome must carry. Claims by several workers at once never overlap.
   */
  claimWork(runId: string, workerId: string, limit: number, leaseMs: number): Promise<ClaimedItem[]>;
  /** Extends the leases of every item this worker holds in this run (its heartbeat). */
  extendClaims(runId: string, workerId: string, leaseMs: number): Promise<number>;
  /**
   * Hands a worker's claimed, unfinished items back to the queue at once: at shutdown, or with
   * `lost` for a worker that died (its claims count as lost, as an expired lease does).
   */
  releaseClaims(runId: string, workerId: string, lost?: boolean): Promise<number>;
  /** Records that a claimed item's target call starts now (only for items with lost claims). */
  markStarted(runId: string, itemId: string, repetition: number, claimToken: number): Promise<void>;
  /** Workers holding unfinished items of a run, with whether their lease is still running. */
  listClaimOwners(runId: string): Promise<string[]>;
  /** Items of a run not yet in a final state (queued or claimed). */
  countUnfinished(runId: string): Promise<number>;
  /**
   * Stores outcomes (result + scores, one transaction, upsert keyed by run, item, repetition) and
   * bumps the run's counts, returning them. An outcome whose claim token is no longer the item's
   * (another worker took it over, or the run was cancelled) is dropped: it can never land twice.
   */
  writeOutcomes(runId: string, outcomes: ItemOutcome[]): Promise<{ succeeded: number; failed: number }>;
  /** Recomputes counts and the summary from run-item rows and scores. */
  summarizeRun(runId: string): Promise<RunSummary>;
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

  // ── analysis (run page cards, compare) ──
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

export interface ScorerStats {
  scorerId: string;
  /** Scores with a value. */
  count: number;
  mean: number | null;
  /** Share of scores ≥ 0.5. */
  passRate: number | null;
  errors: number;
  /** Counts per bin: bin i holds scores in [i/bins, (i+1)/bins); below 0 goes to the first, 1 and above to the last. */
  histogram: number[];
}

export interface ResultKey {
  itemId: string;
  repetition: number;
  status: RunItemStatus;
  scores: { scorerId: string; score: number | null }[];
}

/** What a job handler sees: never a queue library's job object or a database row. */
export interface JobContext<P = unknown> {
  id: string;
  name: string;
  payload: P;
  /** 1 on the first delivery. */
  attempt: number;
  /** Deliveries before the queue gives the job up; on the last one a handler should record the failure. */
  maxAttempts: number;
  /** Aborted when the lease is lost, or when a shutdown's grace period is over: stop at once. */
  signal: AbortSignal;
  /**
   * Aborted when the worker begins a graceful shutdown: start nothing new, let in-flight work
   * finish, then throw (the job is handed back, not completed).
   */
  stopping: AbortSignal;
  /** Extends the lease; throws when the lease was lost. The runtime also heartbeats on its own. */
  heartbeat(): Promise<void>;
}

export interface EnqueueOptions {
  /** A job with the same dedup key that is not yet finished makes this enqueue a no-op. */
  dedupKey?: string;
  /** Delay before the first attempt, in ms. */
  delayMs?: number;
  /** Attempts before the job is marked failed. Default 5. */
  maxAttempts?: number;
  /** A transaction of the storage adapter to join (embedded queue only; others enqueue at once). */
  tx?: StorageTx;
}

export type JobHandler = (ctx: JobContext) => Promise<void>;

export interface WorkerOptions {
  /** Jobs processed at once by this worker. Default 4. */
  concurrency?: number;
  /** Called when a handler throws or a job is given up; defaults to console.error. */
  onError?: (error: unknown, job: { id: string; name: string }) => void;
  /**
   * Called once when a job is failed for good: its last attempt threw, or it was delivered more
   * than `maxAttempts` times without finishing (its worker crashed each time, so no handler ever
   * saw the last attempt). The place to record the failure in the domain, e.g. end a run.
   */
  onGiveUp?: (job: GivenUpJob) => Promise<void>;
}

export interface GivenUpJob {
  id: string;
  name: string;
  payload: unknown;
  attempts: number;
  error: Error;
}

export interface Worker {
  /** Stops claiming, aborts in-flight handlers and waits for them (up to `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

/** The job-queue port: the embedded SQLite lease table, or BullMQ on Redis. */
export interface JobQueue {
  readonly kind: string;
  /**
   * True when `enqueue` joins the storage transaction passed as `tx` (the embedded queue: same
   * SQLite file). False for a queue in another system (Redis): callers enqueue after their commit
   * and rely on the reconciler when that enqueue is lost.
   */
  readonly joinsTransactions: boolean;
  enqueue(name: string, payload: unknown, opts?: EnqueueOptions): Promise<{ id: string; deduplicated: boolean }>;
  work(handlers: Record<string, JobHandler>, opts?: WorkerOptions): Worker;
  close(): Promise<void>;
}

export type RunEvent =
  | { type: 'run.cancel'; runId: string; datasetId: string }
  | { type: 'run.status'; runId: string; datasetId: string; status: RunStatus; error?: string | null }
  | { type: 'run.progress'; runId: string; datasetId: string; succeeded: number; failed: number; total: number };

/** Live progress: an in-process emitter embedded, Redis pub/sub when scaled out. */
export interface EventBus {
  publish(event: RunEvent): void;
  subscribe(runId: string, listener: (event: RunEvent) => void): () => void;
}
