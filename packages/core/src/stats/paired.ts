import jstat from 'jstat';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { mcnemarExact } from './binomial.js';
import type { Interval } from './proportion.js';

/** How a paired difference was estimated and tested. */
export interface PairedDifference {
  /** Items with a value in both runs. */
  n: number;
  meanA: number | null;
  meanB: number | null;
  /** Mean of B − A over the paired items. */
  meanDiff: number | null;
  /** Confidence interval of `meanDiff`; null below two items. */
  ci: Interval | null;
  /** `bootstrap`: paired percentile bootstrap over items; `t`: Student's t interval (large runs). */
  interval: 'bootstrap' | 't' | null;
  /** Two-sided p-value for "no difference". */
  pValue: number;
  /** `mcnemar`: every value is 0 or 1 (exact test on the flips); `paired-t` otherwise. */
  test: 'mcnemar' | 'paired-t' | null;
  /** With `mcnemar`: items that went 1 → 0 and 0 → 1. */
  flips: { down: number; up: number } | null;
}

export interface PairedOptions {
  /** Default 0.95. */
  confidence?: number;
  /** Bootstrap resamples. Default 4 000. */
  resamples?: number;
  /** Seed of the bootstrap's generator: the same runs always give the same interval. Default 1. */
  seed?: number;
  /**
   * Above this many items the interval is Student's t instead of the bootstrap (which costs
   * items × resamples draws); by then the two agree to a fraction of a standard error. Default 5 000.
   */
  bootstrapMaxItems?: number;
}

const BOOTSTRAP_MAX_ITEMS = 5_000;
const breathe = () => new Promise<void>((r) => setImmediate(r));

/** Linear-interpolated quantile of sorted values (numpy's default, which scipy's bootstrap uses). */
function quantile(sorted: Float64Array, q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Paired comparison of two runs on one scorer: `a[i]` and `b[i]` are item i's value in each run
 * (its mean over repetitions, so that resampling is over items), `null` when missing. Items
 * missing in either run are left out (count them from `n`). Yields to the event loop while it
 * resamples, so a large compare never holds the server.
 */
export async function pairedDifference(
  a: ArrayLike<number | null>,
  b: ArrayLike<number | null>,
  opts: PairedOptions = {},
): Promise<PairedDifference> {
  const confidence = opts.confidence ?? 0.95;
  const bootstrapMax = opts.bootstrapMaxItems ?? BOOTSTRAP_MAX_ITEMS;
  const diffs: number[] = [];
  let sumA = 0;
  let sumB = 0;
  let binary = true;
  let down = 0;
  let up = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || y === null || x === undefined || y === undefined) continue;
    diffs.push(y - x);
    sumA += x;
    sumB += y;
    if ((x !== 0 && x !== 1) || (y !== 0 && y !== 1)) binary = false;
    else if (x === 1 && y === 0) down++;
    else if (x === 0 && y === 1) up++;
  }
  const n = diffs.length;
  const none: PairedDifference = {
    n,
    meanA: null,
    meanB: null,
    meanDiff: null,
    ci: null,
    interval: null,
    pValue: 1,
    test: null,
    flips: null,
  };
  if (n === 0) return none;
  const mean = (sumB - sumA) / n;
  let ss = 0;
  for (const d of diffs) ss += (d - mean) ** 2;
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const out: PairedDifference = { ...none, meanA: sumA / n, meanB: sumB / n, meanDiff: mean };
  if (binary) {
    out.test = 'mcnemar';
    out.flips = { down, up };
    out.pValue = mcnemarExact(down, up);
  } else if (n > 1) {
    out.test = 'paired-t';
    // Every difference the same: t is undefined (no spread), so the p-value is the exact sign-flip
    // test's, 2 · 2⁻ⁿ (only the all-equal-signs labellings are as extreme): two items that moved by
    // the same amount are not evidence, twenty are.
    out.pValue =
      sd === 0
        ? mean === 0
          ? 1
          : Math.min(1, 2 ** (1 - n))
        : 2 * jstat.jStat.studentt.cdf(-Math.abs(mean / (sd / Math.sqrt(n))), n - 1);
  }
  if (n < 2) return out;
  if (sd === 0) {
    out.ci = { lower: mean, upper: mean };
    out.interval = n > bootstrapMax ? 't' : 'bootstrap';
    return out;
  }
  if (n > bootstrapMax) {
    const half = jstat.jStat.studentt.inv(1 - (1 - confidence) / 2, n - 1) * (sd / Math.sqrt(n));
    out.ci = { lower: mean - half, upper: mean + half };
    out.interval = 't';
    return out;
  }
  const resamples = Math.max(2_000, opts.resamples ?? 4_000);
  const rng = xoroshiro128plus(opts.seed ?? 1);
  const means = new Float64Array(resamples);
  const d = Float64Array.from(diffs);
  let started = performance.now();
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    // An index in [0, n) by multiply-shift of a 32-bit draw: its bias (< n / 2³², about 1e-6 at
    // the largest n bootstrapped) is far below the interval's Monte Carlo error.
    for (let i = 0; i < n; i++) s += d[Math.floor(((rng.next() >>> 0) * n) / 4294967296)];
    means[r] = s / n;
    if (performance.now() - started > 10) {
      await breathe();
      started = performance.now();
    }
  }
  means.sort();
  out.ci = { lower: quantile(means, (1 - confidence) / 2), upper: quantile(means, 1 - (1 - confidence) / 2) };
  out.interval = 'bootstrap';
  return out;
}
