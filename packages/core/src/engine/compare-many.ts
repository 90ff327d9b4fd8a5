import {
  type CompareManyInput,
  DEFAULT_MANY_COMPARE_LIMIT,
  MAX_COMPARED_RUNS,
  type ManyComparison,
} from '@assay/contract';
import { validationError } from '../errors.js';
import type { Storage } from '../ports.js';
import { type CompareOptions, compareRuns, DEFAULT_ALPHA, shareOf, visible } from './compare.js';
import { CONFIDENCE } from './compare-scorers.js';

/**
 * Up to {@link MAX_COMPARED_RUNS} runs against one baseline, for `POST /datasets/:id/compare/many`
 * and the dataset page's runs-over-time chart: each candidate is compared with the baseline by
 * {@link compareRuns}, the one comparison of two runs (the same paired statistics, Holm's
 * correction within each candidate's deciding scorers, the same verdicts), so that a pair reads
 * the same here as on the compare page.
 *
 * Every run is checked before any is read (all of `datasetId`, the candidates distinct and not
 * the baseline, chosen scorers the baseline's), so a bad request fails at once with a 400 naming
 * every offending id. The candidates are then compared one after another: memory holds one
 * number per item and scorer of two runs at a time, never of all of them. The page's size bounds
 * are shared by all candidates' changed items.
 *
 * @example await compareMany(storage, ds.id, { baselineRunId: v1, runIds: [v2, v3], limit: 0 })
 */
export async function compareMany(
  storage: Storage,
  datasetId: string,
  input: CompareManyInput,
  opts: CompareOptions = {},
): Promise<ManyComparison> {
  if (input.runIds.length > MAX_COMPARED_RUNS) {
    throw validationError(
      `runIds: at most ${MAX_COMPARED_RUNS} runs are compared with one baseline per request (got ${input.runIds.length})`,
      { max: MAX_COMPARED_RUNS, got: input.runIds.length },
    );
  }
  const repeated = input.runIds.filter((id, i) => id === input.baselineRunId || input.runIds.indexOf(id) !== i);
  if (repeated.length) {
    throw validationError(
      `runIds: each candidate must be named once and must not be the baseline (${[...new Set(repeated)].join(', ')})`,
      { repeated: [...new Set(repeated)] },
    );
  }
  const ids = [input.baselineRunId, ...input.runIds];
  const runs = await Promise.all(ids.map((id) => storage.getRun(id)));
  const unknown = ids.filter((_, i) => !runs[i]);
  const otherDataset = runs.flatMap((r) =>
    r && r.datasetId !== datasetId ? [{ runId: r.id, datasetId: r.datasetId }] : [],
  );
  if (unknown.length || otherDataset.length) {
    const why = [
      ...unknown.map((id) => `${id} (no such run)`),
      ...otherDataset.map((o) => `${o.runId} (a run of ${o.datasetId})`),
    ];
    throw validationError(`not runs of dataset ${datasetId}: ${why.join(', ')}`, { unknown, otherDataset });
  }
  const [baseline, ...candidates] = runs.map((r) => visible(r!));
  if (input.scorerIds) {
    // Every pair has the baseline, so its scorers are the ones each comparison can decide by.
    const missing = input.scorerIds.filter((id) => !baseline!.scorerIds.includes(id));
    if (missing.length) {
      throw validationError(
        `scorerIds: ${missing.map((id) => `'${id}'`).join(', ')} ${missing.length > 1 ? 'are not scorers' : 'is not a scorer'} of the baseline (it has ${baseline!.scorerIds.join(', ') || 'none'})`,
        { unknown: missing, available: baseline!.scorerIds },
      );
    }
  }

  const limit = input.limit ?? DEFAULT_MANY_COMPARE_LIMIT;
  const bounds = opts.bounds && limit ? shareOf(opts.bounds, candidates.length) : opts.bounds;
  const comparisons: ManyComparison['comparisons'] = [];
  for (const candidate of candidates) {
    const {
      runA: _a,
      runB,
      alpha: _alpha,
      confidence: _c,
      ...rest
    } = await compareRuns(
      storage,
      datasetId,
      {
        runIdA: baseline!.id,
        runIdB: candidate.id,
        scorerIds: input.scorerIds,
        alpha: input.alpha,
        minEffect: input.minEffect,
        thresholds: input.thresholds,
        limit,
      },
      { ...opts, bounds },
    );
    comparisons.push({ run: runB, ...rest });
  }
  return { baseline: baseline!, alpha: input.alpha ?? DEFAULT_ALPHA, confidence: CONFIDENCE, comparisons };
}
