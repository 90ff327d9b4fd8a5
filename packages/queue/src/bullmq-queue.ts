import {
  type EnqueueOptions,
  type JobContext,
  type JobHandler,
  type JobQueue,
  type Logger,
  newId,
  type QueueCounts,
  silentLogger,
  type Worker,
  type WorkerOptions,
} from '@assay/core';
import { Worker as BullWorker, type Job, Queue, UnrecoverableError, WaitingError } from 'bullmq';

/** Where Redis is; {@link BullJobQueue.parseRedisUrl} turns a `redis://` URL into this. */
export interface RedisConnection {
  host: string;
  port: number;
  db?: number;
  username?: string;
  password?: string;
  /** TLS options (`rediss://` URLs give `{}`). */
  tls?: Record<string, unknown>;
}

export interface BullQueueOptions {
  /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS), or its parts. */
  connection: string | RedisConnection;
  /**
   * Prefix of every Redis key this queue writes, so several deployments (or test files) can share
   * one Redis without seeing each other's jobs. Default `assay`.
   */
  prefix?: string;
  /** Jobs processed at once by a worker whose `work()` options give no concurrency. Default 4. */
  concurrency?: number;
  /**
   * Lock length in ms. Workers renew the locks of their jobs every third of it; a worker that
   * stops renewing (crash, `kill -9`, an event loop blocked this long) loses its jobs, which
   * another worker then takes. Default 15 000.
   */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired, in ms. Default: `lockDurationMs`. */
  stalledIntervalMs?: number;
  /** First retry delay in ms; doubles per failed attempt, with jitter. Default 1 000. */
  retryBaseMs?: number;
  /** Longest retry delay in ms. Default 60 000. */
  retryMaxMs?: number;
  /** Failed jobs kept per job name for inspection (oldest are dropped first). Default 1 000. */
  keepFailed?: number;
  /** Where failed jobs (when `work()` is given no `onError`) and Redis errors are reported. Default: nowhere. */
  log?: Logger;
}

/** The backoff type our jobs carry; the formula lives in the worker (see `backoff`). */
const BACKOFF = 'assay';

/** Decrements `ats` (attempts started) of a job, only while `token` still holds its lock. */
const UNCOUNT_COMMAND = 'assayUncountAttempt';
const UNCOUNT_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('HINCRBY', KEYS[2], 'ats', -1)
  return 1
end
return 0`;

/**
 * One delivery of a job to this worker, holding its lock. Per delivery, not per job id: a job can
 * reach the same worker twice (its lock lapsed, the stalled check re-queued it).
 */
interface Delivery {
  /** The handler's `signal`: aborted on a hard stop or when the lock is lost. */
  abort: AbortController;
  lockLost: boolean;
  /** Extends the lock; throws (and aborts `abort`) when it is lost. The handler's `heartbeat`. */
  renew(): Promise<void>;
  /** Stops renewing the lock (idempotent). */
  release(): void;
}

/**
 * The scale-out job queue: BullMQ on Redis.
 *
 * - **One BullMQ queue per job name** (`<prefix>:<name>:…` keys): a worker only ever takes jobs it
 *   has a handler for (like the SQLite claim by name), a rolling deploy that adds a job kind cannot
 *   hand it to old workers, and each kind shows up on its own in Redis and queue dashboards.
 *   `work()` starts one BullMQ worker per name; one in-process slot pool caps the handlers
 *   running at once at `concurrency` across all of them (with several names, a fetched job may
 *   wait for a slot: it keeps its lock meanwhile, and is handed back if the worker stops).
 * - **Dedup**: a job with a dedup key is added with BullMQ deduplication: the add script sets
 *   `<prefix>:<name>:de:<key>` → job id atomically, unless that key already points at an
 *   unfinished job (then the add is a no-op and returns the existing id); the script that
 *   completes or fails the job deletes it. Job ids themselves are generated (`job_…`), not derived
 *   from the key: a failed job is kept for inspection (`keepFailed`), and under a key-derived id
 *   it would swallow every later enqueue of that key (BullMQ returns an existing job id untouched),
 *   while deleting it at enqueue time races with a concurrent enqueue. Dedup keys are scoped per
 *   job name. Completed jobs are removed at once (`removeOnComplete`): their results live in the
 *   store.
 * - **Retries**: a throwing handler is retried by BullMQ (`attempts: maxAttempts`) after
 *   `retryBaseMs · 2^(n-1)` (capped at `retryMaxMs`), half of it random jitter; after the last
 *   attempt the job is failed. `attempt` is BullMQ's attempts-started counter, so a delivery that
 *   ended in a crash counts too; a job delivered more than `maxAttempts` times is failed without
 *   running its handler (a job that keeps crashing its worker).
 * - **Locks**: each delivery renews its own lock every `lockDurationMs / 3` (BullMQ's shared lock
 *   renewal is turned off); when a renewal, or `heartbeat()`, finds the lock gone or held by
 *   another token, the handler's `signal` aborts and the job is left to its new owner: never
 *   completed, failed or handed back by this worker. A crashed worker's jobs are moved back to
 *   wait by BullMQ's stalled-job check once their lock expired (`stalledIntervalMs`).
 * - **Shutdown**: `stop(timeoutMs)` stops fetching and aborts `stopping`; a handler that returns
 *   completes its job, one that throws hands it back. After `timeoutMs`, `signal` aborts. A job
 *   is handed back by decrementing its attempts-started counter (guarded by the lock token) and
 *   moving it from active to the head of wait, so the next worker takes it at once with the
 *   same `attempt`. A handler still running 2 s after the hard abort is abandoned: its job keeps
 *   no lock and the stalled-job check re-delivers it (that delivery counts as an attempt).
 * - `EnqueueOptions.tx` is ignored: Redis cannot join a SQL transaction (the engine reconciles).
 *
 * @example
 * const queue = new BullJobQueue({ connection: 'redis://127.0.0.1:6379', prefix: 'assay' });
 * await queue.enqueue('run', { runId }, { dedupKey: `run:${runId}` });
 * const worker = queue.work({ run: async (ctx) => { … } }, { concurrency: 8 });
 * await worker.stop(10_000);
 * await queue.close();
 */
export class BullJobQueue implements JobQueue {
  readonly kind = 'bullmq';
  readonly joinsTransactions = false;
  private readonly connection: RedisConnection & { maxRetriesPerRequest: null };
  private readonly prefix: string;
  private readonly concurrency: number;
  private readonly lockDurationMs: number;
  private readonly stalledIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly keepFailed: number;
  private readonly log: Logger;
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Set<Worker>();
  private closed = false;

  constructor(opts: BullQueueOptions) {
    const connection =
      typeof opts.connection === 'string' ? BullJobQueue.parseRedisUrl(opts.connection) : opts.connection;
    this.connection = { ...connection, maxRetriesPerRequest: null };
    this.prefix = opts.prefix ?? 'assay';
    this.concurrency = opts.concurrency ?? 4;
    this.lockDurationMs = opts.lockDurationMs ?? 15_000;
    this.stalledIntervalMs = opts.stalledIntervalMs ?? this.lockDurationMs;
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.keepFailed = opts.keepFailed ?? 1_000;
    this.log = opts.log ?? silentLogger;
  }

  /**
   * Parses `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS).
   *
   * @example BullJobQueue.parseRedisUrl('redis://10.0.0.5:6380/2') // { host: '10.0.0.5', port: 6380, db: 2 }
   */
  static parseRedisUrl(url: string): RedisConnection {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error('invalid Redis URL: expected redis://host:port/db');
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
      throw new Error(`invalid Redis URL: protocol ${u.protocol} is not redis: or rediss:`);
    const conn: RedisConnection = {
      host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: u.port ? Number(u.port) : 6379,
    };
    const path = u.pathname.replace(/^\//, '');
    if (path) {
      if (!/^\d+$/.test(path)) throw new Error(`invalid Redis URL: database "${path}" is not a number`);
      conn.db = Number(path);
    }
    if (u.username) conn.username = decodeURIComponent(u.username);
    if (u.password) conn.password = decodeURIComponent(u.password);
    if (u.protocol === 'rediss:') conn.tls = {};
    return conn;
  }

  async enqueue(name: string, payload: unknown, opts: EnqueueOptions = {}) {
    const id = newId('job');
    const job = await this.queue(name).add(name, payload ?? null, {
      jobId: id,
      attempts: opts.maxAttempts ?? 5,
      delay: opts.delayMs,
      backoff: { type: BACKOFF },
      removeOnComplete: true,
      removeOnFail: { count: this.keepFailed },
      ...(opts.dedupKey === undefined ? {} : { deduplication: { id: opts.dedupKey } }),
    });
    // The add script answers with the id of the unfinished job that holds the dedup key, if any.
    const actual = job.id ?? id;
    return { id: actual, deduplicated: actual !== id };
  }

  work(handlers: Record<string, JobHandler>, opts: WorkerOptions = {}): Worker {
    if (this.closed) throw new Error('BullJobQueue is closed');
    const names = Object.keys(handlers);
    names.forEach(assertName);
    const concurrency = opts.concurrency ?? this.concurrency;
    const onError =
      opts.onError ??
      ((e, job) => this.log.warn({ err: e, jobId: job.id, job: job.name }, `job ${job.name} ${job.id} failed`));
    const giveUp = async (job: Job, error: Error) => {
      onError(error, { id: job.id ?? '-', name: job.name });
      if (!opts.onGiveUp) return;
      const given = { id: job.id ?? '-', name: job.name, payload: job.data, attempts: job.attemptsStarted, error };
      await opts.onGiveUp(given).catch((e) => onError(e, { id: given.id, name: `${job.name}:give-up` }));
    };
    const reportInfra = throttle((e: unknown, name: string) => onError(e, { id: '-', name }));
    const slots = new Slots(concurrency);
    const inFlight = new Set<Delivery>();
    const draining = new AbortController();
    let abandon!: () => void;
    const abandoned = new Promise<'abandoned'>((resolve) => {
      abandon = () => resolve('abandoned');
    });

    const processJob = async (bull: BullWorker, job: Job, token: string | undefined): Promise<void> => {
      if (!token) throw new Error(`BullMQ gave job ${job.id} to a processor without a lock token`);
      // The lock is kept from the moment BullMQ hands the job over, also while it waits for a slot.
      const delivery = this.keepLock(job, token);
      inFlight.add(delivery);
      try {
        if (draining.signal.aborted || !(await slots.acquire(draining.signal))) {
          // Fetched while the worker began to stop: not started, so handed back uncounted.
          delivery.release();
          if (!delivery.lockLost)
            await this.handBack(bull, job, token).catch((e) => reportInfra(e, `hand-back:${job.name}`));
          throw new WaitingError();
        }
        try {
          await runDelivery(bull, job, token, delivery);
        } finally {
          slots.release();
        }
      } finally {
        delivery.release();
        inFlight.delete(delivery);
      }
    };

    const runDelivery = async (bull: BullWorker, job: Job, token: string, delivery: Delivery) => {
      // WaitingError tells BullMQ to leave the job as it is: a new owner has it, or it was moved already.
      if (delivery.lockLost) throw new WaitingError();
      const id = job.id ?? '-';
      const attempt = job.attemptsStarted;
      const maxAttempts = job.opts.attempts ?? 1;
      if (attempt > maxAttempts) {
        const error = new UnrecoverableError(
          `job ${job.name} ${id} was started ${attempt - 1} times without finishing (its worker crashed or lost the lock each time)`,
        );
        await giveUp(job, error);
        throw error;
      }
      const ctx: JobContext = {
        id,
        name: job.name,
        payload: job.data,
        attempt,
        maxAttempts,
        signal: delivery.abort.signal,
        stopping: draining.signal,
        heartbeat: delivery.renew,
      };
      const outcome = await Promise.race([
        (async () => handlers[job.name](ctx))().then(
          () => ({ ok: true as const }),
          (error: unknown) => ({ ok: false as const, error }),
        ),
        abandoned,
      ]);
      delivery.release();
      if (outcome === 'abandoned' || delivery.lockLost) throw new WaitingError();
      if (outcome.ok) return; // BullMQ completes it (its script checks the lock token once more)
      if (draining.signal.aborted) {
        // A handler that gave up because of the shutdown hands its job back untouched.
        await this.handBack(bull, job, token).catch((e) => reportInfra(e, `hand-back:${job.name}`));
        throw new WaitingError();
      }
      const error = outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
      if (attempt < maxAttempts) {
        onError(error, { id, name: job.name });
        throw error;
      }
      await giveUp(job, error);
      // The last attempt: fail now, even if stalled deliveries left BullMQ's failure count short.
      const last = new UnrecoverableError(error.message);
      last.stack = error.stack;
      throw last;
    };

    const bulls = names.map((name) => {
      const bull: BullWorker = new BullWorker(name, (job, token) => processJob(bull, job, token), {
        connection: this.connection,
        prefix: this.prefix,
        concurrency,
        lockDuration: this.lockDurationMs,
        skipLockRenewal: true,
        stalledInterval: this.stalledIntervalMs,
        // Crash loops are bounded by maxAttempts (attempts started), not by BullMQ's stall count.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        settings: { backoffStrategy: (attemptsMade: number) => this.backoff(attemptsMade) },
      });
      bull.on('error', (e) => reportInfra(e, `worker:${name}`));
      return bull;
    });

    let stopped: Promise<void> | undefined;
    const worker: Worker = {
      stop: (timeoutMs = 10_000) => {
        stopped ??= (async () => {
          // close() stops fetching and waits for the processors; meanwhile the grace period runs.
          const closed = Promise.allSettled(bulls.map((b) => b.close()));
          draining.abort(new Error('worker is shutting down'));
          if (!(await settlesWithin(closed, timeoutMs))) {
            for (const d of inFlight) d.abort.abort(new Error('worker shutdown deadline passed'));
            if (!(await settlesWithin(closed, 2_000))) {
              abandon();
              if (!(await settlesWithin(closed, 5_000))) await Promise.allSettled(bulls.map((b) => b.disconnect()));
            }
          }
          this.workers.delete(worker);
        })();
        return stopped;
      },
    };
    this.workers.add(worker);
    return worker;
  }

  /** Jobs of `names` by state: BullMQ's counters of each name's queue (prioritized jobs count as waiting). */
  async counts(names: readonly string[]): Promise<QueueCounts> {
    const out: QueueCounts = { waiting: 0, delayed: 0, active: 0 };
    for (const name of names) {
      const c = await this.queue(name).getJobCounts('wait', 'prioritized', 'delayed', 'active');
      out.waiting += (c.wait ?? 0) + (c.prioritized ?? 0);
      out.delayed += c.delayed ?? 0;
      out.active += c.active ?? 0;
    }
    return out;
  }

  /** Stops the workers still running (10 s grace) and closes the queues' connections. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers].map((w) => w.stop()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  private queue(name: string): Queue {
    assertName(name);
    if (this.closed) throw new Error('BullJobQueue is closed');
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: this.prefix });
      q.on(
        'error',
        throttle((e: unknown) =>
          this.log.warn({ err: e, queue: name }, `queue ${name}: ${(e as Error)?.message ?? e}`),
        ),
      );
      this.queues.set(name, q);
    }
    return q;
  }

  /** Renews the lock of a delivery every third of the lock duration until released. */
  private keepLock(job: Job, token: string): Delivery {
    const lost = () => new Error(`lock on job ${job.id} was lost`);
    const delivery: Delivery = {
      abort: new AbortController(),
      lockLost: false,
      renew: async () => {
        if (delivery.lockLost) throw lost();
        if ((await job.extendLock(token, this.lockDurationMs)) !== 1) {
          if (!delivery.lockLost) {
            delivery.lockLost = true;
            delivery.abort.abort(lost());
          }
          throw lost();
        }
      },
      release: () => clearInterval(timer),
    };
    // One renewal at a time: while Redis is unreachable, commands wait for the reconnect.
    let renewing = false;
    const timer = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        delivery
          .renew()
          .catch(() => {})
          .finally(() => {
            renewing = false;
          });
      },
      Math.max(50, Math.floor(this.lockDurationMs / 3)),
    );
    return delivery;
  }

  /** Same formula as the SQLite queue: exponential, capped, the upper half random. */
  private backoff(attemptsMade: number): number {
    const exp = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (Math.max(1, attemptsMade) - 1));
    return Math.round(exp / 2 + (exp / 2) * Math.random());
  }

  /**
   * Hands a job back: not counted as an attempt, first in line for the next worker. Only while
   * `token` holds the lock; a job whose lock is gone already belongs to the stalled-job check.
   * Two steps (BullMQ's move script cannot be extended): were the lock to expire between them,
   * which takes a whole lock duration, the stalled check would re-deliver the job with one
   * attempt fewer counted. Nothing runs twice either way.
   */
  private async handBack(bull: BullWorker, job: Job, token: string): Promise<void> {
    const client = await bull.backend.client;
    if (!(client as unknown as Record<string, unknown>)[UNCOUNT_COMMAND])
      client.defineCommand(UNCOUNT_COMMAND, { numberOfKeys: 2, lua: UNCOUNT_LUA });
    const jobKey = bull.toKey(job.id ?? '');
    const owned = await client.runCommand(UNCOUNT_COMMAND, [`${jobKey}:lock`, jobKey, token]);
    if (owned === 1) await job.moveToWait(token);
  }
}

function assertName(name: string): void {
  if (!name || name.includes(':'))
    throw new Error(
      `job name "${name}" cannot be used with BullMQ: it names a queue, so it must be non-empty without ":"`,
    );
}

/** Resolves true when `p` settles within `ms`, false otherwise. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Connection errors repeat while Redis is away: report each message once per 5 s. */
function throttle<A extends unknown[]>(report: (e: unknown, ...rest: A) => void) {
  const last = new Map<string, number>();
  return (e: unknown, ...rest: A) => {
    const key = `${e instanceof Error ? e.message : String(e)}|${rest.join('|')}`;
    const now = Date.now();
    if (now - (last.get(key) ?? 0) < 5_000) return;
    if (last.size > 100) last.clear();
    last.set(key, now);
    report(e, ...rest);
  };
}

/** A counting semaphore: the worker's concurrency, shared by its per-name BullMQ workers. */
class Slots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves true with a slot, or false when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = () => {
        signal.removeEventListener('abort', cancel);
        resolve(true);
      };
      const cancel = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      };
      this.waiters.push(grant);
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
