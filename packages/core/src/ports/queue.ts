import type { StorageTx } from './storage.js';

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
  /** Called when a handler throws or a job is given up. Default: a warning on the queue's logger. */
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

/** Jobs of a queue by state, for metrics and readiness. */
export interface QueueCounts {
  /** Ready to be taken by a worker. */
  waiting: number;
  /** Waiting for their time: a retry's backoff, or a delay. */
  delayed: number;
  /** Held by a worker now. */
  active: number;
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
  /**
   * How many jobs of these names are waiting, delayed and active: one cheap query (an index
   * range of the SQLite table, or a few Redis counters). Rejects when the queue cannot be reached,
   * so it doubles as the readiness probe; against an unreachable Redis it may wait for the
   * reconnect, so callers bound it with a timeout.
   */
  counts(names: readonly string[]): Promise<QueueCounts>;
  close(): Promise<void>;
}
