import { join } from 'node:path';
import {
  type AssayConfig,
  type Clock,
  createLocalLimiter,
  createMemoryEventBus,
  createRegistry,
  createRunJobHandlers,
  createRunService,
  type EventBus,
  type JobQueue,
  RUN_JOB,
  RUN_JOB_MAX_ATTEMPTS,
  type RunJobPayload,
  type StorageHealth,
  systemClock,
  type TargetLimiter,
  type Worker,
  type WriterOptions,
} from '@assay/core';
import { BullJobQueue, SqliteJobQueue } from '@assay/queue';
import { createPostgresHealth, createPostgresStorage, openSqlite, SqlStorage, sqliteAdapter } from '@assay/store';
import { createApp } from './app.js';
import { createRedisEventBus } from './redis-events.js';
import { createRedisLimiter } from './redis-limits.js';

export interface AssayOptions {
  config: AssayConfig;
  /** Folder of the SQLite file (`assay.db`) when no `databaseUrl` is given. Default `./.assay`. */
  dataDir?: string;
  /** `postgres://…`: PostgreSQL storage (needs `redisUrl`). Absent: SQLite under `dataDir`. */
  databaseUrl?: string;
  /** `redis://…`: BullMQ queue and Redis pub/sub events. Absent: the embedded SQLite queue. */
  redisUrl?: string;
  /** Key prefix in Redis, so deployments (or tests) can share one Redis. Default `assay`. */
  redisPrefix?: string;
  /** Run the worker in this process. Default true. */
  worker?: boolean;
  /** Jobs (run plans and run slots) executed at once by this worker. Default 8. */
  workerConcurrency?: number;
  /** Execution jobs per run: how many workers share one run. Default 1 embedded, 4 with Redis. */
  slotsPerRun?: number;
  /** Job and item lease in ms: how soon another worker takes over after a crash. Default 15 000. */
  leaseMs?: number;
  /** Queue poll interval in ms (jobs enqueued by other processes). Default 250. */
  pollMs?: number;
  /** First retry delay of a retryable target error in ms. Default 500. */
  retryBaseMs?: number;
  /** First retry delay of a failed run job in ms. Default 1 000. */
  jobRetryBaseMs?: number;
  /** How often a running run checks for a cancel request made by another process, in ms. Default 250. */
  cancelPollMs?: number;
  /** How often a worker re-enqueues the jobs of unfinished runs (scale-out only), in ms. Default 10 000. */
  reconcileMs?: number;
  apiKey?: string;
  synchronous?: 'FULL' | 'NORMAL';
  writer?: WriterOptions;
  clock?: Clock;
  log?: (message: string) => void;
  /** Largest item in bytes (JSON of input + groundTruth + metadata). Default `ASSAY_MAX_ITEM_BYTES`, else 4 MiB. */
  maxItemBytes?: number;
}

export const VERSION = '0.1.0';

/** Picks the adapters: SQLite file for storage, queue and events, or PostgreSQL + Redis. */
function adapters(opts: AssayOptions, clock: Clock) {
  if (opts.databaseUrl && !/^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    throw new Error('ASSAY_DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite file)');
  }
  if (opts.databaseUrl && !opts.redisUrl) {
    throw new Error(
      'ASSAY_DATABASE_URL selects PostgreSQL, which needs a shared job queue: set ASSAY_REDIS_URL=redis://host:6379 too',
    );
  }
  if (opts.redisUrl && !opts.databaseUrl) {
    throw new Error(
      'ASSAY_REDIS_URL selects the BullMQ queue, whose workers need shared storage: set ASSAY_DATABASE_URL=postgres://… too',
    );
  }
  if (opts.databaseUrl && opts.redisUrl) {
    const storage = createPostgresStorage({ connectionString: opts.databaseUrl });
    const health: StorageHealth = createPostgresHealth(storage.db, { log: opts.log });
    const queue = new BullJobQueue({
      connection: opts.redisUrl,
      prefix: opts.redisPrefix,
      lockDurationMs: opts.leaseMs,
      retryBaseMs: opts.jobRetryBaseMs,
    });
    const events = createRedisEventBus(opts.redisUrl, { channel: `${opts.redisPrefix ?? 'assay'}:events` });
    const limiter = createRedisLimiter(opts.redisUrl, { prefix: opts.redisPrefix });
    return {
      storage,
      queue: queue as JobQueue,
      events: events as EventBus,
      limiter: limiter as TargetLimiter,
      closeEvents: async () => {
        await events.close();
        await limiter.close?.();
      },
      scaleOut: true,
      health,
    };
  }
  const { db, health } = openSqlite({
    file: join(opts.dataDir ?? '.assay', 'assay.db'),
    synchronous: opts.synchronous,
    log: opts.log,
  });
  const storage = new SqlStorage(db, sqliteAdapter);
  const queue = new SqliteJobQueue(db, {
    leaseMs: opts.leaseMs,
    pollMs: opts.pollMs,
    retryBaseMs: opts.jobRetryBaseMs,
    clock,
    // The worker pauses while the file is gone or read-only (see the store's sqlite-health.ts).
    storageHealthy: () => health?.current().ok ?? true,
  });
  return {
    storage,
    queue: queue as JobQueue,
    events: createMemoryEventBus(),
    limiter: createLocalLimiter(),
    closeEvents: async () => {},
    scaleOut: false,
    health: (health ?? undefined) as StorageHealth | undefined,
  };
}

/**
 * Wires a deployment: storage, job queue and event bus (embedded SQLite file, or PostgreSQL +
 * BullMQ + Redis pub/sub), the HTTP app and, unless disabled, a worker.
 */
export async function createAssay(opts: AssayOptions) {
  const clock = opts.clock ?? systemClock;
  const { storage, queue, events, limiter, closeEvents, scaleOut, health } = adapters(opts, clock);
  await storage.migrate();
  const migratable = queue as JobQueue & { migrate?: () => Promise<void> };
  if (migratable.migrate) await migratable.migrate();
  const registry = createRegistry(opts.config);
  const runs = createRunService({ storage, queue, registry, events });
  const withWorker = opts.worker ?? true;
  const app = createApp({
    storage,
    registry,
    runs,
    events,
    apiKey: opts.apiKey,
    maxItemBytes: opts.maxItemBytes,
    storageHealth: health,
    info: { storage: storage.dialect, queue: queue.kind, worker: withWorker, version: VERSION },
  });
  let worker: Worker | null = null;
  let reconciler: NodeJS.Timeout | undefined;
  let workerId: string | null = null;
  if (withWorker) {
    const jobs = createRunJobHandlers({
      storage,
      queue,
      registry,
      events,
      clock,
      limiter,
      slotsPerRun: opts.slotsPerRun ?? (scaleOut ? 4 : 1),
      itemLeaseMs: opts.leaseMs,
      retryBaseMs: opts.retryBaseMs,
      cancelPollMs: opts.cancelPollMs,
      writer: opts.writer,
    });
    workerId = jobs.workerId;
    worker = queue.work(jobs.handlers, { concurrency: opts.workerConcurrency ?? 8, onGiveUp: jobs.onGiveUp });
    // A run whose job went missing is re-enqueued: scaled out, the run row (PostgreSQL) and its
    // jobs (Redis) cannot commit together (a crash between the two writes, a Redis restart without
    // persistence), so this runs every `reconcileMs`; embedded, once at start. Job dedup makes it
    // a no-op for runs whose jobs exist; the handlers are idempotent for the rest.
    const reconcile = async () => {
      for (const runId of await storage.listActiveRunIds(1000)) {
        await queue.enqueue(RUN_JOB, { runId } satisfies RunJobPayload, {
          dedupKey: `run:${runId}`,
          maxAttempts: RUN_JOB_MAX_ATTEMPTS,
        });
      }
    };
    if (scaleOut) reconciler = setInterval(() => void reconcile().catch(() => {}), opts.reconcileMs ?? 10_000);
    void reconcile().catch(() => {});
  }
  return {
    app,
    storage,
    /** The storage's health (`/api/health` reports it). */
    storageHealth: health,
    queue,
    registry,
    events,
    runs,
    workerId,
    /**
     * Graceful stop: the worker claims nothing new, lets in-flight items finish for up to
     * `timeoutMs`, aborts and hands back the rest (the next start resumes them), then the
     * connections are closed.
     */
    async close(timeoutMs = 10_000) {
      clearInterval(reconciler);
      await worker?.stop(timeoutMs);
      await queue.close();
      await closeEvents();
      await storage.close();
    },
  };
}
export type Assay = Awaited<ReturnType<typeof createAssay>>;

/**
 * Creates or upgrades the schema and exits: the SQLite file (and its queue table) under
 * `dataDir`, or PostgreSQL when `databaseUrl` is set (Redis is not needed for this). Returns a
 * description of what was migrated.
 */
export async function migrateDatabase(opts: Pick<AssayOptions, 'dataDir' | 'databaseUrl'>): Promise<string> {
  if (opts.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(opts.databaseUrl))
      throw new Error('ASSAY_DATABASE_URL must be a postgres:// URL (leave it unset for the embedded SQLite file)');
    const storage = createPostgresStorage({ connectionString: opts.databaseUrl });
    try {
      await storage.migrate();
    } finally {
      await storage.close();
    }
    return `postgres ${redactUrl(opts.databaseUrl)}`;
  }
  const file = join(opts.dataDir ?? '.assay', 'assay.db');
  const { db } = openSqlite({ file });
  const storage = new SqlStorage(db, sqliteAdapter);
  try {
    await storage.migrate();
    await new SqliteJobQueue(db).migrate();
  } finally {
    await storage.close();
  }
  return `sqlite ${file}`;
}

/** A connection URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
