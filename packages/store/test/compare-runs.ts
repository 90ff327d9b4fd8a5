/** Runs of the compare tests, stored through the storage port as a worker stores them. */
import { RUN_DEFAULTS } from '@assay/core';
import type { StorageFixture } from './contract.js';
import { createPendingRun } from './runs.js';

/** A score of an item's repetition: a number, null (no score: the scorer failed), or the item failed. */
export type Cell = number | null | 'failed';
export type Scores = Record<string, Cell>;

/** A run of `scorerIds` over `itemIds` (pinned to `version`) whose results `score(item, rep)` gives. */
export async function storedRun(
  f: StorageFixture,
  datasetId: string,
  version: number,
  itemIds: string[],
  scorerIds: string[],
  score: (i: number, rep: number) => Scores | 'failed',
  repetitions = 1,
): Promise<string> {
  const runId = await createPendingRun(f.storage, datasetId, version, {
    scorerIds,
    options: { ...RUN_DEFAULTS, repetitions },
  });
  await f.planAll(runId, 100);
  await f.claimAll(runId);
  const index = new Map(itemIds.map((id, i) => [id, i]));
  const outcomes = [];
  for (const id of itemIds) {
    for (let rep = 0; rep < repetitions; rep++) {
      const s = score(index.get(id)!, rep);
      outcomes.push(
        s === 'failed'
          ? f.outcome(id, 'failed', { repetition: rep })
          : f.outcome(id, 'succeeded', {
              repetition: rep,
              scores: Object.entries(s).map(([scorerId, v]) => ({
                scorerId,
                score: typeof v === 'number' ? v : null,
                reason: null,
                error: v === null ? 'threw' : null,
              })),
            }),
      );
    }
  }
  for (let i = 0; i < outcomes.length; i += 500) await f.storage.writeOutcomes(runId, outcomes.slice(i, i + 500));
  return runId;
}

/** A dataset of `n` items with external ids `q0` … `q{n-1}`, in their order of `ids`. */
export async function dataset(f: StorageFixture, n: number) {
  const ds = await f.storage.createDataset({ name: `compare-${Math.random()}` });
  const { items, version } = await f.storage.addItems(
    ds.id,
    Array.from({ length: n }, (_, i) => ({ input: { i }, externalId: `q${i}` })),
  );
  return { ds, ids: items.map((it) => it.id), version };
}
