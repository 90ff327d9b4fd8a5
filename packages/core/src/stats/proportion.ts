import jstat from 'jstat';

export interface Interval {
  lower: number;
  upper: number;
}

/** The two-sided standard normal quantile for a confidence level (1.96 for 0.95). */
export const zFor = (confidence: number) => jstat.jStat.normal.inv(1 - (1 - confidence) / 2, 0, 1);

/**
 * The Wilson score interval for a proportion of `successes` in `n`: unlike the normal
 * approximation it stays inside [0, 1] and is sensible at 0 of n or n of n. No trials: null.
 */
export function wilson(successes: number, n: number, confidence = 0.95): Interval | null {
  if (n <= 0) return null;
  const z = zFor(confidence);
  const p = successes / n;
  const z2 = z * z;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, center - half), upper: Math.min(1, center + half) };
}
