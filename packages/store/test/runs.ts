import { type NewRun, newId, RUN_DEFAULTS, type Storage } from '@assay/core';

/**
 * A pending run of `datasetId` pinned to `datasetVersion`, as the trigger would create it: a
 * function target `t`, one scorer `s`, the default options, no name, metadata or items counted
 * yet. `overrides` replace any field (a fresh id unless given).
 */
export function pendingRun(datasetId: string, datasetVersion: number, overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: newId('run'),
    datasetId,
    datasetVersion,
    name: null,
    targetType: 'function',
    targetId: 't',
    scorerIds: ['s'],
    options: { ...RUN_DEFAULTS },
    metadata: null,
    totalItems: 0,
    ...overrides,
  };
}

/** Creates {@link pendingRun} in its own transaction of `storage`; returns the run's id. */
export async function createPendingRun(
  storage: Pick<Storage, 'transaction'>,
  datasetId: string,
  datasetVersion: number,
  overrides: Partial<NewRun> = {},
): Promise<string> {
  const run = pendingRun(datasetId, datasetVersion, overrides);
  await storage.transaction((tx) => tx.createRun(run));
  return run.id;
}

/** A dataset `name` of `items` items (inputs 0, 1, …) and a pending run of it; returns the run's id. */
export async function datasetWithPendingRun(
  storage: Pick<Storage, 'transaction' | 'createDataset' | 'addItems'>,
  name: string,
  items: number,
): Promise<string> {
  const ds = await storage.createDataset({ name });
  const { version } = await storage.addItems(
    ds.id,
    Array.from({ length: items }, (_, i) => ({ input: i })),
  );
  return createPendingRun(storage, ds.id, version);
}
