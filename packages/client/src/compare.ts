import type { RunItemStatus, RunResult } from '@assay/core/api';
import type { Run } from './types.js';

/**
 * Runs compared client-side (the server has no compare route yet): per-scorer means from the two
 * summaries, and a merge of the two runs' result pages, matched by (itemId, repetition).
 */
export interface RunComparison {
  baseline: Run;
  candidate: Run;
  scorers: ScorerDelta[];
  items: {
    /** Results present in both runs. */
    matched: number;
    regressed: number;
    improved: number;
    unchanged: number;
    onlyInBaseline: number;
    onlyInCandidate: number;
  };
  /** Matched results that got worse, in item order; at most `maxItems` of them. */
  regressions: ItemChange[];
  /** Matched results that got better (and no worse on any scorer); at most `maxItems`. */
  improvements: ItemChange[];
}

export interface ScorerDelta {
  scorerId: string;
  /** Mean score in each run; null when the run has no score for this scorer. */
  baseline: number | null;
  candidate: number | null;
  /** candidate − baseline; null unless both are known. */
  delta: number | null;
  baselinePassRate: number | null;
  candidatePassRate: number | null;
}

export interface ItemChange {
  itemId: string;
  repetition: number;
  status: { baseline: RunItemStatus; candidate: RunItemStatus };
  /** Every scorer whose score differs (a missing score counts as a change). */
  scores: { scorerId: string; baseline: number | null; candidate: number | null; delta: number | null }[];
}

export function compareSummaries(baseline: Run, candidate: Run): ScorerDelta[] {
  const a = new Map((baseline.summary?.scorers ?? []).map((s) => [s.scorerId, s]));
  const b = new Map((candidate.summary?.scorers ?? []).map((s) => [s.scorerId, s]));
  const ids = [...new Set([...a.keys(), ...b.keys(), ...baseline.scorerIds, ...candidate.scorerIds])].sort();
  return ids.map((scorerId) => {
    const x = a.get(scorerId)?.mean ?? null;
    const y = b.get(scorerId)?.mean ?? null;
    return {
      scorerId,
      baseline: x,
      candidate: y,
      delta: x === null || y === null ? null : y - x,
      baselinePassRate: a.get(scorerId)?.passRate ?? null,
      candidatePassRate: b.get(scorerId)?.passRate ?? null,
    };
  });
}

const key = (r: RunResult) => [r.itemId, r.repetition] as const;
function cmp(x: RunResult, y: RunResult): number {
  const [ia, ra] = key(x);
  const [ib, rb] = key(y);
  return ia < ib ? -1 : ia > ib ? 1 : ra - rb;
}

/** How one matched result changed: -1 worse, 0 same, 1 better. */
function diff(a: RunResult, b: RunResult, scorerIds: string[]): { direction: -1 | 0 | 1; change: ItemChange } {
  const ids = scorerIds;
  const scores: ItemChange['scores'] = [];
  let worse = false;
  let better = false;
  for (const scorerId of ids) {
    const x = a.scores.find((s) => s.scorerId === scorerId)?.score ?? null;
    const y = b.scores.find((s) => s.scorerId === scorerId)?.score ?? null;
    if (x === y) continue;
    const delta = x === null || y === null ? null : y - x;
    scores.push({ scorerId, baseline: x, candidate: y, delta });
    if (delta !== null) {
      if (delta < 0) worse = true;
      if (delta > 0) better = true;
    } else if (x !== null) {
      worse = true; // a score that disappeared
    } else better = true;
  }
  if (a.status === 'succeeded' && b.status !== 'succeeded') worse = true;
  if (a.status !== 'succeeded' && b.status === 'succeeded') better = true;
  const change = {
    itemId: a.itemId,
    repetition: a.repetition,
    status: { baseline: a.status, candidate: b.status },
    scores,
  };
  return { direction: worse ? -1 : better ? 1 : 0, change };
}

/**
 * Merge-joins two result streams ordered by (itemId, repetition), as the results route returns
 * them, so memory stays flat however large the runs are.
 */
export async function compareResults(
  baseline: AsyncIterable<RunResult>,
  candidate: AsyncIterable<RunResult>,
  maxItems: number,
  /** Scorers to compare item by item: those both runs used. */
  scorerIds: string[],
): Promise<Pick<RunComparison, 'items' | 'regressions' | 'improvements'>> {
  const out: Pick<RunComparison, 'items' | 'regressions' | 'improvements'> = {
    items: { matched: 0, regressed: 0, improved: 0, unchanged: 0, onlyInBaseline: 0, onlyInCandidate: 0 },
    regressions: [],
    improvements: [],
  };
  const ordered = (it: AsyncIterable<RunResult>, which: string) => {
    const inner = it[Symbol.asyncIterator]();
    let prev: RunResult | undefined;
    return async () => {
      const n = await inner.next();
      if (n.done) return undefined;
      if (prev && cmp(prev, n.value) >= 0) {
        throw new Error(`results of the ${which} run are not ordered by (itemId, repetition); cannot compare`);
      }
      prev = n.value;
      return n.value;
    };
  };
  const nextA = ordered(baseline, 'baseline');
  const nextB = ordered(candidate, 'candidate');
  let a = await nextA();
  let b = await nextB();
  while (a || b) {
    const c = !a ? 1 : !b ? -1 : cmp(a, b);
    if (c < 0) {
      out.items.onlyInBaseline++;
      a = await nextA();
    } else if (c > 0) {
      out.items.onlyInCandidate++;
      b = await nextB();
    } else {
      out.items.matched++;
      const { direction, change } = diff(a!, b!, scorerIds);
      if (direction < 0) {
        out.items.regressed++;
        if (out.regressions.length < maxItems) out.regressions.push(change);
      } else if (direction > 0) {
        out.items.improved++;
        if (out.improvements.length < maxItems) out.improvements.push(change);
      } else out.items.unchanged++;
      a = await nextA();
      b = await nextB();
    }
  }
  return out;
}
