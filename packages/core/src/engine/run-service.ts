import { AssayError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { EventBus, JobQueue, Storage } from '../ports.js';
import { RUN_DEFAULTS, type TriggerRunInput } from '../schemas.js';
import type { Run } from '../types.js';
import type { Registry } from './registry.js';
import { RUN_JOB, type RunJobPayload } from './run-job.js';

export interface RunServiceDeps {
  storage: Storage;
  queue: JobQueue;
  registry: Registry;
  events: EventBus;
}

/**
 * Triggers runs. O(1) in the dataset's size: it validates, reads the dataset row, and inserts the
 * run row and its job in one transaction; the worker does everything else.
 */
export function createRunService({ storage, queue, registry, events }: RunServiceDeps) {
  return {
    async trigger(datasetId: string, input: TriggerRunInput): Promise<Run> {
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
      const scorerIds = [...new Set(input.scorerIds ?? [])];
      const unknown = scorerIds.filter((id) => !registry.scorers.has(id));
      if (unknown.length) {
        throw new AssayError('UNKNOWN_SCORER', `unknown scorer '${unknown[0]}'`, 400, {
          scorerIds: unknown,
          available: [...registry.scorers.keys()],
        });
      }
      const version = input.version ?? dataset.version;
      if (version > dataset.version) {
        throw new AssayError(
          'UNKNOWN_VERSION',
          `dataset '${datasetId}' has no version ${version} (latest is ${dataset.version})`,
          400,
          {
            version,
            latest: dataset.version,
          },
        );
      }
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
        maxRetries: input.maxRetries ?? RUN_DEFAULTS.maxRetries,
        repetitions: input.repetitions ?? RUN_DEFAULTS.repetitions,
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
        });
        const payload: RunJobPayload = { runId: id };
        await queue.enqueue(RUN_JOB, payload, { dedupKey: `run:${id}`, tx, maxAttempts: 10 });
        return created;
      });
      events.publish({ type: 'run.status', runId: id, datasetId, status: 'pending' });
      return run;
    },
  };
}
export type RunService = ReturnType<typeof createRunService>;
