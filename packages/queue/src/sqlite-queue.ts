import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  type Clock,
  type EnqueueOptions,
  type JobHandler,
  type JobQueue,
  type Logger,
  newId,
  type QueueCounts,
  silentLogger,
  systemClock,
  type Worker,
  type WorkerOptions,
} from '@assay/core';
import { type Kysely, Migrator, sql } from 'kysely';

export interface SqliteQueueOptions {
  /** Lease length in ms; a worker that stops heartbeating loses its jobs after this. Default 15 000. */
  leaseMs?: number;
  /** Idle poll interval in ms, for jobs enqueued by other processes. Default 250. */
  pollMs?: number;
  /** First retry delay in ms; doubles per attempt, with jitter. Default 1 000. */
  retryBaseMs?: number;
  /** Longest retry delay in ms. Default 60 000. */
  retryMaxMs?: number;
  clock?: Clock;
  /**
   * Asked before every claim: while it returns false the worker claims nothing (the storage file
   * is gone or read-only, so a claimed job could not be recorded). Default: always true.
   */
  storageHealthy?: () => boolean;
  /** Where failed jobs are reported when `work()` is given no `onError`. Default: nowhere. */
  log?: Logger;
}

interface JobRow {
  id: string;
  name: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  lease_token: number;
}

const HOST = hostname();

const migrations = {
  '0001_jobs': {
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE assay_jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        payload TEXT NOT NULL,
        dedup_key TEXT,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        run_at INTEGER NOT NULL,
        locked_until INTEGER,
        lease_token INTEGER NOT NULL DEFAULT 0,
        locked_by TEXT,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`.execute(db);
      await sql`CREATE UNIQUE INDEX assay_jobs_dedup ON assay_jobs (dedup_key)
        WHERE dedup_key IS NOT NULL AND status IN ('queued', 'active')`.execute(db);
      await sql`CREATE INDEX assay_jobs_ready ON assay_jobs (status, run_at)`.execute(db);
    },
  },
};

/**
 * The embedded job queue: a lease table in the application's SQLite file.
 *
 * - claim is one atomic `UPDATE … RETURNING` (no two workers get the same job);
 * - a claimed job carries a lease (`locked_until`) that the worker extends by heartbeat;
 * - every claim bumps `lease_token`, the fencing token: completing, failing or heartbeating with
 *   an older token changes nothing, so a worker that lost its lease cannot clobber the new owner;
 * - failures retry with exponential backoff and jitter up to `maxAttempts`;
 * - a dedup key makes a second enqueue of unfinished work a no-op;
 * - `enqueue` can join the store's transaction, so a run row and its job commit together.
 */
export class SqliteJobQueue implements JobQueue {
  readonly kind = 'sqlite';
  readonly joinsTransactions = true;
  private readonly wake = new EventEmitter();
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly clock: Clock;
  private readonly storageHealthy: () => boolean;
  private readonly log: Logger;
  private readonly workerId = `${HOST}:${process.pid}:${newId('w')}`;

  constructor(
    private readonly db: Kysely<any>,
    opts: SqliteQueueOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 15_000;
    this.pollMs = opts.pollMs ?? 250;
    this.retryBaseMs = opts.retryBaseMs ?? 1_000;
    this.retryMaxMs = opts.retryMaxMs ?? 60_000;
    this.clock = opts.clock ?? systemClock;
    this.storageHealthy = opts.storageHealthy ?? (() => true);
    this.log = opts.log ?? silentLogger;
    this.wake.setMaxListeners(0);
  }

  async migrate(): Promise<void> {
    const { error } = await new Migrator({
      db: this.db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: 'assay_queue_migrations',
      migrationLockTableName: 'assay_queue_migrations_lock',
    }).migrateToLatest();
    if (error) throw new Error(`job queue migration failed: ${error instanceof Error ? error.message : error}`);
  }

  async enqueue(name: string, payload: unknown, opts: EnqueueOptions = {}) {
    const db = (opts.tx?.handle as Kysely<any> | undefined) ?? this.db;
    const now = this.clock.now();
    const id = newId('job');
    const r =
      await sql`INSERT INTO assay_jobs (id, name, payload, dedup_key, status, attempts, max_attempts, run_at, created_at, updated_at)
      VALUES (${id}, ${name}, ${JSON.stringify(payload ?? null)}, ${opts.dedupKey ?? null}, 'queued', 0,
              ${opts.maxAttempts ?? 5}, ${now + (opts.delayMs ?? 0)}, ${now}, ${now})
      ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND status IN ('queued', 'active') DO NOTHING`.execute(db);
    const inserted = Number(r.numAffectedRows ?? 0) > 0;
    if (!inserted) {
      const existing = await sql<{ id: string }>`SELECT id FROM assay_jobs WHERE dedup_key = ${opts.dedupKey}
        AND status IN ('queued', 'active')`.execute(db);
      queueMicrotask(() => this.wake.emit('job'));
      return { id: existing.rows[0]?.id ?? id, deduplicated: true };
    }
    queueMicrotask(() => this.wake.emit('job'));
    return { id, deduplicated: false };
  }

  /** Claims the next ready job (or one whose lease expired) for `names`, atomically. */
  async claim(names: string[]): Promise<JobRow | undefined> {
    const now = this.clock.now();
    const r = await sql<JobRow>`UPDATE assay_jobs
      SET status = 'active', attempts = attempts + 1, lease_token = lease_token + 1,
          locked_until = ${now + this.leaseMs}, locked_by = ${this.workerId}, updated_at = ${now}
      WHERE id = (
        SELECT id FROM assay_jobs
        WHERE name IN (${sql.join(names)})
          AND ((status = 'queued' AND run_at <= ${now}) OR (status = 'active' AND locked_until < ${now}))
        ORDER BY run_at, id LIMIT 1)
      RETURNING id, name, payload, attempts, max_attempts, lease_token`.execute(this.db);
    return r.rows[0];
  }

  /** Extends a lease; false when the token is stale (another worker owns the job now). */
  async extend(id: string, token: number): Promise<boolean> {
    const now = this.clock.now();
    const r = await sql`UPDATE assay_jobs SET locked_until = ${now + this.leaseMs}, updated_at = ${now}
      WHERE id = ${id} AND lease_token = ${token} AND status = 'active'`.execute(this.db);
    return Number(r.numAffectedRows) > 0;
  }

  async complete(id: string, token: number): Promise<boolean> {
    const r = await sql`DELETE FROM assay_jobs WHERE id = ${id} AND lease_token = ${token}`.execute(this.db);
    return Number(r.numAffectedRows) > 0;
  }

  /** Records a failure: reschedules with backoff, or marks the job failed after its last attempt. */
  async fail(job: JobRow, error: unknown): Promise<'retry' | 'failed' | 'stale'> {
    const now = this.clock.now();
    const message = error instanceof Error ? error.message : String(error);
    const last = job.attempts >= job.max_attempts;
    const exp = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (job.attempts - 1));
    const delay = Math.round(exp / 2 + (exp / 2) * this.clock.random());
    const r = await sql`UPDATE assay_jobs SET status = ${last ? 'failed' : 'queued'}, run_at = ${now + delay},
        locked_until = NULL, locked_by = NULL, last_error = ${message}, updated_at = ${now}
      WHERE id = ${job.id} AND lease_token = ${job.lease_token}`.execute(this.db);
    if (Number(r.numAffectedRows) === 0) return 'stale';
    if (!last) setTimeout(() => this.wake.emit('job'), delay + 5).unref();
    return last ? 'failed' : 'retry';
  }

  /** Hands a job back untouched (shutdown): ready at once, the attempt not counted. */
  async release(id: string, token: number): Promise<boolean> {
    const now = this.clock.now();
    const r = await sql`UPDATE assay_jobs SET status = 'queued', attempts = MAX(attempts - 1, 0), run_at = ${now},
        locked_until = NULL, locked_by = NULL, updated_at = ${now}
      WHERE id = ${id} AND lease_token = ${token} AND status = 'active'`.execute(this.db);
    return Number(r.numAffectedRows) > 0;
  }

  /**
   * Frees at once the jobs of workers on this host whose process is gone (`kill -9`), instead of
   * waiting for their lease to run out. Other hosts' jobs wait for lease expiry.
   */
  async reclaimDead(): Promise<number> {
    const rows = await sql<{ id: string; locked_by: string }>`SELECT id, locked_by FROM assay_jobs
      WHERE status = 'active' AND locked_by LIKE ${`${HOST}:%`}`.execute(this.db);
    let n = 0;
    for (const row of rows.rows) {
      const pid = Number(row.locked_by.split(':')[1]);
      if (pid === process.pid || !Number.isInteger(pid) || isAlive(pid)) continue;
      const r =
        await sql`UPDATE assay_jobs SET locked_until = 0 WHERE id = ${row.id} AND locked_by = ${row.locked_by}`.execute(
          this.db,
        );
      n += Number(r.numAffectedRows);
    }
    return n;
  }

  async stats(): Promise<Record<string, number>> {
    const r = await sql<{
      status: string;
      n: number;
    }>`SELECT status, count(*) AS n FROM assay_jobs GROUP BY status`.execute(this.db);
    return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
  }

  /** Jobs of `names` by state: one pass over the (status, run_at) index. */
  async counts(names: readonly string[]): Promise<QueueCounts> {
    const out: QueueCounts = { waiting: 0, delayed: 0, active: 0 };
    if (names.length === 0) return out;
    const now = this.clock.now();
    const r = await sql<{ state: keyof QueueCounts; n: number }>`SELECT
        CASE WHEN status = 'active' THEN 'active' WHEN run_at <= ${now} THEN 'waiting' ELSE 'delayed' END AS state,
        count(*) AS n
      FROM assay_jobs WHERE status IN ('queued', 'active') AND name IN (${sql.join([...names])})
      GROUP BY state`.execute(this.db);
    for (const row of r.rows) out[row.state] = Number(row.n);
    return out;
  }

  work(handlers: Record<string, JobHandler>, opts: WorkerOptions = {}): Worker {
    const names = Object.keys(handlers);
    const concurrency = opts.concurrency ?? 4;
    const onError =
      opts.onError ??
      ((e, job) => this.log.warn({ err: e, jobId: job.id, job: job.name }, `job ${job.name} ${job.id} failed`));
    const giveUp = async (job: JobRow, error: unknown) => {
      onError(error, { id: job.id, name: job.name });
      if (!opts.onGiveUp) return;
      const err = error instanceof Error ? error : new Error(String(error));
      const payload = JSON.parse(job.payload);
      await opts
        .onGiveUp({ id: job.id, name: job.name, payload, attempts: job.attempts, error: err })
        .catch((e) => onError(e, { id: job.id, name: `${job.name}:give-up` }));
    };
    const inFlight = new Map<string, { controller: AbortController; stopping: AbortController; done: Promise<void> }>();
    let stopping = false;
    let ticking = false;
    let again = false;
    let timer: NodeJS.Timeout | undefined;

    const runJob = async (job: JobRow, controller: AbortController, draining: AbortController) => {
      let leaseLost = false;
      const beat = async () => {
        if (!(await this.extend(job.id, job.lease_token))) {
          leaseLost = true;
          controller.abort(new Error(`lease on job ${job.id} was lost`));
          throw new Error(`lease on job ${job.id} was lost`);
        }
      };
      const hb = setInterval(() => beat().catch(() => {}), Math.max(50, Math.floor(this.leaseMs / 3)));
      try {
        await handlers[job.name]({
          id: job.id,
          name: job.name,
          payload: JSON.parse(job.payload),
          attempt: job.attempts,
          maxAttempts: job.max_attempts,
          signal: controller.signal,
          stopping: draining.signal,
          heartbeat: beat,
        });
        clearInterval(hb);
        if (!leaseLost) await this.complete(job.id, job.lease_token);
      } catch (error) {
        clearInterval(hb);
        if (leaseLost) return;
        if (stopping) {
          // A handler that gave up because of the shutdown hands its job back untouched.
          await this.release(job.id, job.lease_token);
          return;
        }
        const outcome = await this.fail(job, error);
        if (outcome === 'failed') await giveUp(job, error);
        else if (outcome === 'retry') onError(error, { id: job.id, name: job.name });
      }
    };

    const tick = async () => {
      if (ticking) {
        again = true;
        return;
      }
      ticking = true;
      try {
        do {
          again = false;
          // Paused while the storage is unavailable; the poll timer tries again.
          while (!stopping && inFlight.size < concurrency && this.storageHealthy()) {
            const job = await this.claim(names);
            if (!job) break;
            if (job.attempts > job.max_attempts) {
              const error = new Error(
                `job ${job.name} ${job.id} was started ${job.attempts - 1} times without finishing (its worker crashed or lost the lease each time)`,
              );
              if ((await this.fail(job, error)) === 'failed') await giveUp(job, error);
              continue;
            }
            const entry = {
              controller: new AbortController(),
              stopping: new AbortController(),
              done: Promise.resolve(),
            };
            entry.done = runJob(job, entry.controller, entry.stopping)
              .catch((e) => onError(e, { id: job.id, name: job.name }))
              .finally(() => {
                inFlight.delete(job.id);
                schedule(0);
              });
            inFlight.set(job.id, entry);
          }
        } while (again && !stopping);
      } catch (e) {
        onError(e, { id: '-', name: 'claim' });
      } finally {
        ticking = false;
        schedule(this.pollMs);
      }
    };
    const schedule = (ms: number) => {
      if (stopping) return;
      if (ms === 0) {
        void tick();
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(() => void tick(), ms);
    };
    const onJob = () => schedule(0);
    this.wake.on('job', onJob);
    void this.reclaimDead()
      .catch(() => 0)
      .then(() => schedule(0));

    return {
      stop: async (timeoutMs = 10_000) => {
        stopping = true;
        clearTimeout(timer);
        this.wake.off('job', onJob);
        const entries = [...inFlight.values()];
        const all = Promise.all(entries.map((e) => e.done));
        // First a grace period: handlers finish what is in flight and hand their jobs back.
        for (const e of entries) e.stopping.abort(new Error('worker is shutting down'));
        let grace: NodeJS.Timeout | undefined;
        const deadline = new Promise((r) => {
          grace = setTimeout(r, timeoutMs);
        });
        await Promise.race([all, deadline]);
        clearTimeout(grace);
        // Then a hard stop for whatever is left; its jobs are released too.
        for (const e of entries) e.controller.abort(new Error('worker shutdown deadline passed'));
        await Promise.race([all, new Promise((r) => setTimeout(r, 2_000).unref())]);
      },
    };
  }

  async close(): Promise<void> {}
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
