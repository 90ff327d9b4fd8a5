// The adapters the JobQueue contract runs against, each with the few adapter-specific hooks the
// contract needs to observe a job from outside (its state) and to simulate a lost lock.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobHandler, JobQueue, Worker, WorkerOptions } from '@assay/core';
import { openSqlite } from '@assay/store';
import { deleteKeys, REDIS_URL, redisAvailable, redisClient, type ServiceCheck } from '@assay/testkit/services';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { BullJobQueue } from '../src/redis.js';
import { openQueue, type QueueConfig, type Tuning } from './open-queue.js';

export type { Tuning };

/** A job seen from outside: waiting/delayed/running, given up, or finished and gone. */
export type JobState = 'pending' | 'failed' | 'done';

/** One isolated queue namespace (a SQLite file, a Redis key prefix) for one test. */
export interface QueueSpace {
  /** A queue on this namespace with a connection of its own, as another process would have. */
  open(tuning?: Partial<Tuning>): Promise<JobQueue>;
  /** Starts a worker that is stopped when the space is disposed, even if the test failed. */
  work(queue: JobQueue, handlers: Record<string, JobHandler>, opts?: WorkerOptions): Worker;
  /** The config a child process (queue-worker.ts) opens the same namespace with. */
  config(tuning?: Partial<Tuning>): QueueConfig;
  state(name: string, id: string): Promise<JobState>;
  /** Gives the job's lock to someone else, as when another worker took the job over. */
  stealLock(name: string, id: string): Promise<void>;
  dispose(): Promise<void>;
}

export interface AdapterHarness {
  name: string;
  /** A service the adapter needs, checked once per test file. */
  requires?: () => Promise<ServiceCheck>;
  space(): Promise<QueueSpace>;
  /** Removes what the whole test file left behind. */
  disposeAll(): Promise<void>;
}

const DEFAULT_TUNING: Tuning = { lockMs: 2_000, retryBaseMs: 40 };

/** Opens queues and workers on `base`, remembering them so dispose() releases them all. */
function spaceOn(
  base: (tuning: Tuning) => QueueConfig,
  hooks: Pick<QueueSpace, 'state' | 'stealLock'> & { cleanup(): Promise<void> },
): QueueSpace {
  const closers: (() => Promise<void>)[] = [];
  const workers: Worker[] = [];
  const config = (tuning: Partial<Tuning> = {}) => base({ ...DEFAULT_TUNING, ...tuning });
  return {
    config,
    async open(tuning) {
      const { queue, close } = await openQueue(config(tuning));
      closers.push(close);
      return queue;
    },
    work(queue, handlers, opts) {
      const worker = queue.work(handlers, opts);
      workers.push(worker);
      return worker;
    },
    state: hooks.state,
    stealLock: hooks.stealLock,
    async dispose() {
      await Promise.all(workers.splice(0).map((w) => w.stop(0)));
      for (const close of closers.splice(0)) await close();
      await hooks.cleanup();
    },
  };
}

const sqliteHarness: AdapterHarness = {
  name: 'sqlite',
  async space() {
    const dir = mkdtempSync(join(tmpdir(), 'assay-queue-contract-'));
    const file = join(dir, 'queue.db');
    // The test's own connection, for looking at rows.
    const { db } = openSqlite({ file, synchronous: 'NORMAL' });
    return spaceOn((tuning) => ({ adapter: 'sqlite', file, ...tuning }), {
      async state(_name, id) {
        const r = await sql<{ status: string }>`SELECT status FROM assay_jobs WHERE id = ${id}`.execute(db);
        const status = r.rows[0]?.status;
        return status === undefined ? 'done' : status === 'failed' ? 'failed' : 'pending';
      },
      async stealLock(_name, id) {
        await sql`UPDATE assay_jobs SET lease_token = lease_token + 1 WHERE id = ${id}`.execute(db);
      },
      async cleanup() {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
  async disposeAll() {},
};

/** Every key this test file writes starts with this, so afterAll can remove them all. */
const FILE_PREFIX = `assay-test-queue-${randomBytes(4).toString('hex')}`;
let spaces = 0;

const bullmqHarness: AdapterHarness = {
  name: 'bullmq',
  requires: () => redisAvailable(REDIS_URL),
  async space() {
    const prefix = `${FILE_PREFIX}-${++spaces}`;
    const connection = { ...BullJobQueue.parseRedisUrl(REDIS_URL), maxRetriesPerRequest: null };
    const inspectors = new Map<string, Queue>();
    const inspector = (name: string) => {
      let q = inspectors.get(name);
      if (!q) {
        q = new Queue(name, { connection, prefix });
        inspectors.set(name, q);
      }
      return q;
    };
    return spaceOn((tuning) => ({ adapter: 'bullmq', url: REDIS_URL, prefix, ...tuning }), {
      async state(name, id) {
        const state = await inspector(name).getJobState(id);
        // Completed jobs are removed at once (removeOnComplete), so "unknown" means finished.
        return state === 'unknown' || state === 'completed' ? 'done' : state === 'failed' ? 'failed' : 'pending';
      },
      async stealLock(name, id) {
        const client = redisClient(REDIS_URL);
        await client.connect();
        try {
          await client.set(`${prefix}:${name}:${id}:lock`, 'another-worker', 'PX', 60_000);
        } finally {
          client.disconnect();
        }
      },
      async cleanup() {
        await Promise.all([...inspectors.values()].map((q) => q.close()));
        await deleteKeys(`${prefix}:`);
      },
    });
  },
  async disposeAll() {
    await deleteKeys(FILE_PREFIX);
  },
};

/** Every adapter, or those named in `ASSAY_TEST_QUEUE_ADAPTERS` (comma-separated), e.g. `sqlite`. */
export const ADAPTERS: AdapterHarness[] = [sqliteHarness, bullmqHarness].filter(
  (a) => !process.env.ASSAY_TEST_QUEUE_ADAPTERS || process.env.ASSAY_TEST_QUEUE_ADAPTERS.split(',').includes(a.name),
);
