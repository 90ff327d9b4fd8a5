import { canonicalHash } from '../canonical.js';
import type { Target } from '../config.js';
import { AssayError, conflict, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { type EventBus, type JobQueue, type Logger, type Storage, type StorageTx, silentLogger } from '../ports.js';
import { RUN_DEFAULTS, type TriggerRunInput } from '../schemas.js';
import type { RescoreRunInput } from '../types.js';
import { FINAL_RUN_STATUSES, type Run } from '../types.js';
import { resolveCacheMode, summarizeWithCache } from './cache.js';
import type { Registry } from './registry.js';
import { RUN_JOB, RUN_JOB_MAX_ATTEMPTS, type RunJobPayload } from './run-job.js';
import { versionOf } from './versions.js';

export interface RunServiceDeps {
  storage: Storage;
  queue: JobQueue;
  registry: Registry;
  events: EventBus;
  /** Where triggers, cancels and a failed enqueue are logged. Default: nowhere. */
  log?: Logger;
}

/** A stable hash of a trigger body, insensitive to key order. */
const hashOf = canonicalHash;

/**
 * The cache options of a new run: its mode, and a notice when the cache it asked for (or its
 * target's default) cannot be used. Nothing when neither asked for a cache.
 */
function cacheOptions(
  target: Target,
  requested: TriggerRunInput['cache'],
): Pick<Run['options'], 'cache' | 'cacheNotice'> {
  if ((requested ?? target.cache ?? 'off') === 'off') return {};
  const { mode, notice } = resolveCacheMode(target, requested);
  return notice ? { cache: mode, cacheNotice: notice } : { cache: mode };
}

/**
 * Triggers, cancels and retries runs. The trigger is O(1) in the dataset's size: it validates,
 * reads the dataset row, and inserts the run row and its job in one transaction (embedded); the
 * worker does everything else.
 */
export function createRunService({ storage, queue, registry, events, log = silentLogger }: RunServiceDeps) {
  const enqueueRun = (runId: string, tx?: StorageTx) =>
    queue.enqueue(RUN_JOB, { runId } satisfies RunJobPayload, {
      dedupKey: `run:${runId}`,
      tx,
      maxAttempts: RUN_JOB_MAX_ATTEMPTS,
    });

  /**
   * A queue in another system (Redis) is written after the run row commits. The run is durable
   * already: if the queue is slow or unreachable, the answer does not wait more than 2 s for it,
   * and the workers' reconciler enqueues the job once the queue is back.
   */
  const enqueueAfterCommit = async (runId: string) => {
    let timer: NodeJS.Timeout | undefined;
    const enqueued = enqueueRun(runId).catch((e) => {
      log.warn({ runId, err: e }, 'run job not enqueued yet (the queue failed); the reconciler will enqueue it');
    });
    await Promise.race([enqueued, new Promise((r) => (timer = setTimeout(r, 2_000)))]);
    clearTimeout(timer);
  };

  const runOf = async (datasetId: string, runId: string) => {
    const run = await storage.getRun(runId);
    if (!run || run.datasetId !== datasetId) throw notFound('Run', runId);
    return run;
  };

  const replay = (found: { run: Run; hash: string }, hash: string, key: string) => {
    if (found.hash !== hash) {
      throw new AssayError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key '${key}' was already used with a different request body`,
        409,
        { runId: found.run.id },
      );
    }
    return found.run;
  };

  const service = {
    /**
     * Creates a run (pending) and its job in one transaction. With an idempotency key, the same
     * key and body return the run created first; the same key with another body is a 409.
     */
    async trigger(datasetId: string, input: TriggerRunInput, opts: { idempotencyKey?: string } = {}): Promise<Run> {
      let idempotency: { key: string; hash: string } | undefined;
      if (opts.idempotencyKey !== undefined) {
        idempotency = { key: `${datasetId}:${opts.idempotencyKey}`, hash: hashOf(input) };
        const found = await storage.findRunByIdempotencyKey(idempotency.key);
        if (found) return replay(found, idempotency.hash, opts.idempotencyKey);
      }
      return service.create(datasetId, input, idempotency).catch(async (e) => {
        // Two requests with the same key raced: the loser returns the winner's run.
        const found = idempotency && (await storage.findRunByIdempotencyKey(idempotency.key));
        if (found && opts.idempotencyKey) return replay(found, idempotency!.hash, opts.idempotencyKey);
        throw e;
      });
    },

    async create(datasetId: string, input: TriggerRunInput, idempotency?: { key: string; hash: string }): Promise<Run> {
      const dataset = await storage.getDataset(datasetId);
      if (!dataset) throw notFound('Dataset', datasetId);
      const target = registry.targets.get(input.targetId);
      if (!target) {
        throw new AssayError('UNKNOWN_TARGET', `unknown target '${input.targetId}'`, 400, {
          targetId: input.targetId,
          available: [...registry.targets.keys()],
        });
      }
      if (input.targetType && input.targetType !== target.type) {
        throw new AssayError(
          'TARGET_TYPE_MISMATCH',
          `target '${target.id}' is of type '${target.type}', not '${input.targetType}'`,
          400,
          { targetId: target.id, type: target.type },
        );
      }
      // Without scorerIds the dataset's default scorers apply.
      const fromDataset = input.scorerIds === undefined && dataset.scorerIds !== null;
      const scorerIds = [...new Set(input.scorerIds ?? dataset.scorerIds ?? [])];
      const unknown = scorerIds.filter((id) => !registry.scorers.has(id));
      if (unknown.length) {
        const where = fromDataset ? ` (a default scorer of dataset '${dataset.name}')` : '';
        throw new AssayError('UNKNOWN_SCORER', `unknown scorer '${unknown[0]}'${where}`, 400, {
          scorerIds: unknown,
          available: [...registry.scorers.keys()],
        });
      }
      const version = versionOf(dataset, input.version);
      const items = version === dataset.version ? dataset.itemCount : await storage.countItems(datasetId, version);
      if (items === 0) {
        throw new AssayError(
          'EMPTY_DATASET',
          `dataset '${dataset.name}' has no items at version ${version}: add items before running it`,
          400,
          {
            datasetId,
            version,
          },
        );
      }
      const options = {
        maxConcurrency: input.maxConcurrency ?? RUN_DEFAULTS.maxConcurrency,
        itemTimeoutMs: input.itemTimeoutMs ?? RUN_DEFAULTS.itemTimeoutMs,
        scorerTimeoutMs: input.scorerTimeoutMs ?? RUN_DEFAULTS.scorerTimeoutMs,
        maxRetries: input.maxRetries ?? RUN_DEFAULTS.maxRetries,
        repetitions: input.repetitions ?? RUN_DEFAULTS.repetitions,
        maxConsecutiveFailures: input.maxConsecutiveFailures ?? RUN_DEFAULTS.maxConsecutiveFailures,
        ...(input.passThreshold === undefined ? {} : { passThreshold: input.passThreshold }),
        ...cacheOptions(target, input.cache),
      };
      const id = newId('run');
      const run = await storage.transaction(async (tx) => {
        const created = await tx.createRun({
          id,
          datasetId,
          datasetVersion: version,
          name: input.name ?? null,
          targetType: target.type,
          targetId: target.id,
          scorerIds,
          options,
          metadata: input.metadata ?? null,
          totalItems: items * options.repetitions,
          idempotency,
        });
        if (queue.joinsTransactions) await enqueueRun(id, tx);
        return created;
      });
      if (!queue.joinsTransactions) await enqueueAfterCommit(id);
      events.publish({ type: 'run.status', runId: id, datasetId, status: 'pending' });
      log.info({ runId: id, datasetId, targetId: target.id, items: run.totalItems }, 'run triggered');
      return run;
    },

    /**
     * Asks a run to stop. A pending run is cancelled at once; a running one is stopped by its
     * worker (in-flight targets see an aborted signal). Finished runs are a 409, except a
     * cancelled one: cancelling twice is harmless.
     */
    async cancel(datasetId: string, runId: string): Promise<Run> {
      const run = await runOf(datasetId, runId);
      if (run.status === 'cancelled') return run;
      if (FINAL_RUN_STATUSES.includes(run.status)) {
        throw conflict(`run '${runId}' is already ${run.status}; only pending or running runs can be cancelled`, {
          status: run.status,
        });
      }
      const ts = new Date().toISOString();
      await storage.updateRun(runId, { cancelRequestedAt: ts }, ['pending', 'running']);
      const cancelledNow = await storage.updateRun(runId, { status: 'cancelled', completedAt: ts }, ['pending']);
      log.info({ runId, datasetId, status: run.status }, 'run cancel requested');
      if (cancelledNow) {
        await storage.closePendingItems(runId, 'cancelled');
        await storage.updateRun(runId, { summary: await summarizeWithCache(storage, run) });
        events.publish({ type: 'run.status', runId, datasetId, status: 'cancelled' });
      } else {
        events.publish({ type: 'run.cancel', runId, datasetId });
      }
      return (await storage.getRun(runId))!;
    },

    /**
     * A re-score: a new run (pending, then executed like any run: durable, cancellable) over the
     * items and repetitions of a finished run that scores its stored outputs with `scorerIds`,
     * calling no target. The source's target must still be configured (it is not called; its
     * worker threads are where the scorers run). Items the source has no output for fail with
     * `NO_SOURCE_OUTPUT`.
     */
    async rescore(datasetId: string, runId: string, input: RescoreRunInput): Promise<Run> {
      const source = await runOf(datasetId, runId);
      if (!FINAL_RUN_STATUSES.includes(source.status)) {
        throw conflict(`run '${runId}' is still ${source.status}; re-score it once it has finished`, {
          status: source.status,
        });
      }
      const target = registry.targets.get(source.targetId);
      if (!target) {
        throw new AssayError(
          'UNKNOWN_TARGET',
          `target '${source.targetId}' of run '${runId}' is no longer configured; a re-score needs it configured (it is not called)`,
          400,
          { targetId: source.targetId },
        );
      }
      const scorerIds = [...new Set(input.scorerIds)];
      const unknown = scorerIds.filter((id) => !registry.scorers.has(id));
      if (unknown.length) {
        throw new AssayError('UNKNOWN_SCORER', `unknown scorer '${unknown[0]}'`, 400, {
          scorerIds: unknown,
          available: [...registry.scorers.keys()],
        });
      }
      const { cache: _cache, cacheNotice: _notice, ...kept } = source.options;
      const options = {
        ...kept,
        ...(input.passThreshold === undefined ? {} : { passThreshold: input.passThreshold }),
        // For a re-score, the scorers' model-call cache (executor.ts); absent: readwrite.
        ...(input.cache === undefined ? {} : { cache: input.cache }),
      };
      const total = (await storage.countItems(datasetId, source.datasetVersion)) * options.repetitions;
      const id = newId('run');
      const run = await storage.transaction(async (tx) => {
        const created = await tx.createRun({
          id,
          datasetId,
          datasetVersion: source.datasetVersion,
          name: input.name ?? `rescore of ${source.name ?? source.id}`,
          targetType: source.targetType,
          targetId: source.targetId,
          scorerIds,
          options,
          metadata: source.metadata,
          totalItems: total,
          sourceRunId: source.id,
        });
        if (queue.joinsTransactions) await enqueueRun(id, tx);
        return created;
      });
      if (!queue.joinsTransactions) await enqueueAfterCommit(id);
      events.publish({ type: 'run.status', runId: id, datasetId, status: 'pending' });
      log.info({ runId: id, datasetId, sourceRunId: source.id, scorerIds }, 're-score triggered');
      return run;
    },

    /**
     * Re-executes the failed, cancelled and skipped items of a finished run as a new attempt; the
     * run goes back to `running`. Earlier attempts stay visible.
     */
    async retry(datasetId: string, runId: string): Promise<Run> {
      const run = await runOf(datasetId, runId);
      if (!FINAL_RUN_STATUSES.includes(run.status)) {
        throw conflict(`run '${runId}' is still ${run.status}; retry it once it has finished`, { status: run.status });
      }
      if (!registry.targets.has(run.targetId)) {
        throw new AssayError('UNKNOWN_TARGET', `target '${run.targetId}' of this run is no longer configured`, 400);
      }
      await storage.transaction(async (tx) => {
        const n = await tx.resetForRetry(runId);
        if (n === 0) throw conflict(`run '${runId}' has no failed, cancelled or skipped items to retry`);
        if (queue.joinsTransactions) await enqueueRun(runId, tx);
      });
      if (!queue.joinsTransactions) await enqueueAfterCommit(runId);
      log.info({ runId, datasetId }, 'run retried: its failed, cancelled and skipped items run again');
      events.publish({ type: 'run.status', runId, datasetId, status: 'running' });
      return (await storage.getRun(runId))!;
    },
  };
  return service;
}
export type RunService = ReturnType<typeof createRunService>;
