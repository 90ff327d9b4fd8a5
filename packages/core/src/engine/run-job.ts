import { hostname } from 'node:os';
import { isTruncated } from '@assay/contract';
import type { Scorer, Target } from '../config.js';
import { newId } from '../ids.js';
import {
  type Clock,
  type EventBus,
  type GivenUpJob,
  type JobContext,
  type JobQueue,
  noopMetrics,
  type RunPatch,
  type Storage,
  silentLogger,
} from '../ports.js';
import { FINAL_RUN_STATUSES, type Run, type RunSummary } from '../types.js';
import { summarizeWithCache } from './cache.js';
import { type ExecutorDeps, executeRun } from './executor.js';
import { IsolationGate } from './isolation.js';
import { createLocalLimiter } from './limits.js';
import type { Registry } from './registry.js';

/** Plans a run (pins items), then fans out its execution jobs. */
export const RUN_JOB = 'run';
/** Executes one slot of a run: claims and runs items until none is left. */
export const RUN_EXEC_JOB = 'run.exec';
export interface RunJobPayload {
  runId: string;
}
/**
 * Deliveries of a run job before it is given up and the run fails. Generous: a worker crash
 * (`kill -9`, OOM, a host going away) uses one up, and each delivery resumes where the last
 * stopped; a handler error (the database unreachable) retries with backoff, up to ~20 minutes.
 */
export const RUN_JOB_MAX_ATTEMPTS = 25;

/**
 * Items slot `slot` of `slots` keeps in flight: `maxConcurrency` split so that the slots together
 * never exceed it (10 over 4 slots: 3, 3, 2, 2). At least 1.
 */
export function slotConcurrency(maxConcurrency: number, slots: number, slot: number): number {
  const n = Math.max(1, Math.min(slots, maxConcurrency));
  return Math.max(1, Math.floor(maxConcurrency / n) + (slot % n < maxConcurrency % n ? 1 : 0));
}

export interface RunExecPayload {
  runId: string;
  slot: number;
  /** How many slots the planner created for this run (older jobs lack it: the worker's own count). */
  slots?: number;
}

export interface RunJobDeps extends ExecutorDeps {
  storage: Storage;
  queue: JobQueue;
  registry: Registry;
  events: EventBus;
  clock: Clock;
  /** Execution jobs per run: how many workers can share one run. Default 1 (embedded). */
  slotsPerRun?: number;
  /** Lease of claimed items in ms (how soon another worker takes over a dead worker's items). Default 15 000. */
  itemLeaseMs?: number;
  /** How often a running run's row is checked for a cancel request, in ms. Default 250. */
  cancelPollMs?: number;
  /** Run-item rows created per planner transaction. Default 1 000. */
  planPageSize?: number;
  /** This process's worker id; default `host:pid:random`. */
  workerId?: string;
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();
const HOST = hostname();

/** A worker id names its host and pid, so a restarted process on the same host can tell the dead ones. */
export const newWorkerId = () => `${HOST}:${process.pid}:${newId('w').slice(-6)}`;

/** True for a worker id of a process on this host that no longer exists. */
export function isDeadLocalWorker(workerId: string): boolean {
  const [host, pidText] = workerId.split(':');
  const pid = Number(pidText);
  if (host !== HOST || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Final status of a finished run: `failed` only when every item failed. */
export function finalStatus(summary: RunSummary): { status: 'completed' | 'failed'; error: string | null } {
  if (summary.total > 0 && summary.failed === summary.total) {
    return { status: 'failed', error: `all ${summary.total} items failed` };
  }
  return { status: 'completed', error: null };
}

/**
 * The job handlers of a run. `run` plans it (pins the version, creates run-item rows page by
 * page) and enqueues `slotsPerRun` × `run.exec`; each `run.exec` claims items until none is left
 * and the last one to finish finalizes. Every step is idempotent and rebuilt from the database, so
 * any worker can pick any run up after a crash, and a re-enqueued job is harmless.
 */
export function createRunJobHandlers(deps: RunJobDeps) {
  const limiter = deps.limiter ?? createLocalLimiter();
  const { storage, events, clock, queue } = deps;
  const slots = Math.max(1, deps.slotsPerRun ?? 1);
  // One per process: a suspect item runs alone among all the runs this process executes.
  const isolation = deps.isolation ?? new IsolationGate();
  const workerId = deps.workerId ?? newWorkerId();
  const log = deps.log ?? silentLogger;
  const metrics = deps.metrics ?? noopMetrics;
  const runLog = (run: Run) => log.child({ runId: run.id });

  /** The line of a run that ended (a final status is logged once: by whoever set it). */
  const ended = (run: Run, status: Run['status'], summary: RunSummary, error: string | null) => {
    const { total, succeeded, failed, skipped, cancelled } = summary;
    const fields = { datasetId: run.datasetId, status, total, succeeded, failed, skipped, cancelled };
    if (status === 'failed') runLog(run).warn({ ...fields, error }, `run failed: ${error}`);
    else runLog(run).info(fields, `run ${status}`);
  };

  const setStatus = async (run: Run, status: Run['status'], patch: RunPatch = {}, ifStatus?: Run['status'][]) => {
    const changed = await storage.updateRun(run.id, { status, ...patch }, ifStatus);
    if (changed)
      events.publish({
        type: 'run.status',
        runId: run.id,
        datasetId: run.datasetId,
        status,
        error: patch.error ?? null,
      });
    return changed;
  };

  /** Ends a run: remaining items closed as `close`, summary from the stored rows. Only a live run changes. */
  const finish = async (run: Run, status: Run['status'], error: string | null, close?: 'cancelled' | 'skipped') => {
    if (close) await storage.closePendingItems(run.id, close);
    const summary = await summarizeWithCache(storage, run);
    if (await setStatus(run, status, { summary, error, completedAt: iso(clock) }, ['pending', 'running']))
      ended(run, status, summary, error);
  };

  const resolve = async (run: Run): Promise<{ target: Target; scorers: Scorer[] } | null> => {
    const target = deps.registry.targets.get(run.targetId);
    const missing = run.scorerIds.filter((id) => !deps.registry.scorers.has(id));
    if (target && !missing.length) {
      return { target, scorers: run.scorerIds.map((id) => deps.registry.scorers.get(id)!) };
    }
    const what = !target ? `target '${run.targetId}'` : `scorer '${missing[0]}'`;
    await finish(run, 'failed', `cannot run: ${what} is not configured in this worker's config`, 'skipped');
    return null;
  };

  /** A job the queue gave up on (last attempt threw, or crashed its worker every time) ends its run. */
  async function onGiveUp(job: GivenUpJob): Promise<void> {
    if (job.name !== RUN_JOB && job.name !== RUN_EXEC_JOB) return;
    const run = await storage.getRun((job.payload as RunJobPayload).runId);
    if (!run || FINAL_RUN_STATUSES.includes(run.status)) return;
    runLog(run).error(
      { err: job.error, job: job.name, jobId: job.id, attempts: job.attempts },
      `run job given up after ${job.attempts} attempts`,
    );
    await finish(
      run,
      'failed',
      `run could not be executed after ${job.attempts} attempts: ${job.error.message}`,
      'skipped',
    );
  }

  async function plan(job: JobContext): Promise<void> {
    const { runId } = job.payload as RunJobPayload;
    const run = await storage.getRun(runId);
    if (!run || FINAL_RUN_STATUSES.includes(run.status)) return;
    if (run.cancelRequestedAt) return finish(run, 'cancelled', null, 'cancelled');
    if (!(await resolve(run))) return;
    if (run.status === 'pending') {
      if (!(await setStatus(run, 'running', { startedAt: iso(clock) }, ['pending']))) return;
      runLog(run).info(
        {
          datasetId: run.datasetId,
          datasetVersion: run.datasetVersion,
          targetId: run.targetId,
          scorerIds: run.scorerIds,
        },
        'run started',
      );
    } else if (job.attempt > 1) runLog(run).info({ attempt: job.attempt }, 'run resumed');
    // Execution starts once the first page is planned: items are claimed while the rest is planned.
    const startExecution = async () => {
      // Never more slots than items may be in flight: each slot keeps at least one.
      const n = Math.min(slots, run.options.maxConcurrency);
      for (let slot = 0; slot < n; slot++) {
        const payload: RunExecPayload = { runId, slot, slots: n };
        await queue.enqueue(RUN_EXEC_JOB, payload, {
          dedupKey: `exec:${runId}:${slot}`,
          maxAttempts: RUN_JOB_MAX_ATTEMPTS,
        });
      }
    };
    if (!run.plannedAt) {
      const pageSize = deps.planPageSize ?? 1000;
      let cursor: string | null = '';
      for (let page = 0; cursor !== null; page++) {
        if (job.signal.aborted) throw job.signal.reason;
        if (job.stopping.aborted) throw job.stopping.reason;
        // A small first page, so the first results come at once even for a huge dataset.
        const size = page === 0 ? Math.min(100, pageSize) : pageSize;
        ({ cursor } = await storage.planRunItems(run.id, cursor, size));
        if (page === 0) await startExecution();
        // SQLite writes are synchronous: let timers, requests and heartbeats in between pages.
        await new Promise((r) => setImmediate(r));
      }
      const total = (await storage.countItems(run.datasetId, run.datasetVersion)) * run.options.repetitions;
      await storage.updateRun(run.id, { plannedAt: iso(clock), totalItems: total });
      runLog(run).info({ totalItems: total }, 'run planned');
    }
    await startExecution(); // again after a crash, or when the first enqueue was lost (a no-op otherwise)
  }

  async function execute(job: JobContext): Promise<void> {
    const { runId, slot, slots: planned } = job.payload as RunExecPayload;
    let run = await storage.getRun(runId);
    if (!run || FINAL_RUN_STATUSES.includes(run.status)) return;
    if (run.cancelRequestedAt) return finish(run, 'cancelled', null, 'cancelled');
    const resolved = await resolve(run);
    if (!resolved) return;
    const current = run;

    // Cancel arrives as an in-process event (embedded) or is seen by polling the run row.
    const cancel = new AbortController();
    const onCancel = () => cancel.abort(new Error('run cancelled'));
    const unsubscribe = events.subscribe(runId, (e) => e.type === 'run.cancel' && onCancel());
    const poll = setInterval(() => {
      storage
        .getRun(runId)
        .then((r) => (r?.cancelRequestedAt || (r && FINAL_RUN_STATUSES.includes(r.status))) && onCancel())
        .catch(() => {});
    }, deps.cancelPollMs ?? 250);
    try {
      for (;;) {
        const result = await executeRun(
          { ...deps, limiter, isolation },
          {
            run,
            workerId: `${workerId}#${slot}`,
            concurrency: slotConcurrency(run.options.maxConcurrency, planned ?? slots, slot),
            leaseMs: deps.itemLeaseMs,
            target: resolved.target,
            scorers: resolved.scorers,
            signal: AbortSignal.any([job.signal, cancel.signal]),
            stopping: job.stopping,
            onProgress: (c) =>
              events.publish({
                type: 'run.progress',
                runId,
                datasetId: current.datasetId,
                succeeded: c.succeeded,
                failed: c.failed,
                total: current.totalItems,
              }),
          },
        );
        if (job.signal.aborted) throw job.signal.reason;
        if (!cancel.signal.aborted && result.stopped !== 'circuit' && !run.plannedAt) {
          // The planner is still creating run items: wait for more of them.
          run = (await storage.getRun(runId)) ?? run;
          if (!run.plannedAt) {
            if (job.stopping.aborted) throw new Error('worker is shutting down while the run is being planned');
            await clock.sleep(20, cancel.signal).catch(() => {});
          }
          continue;
        }
        if (cancel.signal.aborted) {
          const latest = await storage.getRun(runId);
          if (latest?.cancelRequestedAt) return finish(run, 'cancelled', null, 'cancelled');
          return; // finalized by another slot
        }
        if (result.stopped === 'circuit') {
          const reason =
            `circuit breaker: ${result.consecutiveFailures} items in a row failed on target '${run.targetId}'; ` +
            `remaining items skipped. Last error: ${result.lastError?.message}`;
          return finish(run, 'failed', reason, 'skipped');
        }
        const unfinished = await storage.countUnfinished(runId);
        if (job.stopping.aborted) {
          if (unfinished > 0)
            throw new Error('worker is shutting down; the run is handed back with its unfinished items');
        } else if (unfinished > 0) {
          // Other executions hold the rest. Items of a dead process on this host are freed now,
          // instead of when their lease runs out; otherwise the holder finishes and finalizes.
          const dead = (await storage.listClaimOwners(runId)).filter(isDeadLocalWorker);
          if (dead.length === 0) return;
          for (const w of dead) {
            const lost = await storage.releaseClaims(runId, w, true);
            metrics.claimsLost(lost);
            runLog(run).warn({ deadWorker: w, items: lost }, 'claims of a dead worker on this host handed back');
          }
          run = (await storage.getRun(runId)) ?? run;
          continue;
        }
        return await finalize(run);
      }
    } finally {
      clearInterval(poll);
      unsubscribe();
    }
  }

  async function finalize(run: Run) {
    const summary = await summarizeWithCache(storage, run);
    const { status, error } = finalStatus(summary);
    let message = error;
    if (status === 'failed') {
      // The run's error quotes the first item error, cut short: it travels with every run read.
      const bounds = { budgetBytes: 4096, maxFieldBytes: 4096, previewChars: 500 };
      const first = await storage.listResults(run.id, { page: 0, perPage: 1, status: 'failed', bounds });
      const text = first.rows[0]?.error?.message as unknown;
      const quoted = isTruncated(text)
        ? `${text.preview}… (${text.bytes} bytes)`
        : typeof text === 'string'
          ? text
          : null;
      if (quoted !== null)
        message = `${error}; first error: ${quoted.length > 500 ? `${quoted.slice(0, 500)}…` : quoted}`;
    }
    if (await setStatus(run, status, { summary, error: message, completedAt: iso(clock) }, ['running']))
      ended(run, status, summary, message);
  }

  return { handlers: { [RUN_JOB]: plan, [RUN_EXEC_JOB]: execute }, onGiveUp, workerId };
}
