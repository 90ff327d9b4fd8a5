import jstat from 'jstat';
import { type Interval, wilson } from './proportion.js';

/** Sums over one run's items (each item's mean over its repetitions is one value). */
export interface MeanSums {
  n: number;
  sum: number;
  sumSquares: number;
  /** Every value is 0 or 1: the mean is a proportion. */
  binary: boolean;
}

/**
 * The confidence interval of a mean from its sums: Wilson's when every value is 0 or 1 (the mean
 * is then a pass rate, and Wilson stays inside [0, 1] at 0 of n or n of n), else Student's t.
 * Null below two values (no spread to speak of; one 0/1 value still has a Wilson interval).
 */
export function meanInterval(s: MeanSums, confidence = 0.95): (Interval & { method: 'wilson' | 't' }) | null {
  if (s.n <= 0) return null;
  if (s.binary) {
    const w = wilson(Math.round(s.sum), s.n, confidence);
    return w && { ...w, method: 'wilson' };
  }
  if (s.n < 2) return null;
  const mean = s.sum / s.n;
  // Sum of squares about the mean; never below 0 whatever the rounding.
  const ss = Math.max(0, s.sumSquares - s.sum * mean);
  const half = jstat.jStat.studentt.inv(1 - (1 - confidence) / 2, s.n - 1) * Math.sqrt(ss / (s.n - 1) / s.n);
  return { lower: mean - half, upper: mean + half, method: 't' };
}
