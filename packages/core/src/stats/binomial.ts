import jstat from 'jstat';

const { gammaln } = jstat.jStat;

/**
 * P(X ≤ k) for X ~ Binomial(n, 1/2), exactly (to double precision): the terms are summed in log
 * space from k down, stopping once they no longer change the sum — a few times √n terms at most,
 * so it stays fast and accurate for the n of a 1,000,000-item run, where a continued-fraction
 * incomplete beta loses its precision.
 */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const logNorm = gammaln(n + 1) - n * Math.LN2;
  const logTerm = (i: number) => logNorm - gammaln(i + 1) - gammaln(n - i + 1);
  // Sum relative to the largest term (the one at k, the nearest to the mode in a lower tail).
  const top = logTerm(Math.min(k, Math.floor(n / 2)));
  let sum = 0;
  for (let i = k; i >= 0; i--) {
    const t = Math.exp(logTerm(i) - top);
    sum += t;
    if (t < sum * 1e-17) break;
  }
  return Math.min(1, sum * Math.exp(top));
}

/**
 * The exact two-sided McNemar test: of the `b + c` items whose pass/fail flipped between two runs,
 * `b` went one way and `c` the other; under no change each flip is a fair coin. Two-sided p-value
 * as statsmodels' `mcnemar(exact=True)`: min(1, 2 · P(X ≤ min(b, c))). No flips: p = 1.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(b, c), n));
}
