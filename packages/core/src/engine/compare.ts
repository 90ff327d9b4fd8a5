import type {
  ChangedItem,
  CompareRunsInput,
  Comparison,
  ListBounds,
  ScorerComparison,
  ScorerStats,
} from '@assay/contract';
import { AssayError, notFound } from '../errors.js';
import type { ResultKey, Storage } from '../ports.js';
import type { Run } from '../types.js';

/** Results read per page while comparing (two pages in memory at a time, whatever the run size). */
const PAGE = 1000;
/** Changed items returned when the input does not say. */
export const DEFAULT_COMPARE_LIMIT = 50;

const cmpKey = (x: ResultKey, y: ResultKey) =>
  x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : x.repetition - y.repetition;

/** Keeps the `n` entries with the smallest `rank`, in order (ties in arrival order); memory stays O(n). */
class TopN<T> {
  readonly rows: { rank: number; value: T }[] = [];
  constructor(private readonly n: number) {}
  add(rank: number, value: T) {
    if (this.n === 0) return;
    if (this.rows.length === this.n && rank >= this.rows[this.rows.length - 1]!.rank) return;
    let i = this.rows.length;
    while (i > 0 && this.rows[i - 1]!.rank > rank) i--;
    this.rows.splice(i, 0, { rank, value });
    if (this.rows.length > this.n) this.rows.pop();
  }
}

async function* keys(storage: Storage, runId: string): AsyncGenerator<ResultKey> {
  let after: { itemId: string; repetition: number } | null = null;
  for (;;) {
    const page = await storage.listResultKeys(runId, after, PAGE);
    yield* page;
    if (page.length < PAGE) return;
    const last = page[page.length - 1]!;
    after = { itemId: last.itemId, repetition: last.repetition };
  }
}

/** A run as clients see it (without the planner's bookkeeping). */
const visible = ({ plannedAt: _p, ...run }: Run) => run;

/**
 * The one comparison of two runs, used by `POST /datasets/:id/compare`, the UI and the CLI's
 * gates: run B against baseline A, both of `datasetId`. Per-scorer means (regressed when B drops by
 * more than the threshold), and a merge-join of both runs' results by (itemId, repetition), read
 * page by page, that keeps only the `limit` largest regressions and improvements. An item
 * regresses when a score both runs have drops by more than its threshold, a score disappears, or
 * it stopped succeeding; it improves the other way round (a regression wins over an improvement).
 *
 * @example await compareRuns(storage, ds.id, { runIdA: baseline.id, runIdB: candidate.id, thresholds: 0.05 })
 */
export async function compareRuns(
  storage: Storage,
  datasetId: string,
  input: CompareRunsInput,
  bounds?: ListBounds,
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
  const thresholdOf = (scorerId: string) =>
    typeof input.thresholds === 'number' ? input.thresholds : (input.thresholds?.[scorerId] ?? 0);
  const limit = input.limit ?? DEFAULT_COMPARE_LIMIT;

  const [statsA, statsB] = await Promise.all([
    storage.scoreStats(runA.id, 1, runA.options.passThreshold),
    storage.scoreStats(runB.id, 1, runB.options.passThreshold),
  ]);
  const byA = new Map(statsA.map((s) => [s.scorerId, s]));
  const byB = new Map(statsB.map((s) => [s.scorerId, s]));
  const scorerIds = [...new Set([...runA.scorerIds, ...runB.scorerIds, ...byA.keys(), ...byB.keys()])].sort();
  const side = (s: ScorerStats | undefined) => ({
    mean: s?.mean ?? null,
    passRate: s?.passRate ?? null,
    count: s?.count ?? 0,
  });
  const scorers: ScorerComparison[] = scorerIds.map((scorerId) => {
    const a = side(byA.get(scorerId));
    const b = side(byB.get(scorerId));
    const delta = a.mean === null || b.mean === null ? null : b.mean - a.mean;
    const threshold = thresholdOf(scorerId);
    return { scorerId, a, b, delta, threshold, regressed: delta !== null && delta < -threshold };
  });

  // Item by item: only the scorers both runs used.
  const common = runA.scorerIds.filter((id) => runB.scorerIds.includes(id));
  const counts = { matched: 0, regressed: 0, improved: 0, unchanged: 0, onlyInA: 0, onlyInB: 0 };
  const regressions = new TopN<{ a: ResultKey; b: ResultKey; delta: number }>(limit);
  const improvements = new TopN<{ a: ResultKey; b: ResultKey; delta: number }>(limit);
  const itA = keys(storage, runA.id);
  const itB = keys(storage, runB.id);
  let a = (await itA.next()).value as ResultKey | undefined;
  let b = (await itB.next()).value as ResultKey | undefined;
  while (a || b) {
    const c = !a ? 1 : !b ? -1 : cmpKey(a, b);
    if (c < 0) {
      counts.onlyInA++;
      a = (await itA.next()).value as ResultKey | undefined;
      continue;
    }
    if (c > 0) {
      counts.onlyInB++;
      b = (await itB.next()).value as ResultKey | undefined;
      continue;
    }
    counts.matched++;
    let worst = 0;
    let best = 0;
    let regressed = false;
    let improved = false;
    for (const id of common) {
      const x = a!.scores.find((s) => s.scorerId === id)?.score ?? null;
      const y = b!.scores.find((s) => s.scorerId === id)?.score ?? null;
      if (x === y) continue;
      // A score that appeared or disappeared counts as a change from 0.
      const d = (y ?? 0) - (x ?? 0);
      const t = thresholdOf(id);
      if (d < -t || (y === null && x !== null && d <= 0)) regressed = true;
      if (d > t || (x === null && y !== null && d >= 0)) improved = true;
      worst = Math.min(worst, d);
      best = Math.max(best, d);
    }
    if (a!.status === 'succeeded' && b!.status !== 'succeeded') {
      regressed = true;
      worst = Math.min(worst, -1);
    } else if (a!.status !== 'succeeded' && b!.status === 'succeeded') {
      improved = true;
      best = Math.max(best, 1);
    }
    if (regressed) {
      counts.regressed++;
      regressions.add(worst, { a: a!, b: b!, delta: worst });
    } else if (improved) {
      counts.improved++;
      improvements.add(-best, { a: a!, b: b!, delta: best });
    } else counts.unchanged++;
    a = (await itA.next()).value as ResultKey | undefined;
    b = (await itB.next()).value as ResultKey | undefined;
  }

  const chosen = [
    ...regressions.rows.map((r) => ({ ...r.value, change: 'regression' as const })),
    ...improvements.rows.map((r) => ({ ...r.value, change: 'improvement' as const })),
  ].slice(0, limit);
  const items: ChangedItem[] = [];
  // Each of the two results of an item shown gets its share of the page's bounds (large values
  // become `$truncated` markers, cut in SQL); the single-result route has them whole.
  const share = bounds && chosen.length ? shareOf(bounds, 2 * chosen.length) : undefined;
  for (const c of chosen) {
    // Outputs side by side: only for the few items shown. Input and ground truth as run B saw them.
    const [ra, rb] = await Promise.all([
      storage.getResult(runA.id, c.a.itemId, c.a.repetition, share),
      storage.getResult(runB.id, c.b.itemId, c.b.repetition, share),
    ]);
    items.push({
      itemId: c.a.itemId,
      repetition: c.a.repetition,
      change: c.change,
      delta: c.delta,
      a: { status: c.a.status, output: ra?.output ?? null, error: ra?.error ?? null },
      b: { status: c.b.status, output: rb?.output ?? null, error: rb?.error ?? null },
      input: (rb ?? ra)?.input ?? null,
      groundTruth: (rb ?? ra)?.groundTruth ?? null,
      scores: common.map((id) => {
        const x = c.a.scores.find((s) => s.scorerId === id)?.score ?? null;
        const y = c.b.scores.find((s) => s.scorerId === id)?.score ?? null;
        return { scorerId: id, a: x, b: y, delta: x === null || y === null ? null : y - x };
      }),
    });
  }
  return { runA, runB, scorers, counts, items };
}

/** Bounds for one of `n` rows sharing a page's budget. */
function shareOf(bounds: ListBounds, n: number): ListBounds {
  const budgetBytes = Math.max(1, Math.floor(bounds.budgetBytes / n));
  return { ...bounds, budgetBytes, maxFieldBytes: Math.min(bounds.maxFieldBytes, budgetBytes) };
}
