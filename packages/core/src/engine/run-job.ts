import type { Scorer } from '../config.js';
import type { Clock, EventBus, JobContext, Storage } from '../ports.js';
import { FINAL_RUN_STATUSES, type Run, type RunSummary } from '../types.js';
import { type ExecutorDeps, executeRun } from './executor.js';
import type { Registry } from './registry.js';
import { Semaphore } from './semaphore.js';

export const RUN_JOB = 'run';
export interface RunJobPayload {
  runId: string;
}

export interface RunJobDeps extends Omit<ExecutorDeps, 'targetLimits'> {
  storage: Storage;
  registry: Registry;
  events: EventBus;
  clock: Clock;
  /** How often a running run's row is checked for a cancel request, in ms. Default 250. */
  cancelPollMs?: number;
  /** Run-item rows created per planner transaction. Default 1 000. */
  planPageSize?: number;
  log?: (message: string) => void;
}

const iso = (clock: Clock) => new Date(clock.now()).toISOString();

/** Final status of a finished run: `failed` only when every item failed. */
export function finalStatus(summary: RunSummary): { status: 'completed' | 'failed'; error: string | null } {
  if (summary.total > 0 && summary.failed === summary.total) {
    return { status: 'failed', error: `all ${summary.total} items failed` };
  }
  return { status: 'completed', error: null };
}

/**
 * The handler of a run's job: plan (pin version, create run-item rows page by page), execute
 * (pending items only, so a re-delivered job resumes where the last owner stopped), finalize.
 * Every step is idempotent and rebuilt from the database, so any worker can pick any run up.
 */
export function createRunJobHandler(deps: RunJobDeps) {
  const targetLimits = new Map<string, Semaphore>();
  for (const t of deps.registry.targets.values()) {
    if (t.maxConcurrency) targetLimits.set(t.id, new Semaphore(t.maxConcurrency));
  }
  const { storage, events, clock } = deps;

  const setStatus = async (run: Run, status: Run['status'], extra: Parameters<Storage['updateRun']>[1] = {}) => {
    await storage.updateRun(run.id, { status, ...extra });
    events.publish({ type: 'run.status', runId: run.id, datasetId: run.datasetId, status, error: extra.error ?? null });
  };

  const failRun = async (run: Run, error: string) => {
    const summary = await storage.summarizeRun(run.id);
    await setStatus(run, 'failed', { error, summary, completedAt: iso(clock) });
  };

  /** Ends a run whose executor stopped: remaining items closed, summary from the stored rows. */
  const finish = async (run: Run, status: Run['status'], error: string | null, close?: 'cancelled' | 'skipped') => {
    if (close) await storage.closePendingItems(run.id, close);
    const summary = await storage.summarizeRun(run.id);
    await setStatus(run, status, { summary, error, completedAt: iso(clock) });
  };

  return async function handleRunJob(job: JobContext): Promise<void> {
    const { runId } = job.payload as RunJobPayload;
    let run = await storage.getRun(runId);
    if (!run || FINAL_RUN_STATUSES.includes(run.status)) return;
    if (run.cancelRequestedAt) return finish(run, 'cancelled', null, 'cancelled');

    const target = deps.registry.targets.get(run.targetId);
    const missingScorers = run.scorerIds.filter((id) => !deps.registry.scorers.has(id));
    if (!target || missingScorers.length) {
      const what = !target ? `target '${run.targetId}'` : `scorer '${missingScorers[0]}'`;
      await failRun(run, `cannot start: ${what} is not configured in this worker's config`);
      return;
    }
    const scorers = run.scorerIds.map((id) => deps.registry.scorers.get(id)) as Scorer[];

    // Cancel arrives as an in-process event (embedded) or is seen by polling the run row.
    const cancel = new AbortController();
    const onCancel = () => cancel.abort(new Error('run cancelled'));
    const unsubscribe = events.subscribe(runId, (e) => e.type === 'run.cancel' && onCancel());
    const poll = setInterval(() => {
      storage
        .getRun(runId)
        .then((r) => r?.cancelRequestedAt && onCancel())
        .catch(() => {});
    }, deps.cancelPollMs ?? 250);
    try {
      if (run.status === 'pending') {
        const started = await storage.updateRun(run.id, { status: 'running', startedAt: iso(clock) }, ['pending']);
        if (!started) return; // cancelled meanwhile
        events.publish({ type: 'run.status', runId: run.id, datasetId: run.datasetId, status: 'running' });
      }
      if (!run.plannedAt) {
        let cursor: string | null = '';
        while (cursor !== null) {
          if (job.signal.aborted) throw job.signal.reason;
          if (job.stopping.aborted) throw job.stopping.reason;
          ({ cursor } = await storage.planRunItems(run.id, cursor, deps.planPageSize ?? 1000));
        }
        const total = (await storage.countItems(run.datasetId, run.datasetVersion)) * run.options.repetitions;
        await storage.updateRun(run.id, { plannedAt: iso(clock), totalItems: total });
      }
      run = (await storage.getRun(run.id))!;
      const current = run;
      const fence = await storage.acquireRun(run.id);
      const result = await executeRun(
        { ...deps, targetLimits },
        {
          run,
          fence,
          target,
          scorers,
          signal: AbortSignal.any([job.signal, cancel.signal]),
          stopping: job.stopping,
          onProgress: (c) =>
            events.publish({
              type: 'run.progress',
              runId: current.id,
              datasetId: current.datasetId,
              succeeded: c.succeeded,
              failed: c.failed,
              total: current.totalItems,
            }),
        },
      );
      if (job.signal.aborted) throw job.signal.reason;
      if (cancel.signal.aborted) return finish(run, 'cancelled', null, 'cancelled');
      if (result.stopped === 'circuit') {
        const reason =
          `circuit breaker: ${result.consecutiveFailures} items in a row failed on target '${target.id}'; ` +
          `remaining items skipped. Last error: ${result.lastError?.message}`;
        return finish(run, 'failed', reason, 'skipped');
      }
      if (job.stopping.aborted && (await storage.listPendingWork(run.id, null, 1)).length > 0) {
        throw new Error('worker is shutting down; the run is handed back with its pending items');
      }
      const summary = await storage.summarizeRun(run.id);
      const { status, error } = finalStatus(summary);
      let message = error;
      if (status === 'failed') {
        const first = await storage.listResults(run.id, { page: 0, perPage: 1, status: 'failed' });
        const e = first.rows[0]?.error;
        if (e) message = `${error}; first error: ${e.message}`;
      }
      await setStatus(run, status, { summary, error: message, completedAt: iso(clock) });
    } catch (e) {
      // On the queue's last delivery the run must still end in a final state, with the reason.
      if (!job.signal.aborted && !job.stopping.aborted && job.attempt >= job.maxAttempts) {
        await failRun(run, `run could not be executed: ${e instanceof Error ? e.message : String(e)}`).catch(() => {});
        return;
      }
      throw e;
    } finally {
      clearInterval(poll);
      unsubscribe();
    }
  };
}
