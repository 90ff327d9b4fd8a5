import { join } from 'node:path';
import {
  type AssayConfig,
  type Clock,
  createMemoryEventBus,
  createRegistry,
  createRunJobHandler,
  createRunService,
  RUN_JOB,
  systemClock,
  type Worker,
  type WriterOptions,
} from '@assay/core';
import { SqliteJobQueue } from '@assay/queue';
import { openSqlite, SqlStorage, sqliteAdapter } from '@assay/store';
import { createApp } from './app.js';

export interface AssayOptions {
  config: AssayConfig;
  /** Folder of the SQLite file (`assay.db`). Default `./.assay`. */
  dataDir?: string;
  /** Run the worker in this process. Default true. */
  worker?: boolean;
  /** Runs executed at once by this worker (each with its own maxConcurrency). Default 8. */
  workerConcurrency?: number;
  /** Job lease in ms: how soon another worker takes over after a crash. Default 15 000. */
  leaseMs?: number;
  /** Queue poll interval in ms (jobs enqueued by other processes). Default 250. */
  pollMs?: number;
  /** First retry delay of a retryable target error in ms. Default 500. */
  retryBaseMs?: number;
  /** First retry delay of a failed run job in ms. Default 1 000. */
  jobRetryBaseMs?: number;
  /** How often a running run checks for a cancel request made by another process, in ms. Default 250. */
  cancelPollMs?: number;
  apiKey?: string;
  synchronous?: 'FULL' | 'NORMAL';
  writer?: WriterOptions;
  clock?: Clock;
  log?: (message: string) => void;
}

export const VERSION = '0.1.0';

/**
 * Wires the embedded deployment: one SQLite file for storage and the job queue, an in-process
 * event bus, the HTTP app and (unless disabled) a worker.
 */
export async function createAssay(opts: AssayOptions) {
  const dataDir = opts.dataDir ?? '.assay';
  const clock = opts.clock ?? systemClock;
  const { db } = openSqlite({ file: join(dataDir, 'assay.db'), synchronous: opts.synchronous });
  const storage = new SqlStorage(db, sqliteAdapter);
  const queue = new SqliteJobQueue(db, {
    leaseMs: opts.leaseMs,
    pollMs: opts.pollMs,
    retryBaseMs: opts.jobRetryBaseMs,
    clock,
  });
  await storage.migrate();
  await queue.migrate();
  const registry = createRegistry(opts.config);
  const events = createMemoryEventBus();
  const runs = createRunService({ storage, queue, registry, events });
  const withWorker = opts.worker ?? true;
  const app = createApp({
    storage,
    registry,
    runs,
    events,
    apiKey: opts.apiKey,
    info: { storage: storage.dialect, queue: queue.kind, worker: withWorker, version: VERSION },
  });
  let worker: Worker | null = null;
  if (withWorker) {
    const handler = createRunJobHandler({
      storage,
      registry,
      events,
      clock,
      retryBaseMs: opts.retryBaseMs,
      writer: opts.writer,
      log: opts.log,
    });
    worker = queue.work({ [RUN_JOB]: handler }, { concurrency: opts.workerConcurrency ?? 8 });
  }
  return {
    app,
    storage,
    queue,
    registry,
    events,
    runs,
    /**
     * Graceful stop: the worker claims nothing new, lets in-flight items finish for up to
     * `timeoutMs`, aborts and hands back the rest (the next start resumes them), then the
     * database is closed.
     */
    async close(timeoutMs = 10_000) {
      await worker?.stop(timeoutMs);
      await queue.close();
      await storage.close();
    },
  };
}
export type Assay = Awaited<ReturnType<typeof createAssay>>;
