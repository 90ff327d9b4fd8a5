import type { ChangedItem, CompareRunsInput, Comparison, ListBounds, ScorerKind } from '@assay/contract';
import { passThresholdOf } from '../analysis/summary.js';
import { AssayError, notFound } from '../errors.js';
import type { Storage } from '../ports.js';
import type { Run } from '../types.js';
import { itemMean, itemStatus, pairItems, type RunItem, TopN } from './compare-items.js';
import { CONFIDENCE, decide, overallVerdict, ScorerPairs } from './compare-scorers.js';

/** Changed items returned when the input does not say. */
export const DEFAULT_COMPARE_LIMIT = 50;
/** The significance level when the input does not say. */
export const DEFAULT_ALPHA = 0.05;

export interface CompareOptions {
  /** Large values of the items shown become `$truncated` markers within these bounds. */
  bounds?: ListBounds;
  /** What each scorer measures (the registry's `scorerKinds`); unknown scorers are `quality`. */
  scorerKinds?: ReadonlyMap<string, ScorerKind>;
}

/** A run as clients see it (without the planner's bookkeeping). */
export const visible = ({ plannedAt: _p, ...run }: Run) => run;

const perScorer = (v: CompareRunsInput['thresholds'], scorerId: string) =>
  typeof v === 'number' ? v : (v?.[scorerId] ?? 0);

/** An item shown: both runs' sides and how much its deciding scores moved. */
interface Change {
  a: RunItem;
  b: RunItem;
  total: number;
}

/**
 * The one comparison of two runs, used by `POST /datasets/:id/compare`, the UI and the CLI's
 * gates: run B against baseline A, both of `datasetId`, matched by item (two dataset versions
 * compare on the items they share), each item's scores averaged over its repetitions first, so
 * that every statistic resamples items, never item × repetition.
 *
 * Per scorer: the mean difference B − A over the items both runs scored with its 95% interval
 * (paired bootstrap with a fixed seed, or Student's t on large runs), the Wilson interval of each
 * run's pass rate, the exact McNemar test of the pass/fail flips, and a p-value (McNemar when
 * every score is 0 or 1, else a paired t-test), Holm-corrected across the deciding scorers. A
 * scorer improved or regressed when its adjusted p-value is below `alpha` and its mean moved by at
 * least `minEffect`; else there is no significant change. Deciding scorers: `scorerIds`, by
 * default every scorer both runs used except `latency` and `cost` ones (all of them when that
 * leaves none).
 *
 * Both runs are read page by page through the result keys; memory holds one number per item and
 * scorer of each run (for the bootstrap) and the `limit` largest changes, whatever the run size.
 *
 * @example await compareRuns(storage, ds.id, { runIdA: baseline.id, runIdB: candidate.id, scorerIds: ['exact'] })
 */
export async function compareRuns(
  storage: Storage,
  datasetId: string,
  input: CompareRunsInput,
  opts: CompareOptions = {},
): Promise<Comparison> {
  if (input.runIdA === input.runIdB) {
    throw new AssayError('VALIDATION_ERROR', 'runIdA and runIdB must be two different runs', 400);
  }
  const load = async (runId: string) => {
    const run = await storage.getRun(runId);
    if (!run || run.datasetId !== datasetId) throw notFound('Run', runId);
    return visible(run);
  };
  const [runA, runB] = await Promise.all([load(input.runIdA), load(input.runIdB)]);
  const kindOf = (id: string): ScorerKind => opts.scorerKinds?.get(id) ?? 'quality';
  const all = [...new Set([...runA.scorerIds, ...runB.scorerIds])].sort();
  const common = all.filter((id) => runA.scorerIds.includes(id) && runB.scorerIds.includes(id));
  const deciding = decidingScorers(input.scorerIds, all, common, kindOf);
  const limit = input.limit ?? DEFAULT_COMPARE_LIMIT;
  const thresholdOf = (id: string) => perScorer(input.thresholds, id);

  const passThresholds = { a: passThresholdOf(runA.options), b: passThresholdOf(runB.options) };
  const pairs = new Map(all.map((id) => [id, new ScorerPairs(id, passThresholds)]));
  const counts = { matched: 0, regressed: 0, improved: 0, unchanged: 0, onlyInA: 0, onlyInB: 0 };
  const regressions = new TopN<Change>(limit);
  const improvements = new TopN<Change>(limit);
  for await (const [a, b] of pairItems(storage, runA.id, runB.id)) {
    if (!b) {
      counts.onlyInA++;
      continue;
    }
    if (!a) {
      counts.onlyInB++;
      continue;
    }
    counts.matched++;
    const means = new Map<string, [number | null, number | null]>();
    for (const id of all) {
      const x = itemMean(a, id);
      const y = itemMean(b, id);
      means.set(id, [x, y]);
      pairs.get(id)!.add(x, y);
    }
    // The item changed when a deciding score moved by more than its threshold (a score that
    // disappeared counts as a drop to 0), or it stopped (or started) succeeding.
    let drop = 0;
    let gain = 0;
    let regressed = false;
    let improved = false;
    for (const id of deciding) {
      const [x, y] = means.get(id)!;
      if (x === y) continue;
      const d = (y ?? 0) - (x ?? 0);
      const t = thresholdOf(id);
      if (d < -t || (y === null && x !== null && d <= 0)) regressed = true;
      if (d > t || (x === null && y !== null && d >= 0)) improved = true;
      if (d < 0) drop += d;
      else gain += d;
    }
    const [statusA, statusB] = [itemStatus(a), itemStatus(b)];
    if (statusA === 'succeeded' && statusB !== 'succeeded') {
      regressed = true;
      drop = Math.min(drop, -1);
    } else if (statusA !== 'succeeded' && statusB === 'succeeded') {
      improved = true;
      gain = Math.max(gain, 1);
    }
    if (regressed) {
      counts.regressed++;
      regressions.add(drop, { a, b, total: drop });
    } else if (improved) {
      counts.improved++;
      improvements.add(-gain, { a, b, total: gain });
    } else counts.unchanged++;
  }

  const measured = [];
  for (const id of all) measured.push(await pairs.get(id)!.measure());
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const scorers = decide(measured, {
    alpha,
    kindOf,
    deciding: new Set(deciding),
    minEffectOf: (id) => perScorer(input.minEffect, id),
    thresholdOf,
  });
  const chosen = [
    ...regressions.rows.map((r) => ({ ...r.value, change: 'regression' as const })),
    ...improvements.rows.map((r) => ({ ...r.value, change: 'improvement' as const })),
  ].slice(0, limit);
  const items = await changedItems(storage, runA.id, runB.id, chosen, common, new Set(deciding), opts.bounds);
  return {
    runA,
    runB,
    verdict: overallVerdict(scorers),
    decidingScorerIds: deciding,
    alpha,
    confidence: CONFIDENCE,
    scorers,
    counts,
    items,
  };
}

/** The chosen deciding scorers (each a scorer of either run), or the default choice. */
function decidingScorers(
  chosen: string[] | undefined,
  all: string[],
  common: string[],
  kindOf: (id: string) => ScorerKind,
): string[] {
  if (chosen) {
    const unknown = chosen.filter((id) => !all.includes(id));
    if (unknown.length) {
      throw new AssayError(
        'VALIDATION_ERROR',
        `scorerIds: ${unknown.map((id) => `'${id}'`).join(', ')} ${unknown.length > 1 ? 'are not scorers' : 'is not a scorer'} of either run (they have ${all.join(', ') || 'none'})`,
        400,
        { unknown, available: all },
      );
    }
    return [...new Set(chosen)].sort();
  }
  const quality = common.filter((id) => kindOf(id) === 'quality');
  return quality.length ? quality : common;
}

/** The items shown, with both outputs: only these few are read whole (within the page's bounds). */
async function changedItems(
  storage: Storage,
  runIdA: string,
  runIdB: string,
  chosen: (Change & { change: ChangedItem['change'] })[],
  common: string[],
  deciding: ReadonlySet<string>,
  bounds: ListBounds | undefined,
): Promise<ChangedItem[]> {
  const items: ChangedItem[] = [];
  // Each of the two results of an item shown gets its share of the page's bounds (large values
  // become `$truncated` markers, cut in SQL); the single-result route has them whole.
  const share = bounds && chosen.length ? shareOf(bounds, 2 * chosen.length) : undefined;
  // Deciding scorers first, then the others, each group by id.
  const order = [...common.filter((id) => deciding.has(id)), ...common.filter((id) => !deciding.has(id))];
  for (const c of chosen) {
    const [repA, repB] = [c.a.reps[0]!, c.b.reps[0]!];
    const [ra, rb] = await Promise.all([
      storage.getResult(runIdA, repA.itemId, repA.repetition, share),
      storage.getResult(runIdB, repB.itemId, repB.repetition, share),
    ]);
    const scores: ChangedItem['scores'] = [];
    for (const id of order) {
      const x = itemMean(c.a, id);
      const y = itemMean(c.b, id);
      if (x === y) continue;
      scores.push({
        scorerId: id,
        deciding: deciding.has(id),
        a: x,
        b: y,
        delta: x === null || y === null ? null : y - x,
      });
    }
    items.push({
      itemId: c.a.itemId,
      externalId: (rb ?? ra)?.externalId ?? null,
      repetition: repA.repetition,
      repetitions: { a: c.a.reps.length, b: c.b.reps.length },
      change: c.change,
      delta: c.total,
      a: { status: itemStatus(c.a), output: ra?.output ?? null, error: ra?.error ?? null },
      b: { status: itemStatus(c.b), output: rb?.output ?? null, error: rb?.error ?? null },
      input: (rb ?? ra)?.input ?? null,
      groundTruth: (rb ?? ra)?.groundTruth ?? null,
      scores,
    });
  }
  return items;
}

/** Bounds for one of `n` rows sharing a page's budget. */
export function shareOf(bounds: ListBounds, n: number): ListBounds {
  const budgetBytes = Math.max(1, Math.floor(bounds.budgetBytes / n));
  return { ...bounds, budgetBytes, maxFieldBytes: Math.min(bounds.maxFieldBytes, budgetBytes) };
}
