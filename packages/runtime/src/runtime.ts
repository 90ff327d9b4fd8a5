import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type AssayConfig,
  CacheSizeLimit,
  type Clock,
  cacheMaxBytesFrom,
  createLocalLimiter,
  createMemoryEventBus,
  createRegistry,
  createRunJobHandlers,
  createRunService,
  createSweeper,
  createThreadRunner,
  type EventBus,
  type ItemRunner,
  type JobQueue,
  type Logger,
  redactUrl,
  type StorageHealth,
  silentLogger,
  systemClock,
  type TargetLimiter,
  type Worker,
  type WriterOptions,
} from '@assay/core';
import { SqliteJobQueue } from '@assay/queue';
import { AssayMetrics, createApp } from '@assay/server';
import { createLedgerThread, openSqlite, SqlStorage, sqliteAdapter } from '@assay/store';
import { loadPostgres, loadRedis } from './optional.js';

export interface AssayOptions {
  config: AssayConfig;
  /**
   * The module `config` was loaded from. With it, targets and scorers run in worker threads that
   * load it (user code cannot block the API or lease renewals, and a busy loop is stopped at its
   * time limit); without it (a config given as objects) they run on the main thread.
   */
  configPath?: string;
  /** Worker threads for targets and scorers (with `configPath`). Default: CPU count, at least 2. */
  threads?: number;
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
  /** How often the sweeper re-enqueues the jobs of unfinished runs (a no-op for runs with a live job), in ms. Default 10 000. */
  reconcileMs?: number;
  apiKey?: string;
  /** Origins whose pages may call the API (CORS); the server's own origin always may. */
  allowedOrigins?: readonly string[];
  /** The server listens on loopback only: a `Host` that is not a loopback name is refused (DNS rebinding). */
  loopbackOnly?: boolean;
  synchronous?: 'FULL' | 'NORMAL';
  writer?: WriterOptions;
  clock?: Clock;
  /**
   * Where the engine, the queue, the storage health and the HTTP app log (levelled, with `runId`
   * and `itemId` where they apply). Default: nowhere; `createLogger()` (pino) writes JSON lines.
   */
  logger?: Logger;
  /** Receives the storage health changes and the worker threads' warnings as text instead of `logger`. */
  log?: (message: string) => void;
  /** Largest item in bytes (JSON of input + groundTruth + metadata). Default `ASSAY_MAX_ITEM_BYTES`, else 4 MiB. */
  maxItemBytes?: number;
  /**
   * Largest size of the output and model-call cache, in MiB of stored JSON: a worker deletes the
   * oldest entries when it is over (checked every `cacheCheckMs`). Default `ASSAY_CACHE_MAX_MB`,
   * else no limit.
   */
  cacheMaxMb?: number;
  /** How often a worker checks the cache's size against `cacheMaxMb`, in ms. Default 30 000. */
  cacheCheckMs?: number;
}

/** This package's version, read from its package.json (the same file in the sources and the build). */
export const VERSION: string = createRequire(import.meta.url)('../package.json').version;

/** Picks the adapters: SQLite file for storage, queue and events, or PostgreSQL + Redis. */
async function adapters(opts: AssayOptions, clock: Clock, logger: Logger) {
  const storageLog = opts.log ?? ((m: string) => logger.warn({ component: 'storage' }, m));
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
    // A session idle in a transaction (its process stopped) is ended well within a lease, so its
    // locks never outlast the claims of the workers waiting on them.
    const idle = Math.min(5_000, Math.max(500, Math.floor((opts.leaseMs ?? 15_000) / 3)));
    const [{ createPostgresStorage, createPostgresHealth }, { BullJobQueue, createRedisEventBus, createRedisLimiter }] =
      await Promise.all([loadPostgres(), loadRedis()]);
    const storage = createPostgresStorage({
      connectionString: opts.databaseUrl,
      idleInTransactionTimeoutMs: idle,
      lockTimeoutMs: idle * 2,
      clock,
    });
    const health: StorageHealth = createPostgresHealth(storage.db, { log: storageLog });
    const queue = new BullJobQueue({
      connection: opts.redisUrl,
      prefix: opts.redisPrefix,
      lockDurationMs: opts.leaseMs,
      retryBaseMs: opts.jobRetryBaseMs,
      log: logger,
    });
    const events = createRedisEventBus(opts.redisUrl, {
      channel: `${opts.redisPrefix ?? 'assay'}:events`,
      log: logger,
    });
    const limiter = createRedisLimiter(opts.redisUrl, { prefix: opts.redisPrefix, log: logger });
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
  const file = join(opts.dataDir ?? '.assay', 'assay.db');
  const { db, health } = openSqlite({ file, synchronous: opts.synchronous, log: storageLog });
  // With isolation (user code in worker threads), the item pipeline's ledger writes (claims,
  // lease renewals, releases, outcome batches) run on a thread of their own too, so their statements
  // and fsyncs never hold the thread that serves HTTP (docs/benchmarks.md, issue 10).
  const ledgerWrites =
    opts.configPath && (opts.worker ?? true)
      ? createLedgerThread({ file, synchronous: opts.synchronous, clock })
      : undefined;
  const storage = new SqlStorage(db, sqliteAdapter, {
    clock,
    ledgerWrites,
    onClose: async () => ledgerWrites?.close(),
  });
  const queue = new SqliteJobQueue(db, {
    leaseMs: opts.leaseMs,
    pollMs: opts.pollMs,
    retryBaseMs: opts.jobRetryBaseMs,
    clock,
    // The worker pauses while the file is gone or read-only (see the store's sqlite-health.ts).
    storageHealthy: () => health?.current().ok ?? true,
    log: logger,
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
  const logger = opts.logger ?? silentLogger;
  // Checked before anything is opened: a bad value refuses to start.
  const cacheMaxBytes = cacheMaxBytesFrom(
    opts.cacheMaxMb !== undefined ? String(opts.cacheMaxMb) : process.env.ASSAY_CACHE_MAX_MB,
  );
  const { storage, queue, events, limiter, closeEvents, scaleOut, health } = await adapters(opts, clock, logger);
  await storage.migrate();
  const migratable = queue as JobQueue & { migrate?: () => Promise<void> };
  if (migratable.migrate) await migratable.migrate();
  const registry = createRegistry(opts.config);
  const runs = createRunService({ storage, queue, registry, events, log: logger });
  const metrics = new AssayMetrics({ storage, queue, log: logger });
  const withWorker = opts.worker ?? true;
  const app = createApp({
    storage,
    registry,
    runs,
    events,
    apiKey: opts.apiKey,
    allowedOrigins: opts.allowedOrigins,
    loopbackOnly: opts.loopbackOnly,
    maxItemBytes: opts.maxItemBytes,
    storageHealth: health,
    queue,
    metrics,
    log: logger,
    info: { storage: storage.dialect, queue: queue.kind, worker: withWorker, version: VERSION },
  });
  let worker: Worker | null = null;
  let sweeper: ReturnType<typeof createSweeper> | undefined;
  let workerId: string | null = null;
  let runner: ItemRunner | undefined;
  let cacheLimit: CacheSizeLimit | undefined;
  if (withWorker) {
    if (opts.configPath)
      runner = createThreadRunner({
        configPath: opts.configPath,
        threads: opts.threads,
        log: opts.log ?? ((m: string) => logger.warn({ component: 'threads' }, m.replace(/^\[assay\] /, ''))),
      });
    const jobs = createRunJobHandlers({
      runner,
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
      log: logger,
      metrics: metrics.work,
    });
    workerId = jobs.workerId;
    worker = queue.work(jobs.handlers, { concurrency: opts.workerConcurrency ?? 8, onGiveUp: jobs.onGiveUp });
    // Every active run keeps a live job (see sweeper.ts), in both deployments.
    sweeper = createSweeper({ storage, queue, intervalMs: opts.reconcileMs, log: logger });
    sweeper.start();
    if (cacheMaxBytes !== undefined) {
      cacheLimit = new CacheSizeLimit({
        maxBytes: cacheMaxBytes,
        storage,
        clock,
        intervalMs: opts.cacheCheckMs,
        log: logger.child({ component: 'cache' }),
      });
      cacheLimit.start();
    }
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
    /** The cache's size limit of this worker (`cacheMaxMb`), if it has one. */
    cacheLimit,
    /** Prometheus metrics of this process (`GET /metrics` serves them). */
    metrics,
    logger,
    workerId,
    /**
     * Graceful stop: the worker claims nothing new, lets in-flight items finish for up to
     * `timeoutMs`, aborts and hands back the rest (the next start resumes them), then the
     * connections are closed.
     */
    async close(timeoutMs = 10_000) {
      sweeper?.stop();
      await cacheLimit?.stop();
      await worker?.stop(timeoutMs);
      await runner?.close();
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
    const { createPostgresStorage } = await loadPostgres();
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

/** A connection URL without its password, for logs (core's; the CLI takes it from here). */
export { redactUrl };
