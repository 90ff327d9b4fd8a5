import { type JobQueue, type Logger, type Storage, silentLogger } from '../ports.js';
import { RUN_JOB, RUN_JOB_MAX_ATTEMPTS, type RunJobPayload } from './run-job.js';

export interface SweeperDeps {
  storage: Pick<Storage, 'listActiveRunIds'>;
  queue: Pick<JobQueue, 'enqueue'>;
  /** How often every active run is checked, ms. Default 10 000. */
  intervalMs?: number;
  /** Where a failed pass is reported. Default: nowhere. */
  log?: Logger;
}

/** Active runs looked at per storage query. */
const PAGE = 500;

/**
 * The liveness invariant's last line: every `pending` or `running` run has a live job. A run can
 * lose its job — the run row and a Redis job cannot commit together, Redis may restart without
 * persistence, a job's lease may run out while the items it held were still leased, the last
 * execution may stop while another process's lease on an item had not yet expired — so every
 * `intervalMs` the sweeper enqueues each active run's plan job again. Job dedup makes that a
 * no-op for runs whose job exists; otherwise the plan job (idempotent) re-enqueues its execution
 * jobs, which claim what is left (expired leases included), fail items lost too often with
 * `WORKER_LOST`, and finalize the run. So a run whose worker stalled or died reaches a final state
 * within about one item lease plus one interval.
 */
export function createSweeper(deps: SweeperDeps) {
  const log = deps.log ?? silentLogger;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;

  async function pass(): Promise<number> {
    let swept = 0;
    let after: string | undefined;
    for (;;) {
      const ids = await deps.storage.listActiveRunIds(PAGE, after);
      for (const runId of ids) {
        await deps.queue.enqueue(RUN_JOB, { runId } satisfies RunJobPayload, {
          dedupKey: `run:${runId}`,
          maxAttempts: RUN_JOB_MAX_ATTEMPTS,
        });
        swept++;
      }
      if (ids.length < PAGE) return swept;
      after = ids[ids.length - 1];
    }
  }

  /** One pass over the active runs (concurrent calls share it); resolves with how many it looked at. */
  const sweep = () =>
    (running ??= pass().finally(() => {
      running = null;
    }));

  return {
    sweep,
    start() {
      // The first failure is a warning; later passes (every interval) only at debug, not to flood.
      void sweep().catch((err) => log.warn({ err }, 'sweeper: a pass over the active runs failed'));
      timer = setInterval(
        () => void sweep().catch((err) => log.debug({ err }, 'sweeper: a pass over the active runs failed')),
        deps.intervalMs ?? 10_000,
      );
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
