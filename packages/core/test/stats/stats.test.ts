/**
 * The statistics of compare against reference values from scipy and statsmodels
 * (`make_fixtures.py` beside this file wrote `fixtures.json`). Tolerances: exact methods
 * (Wilson, McNemar, Holm, Student's t) to 1e-9 relative; bootstrap intervals — a different
 * generator and fewer resamples than scipy's 20,000 — to 0.1 standard errors of the mean
 * difference (the Monte Carlo error of a percentile endpoint at 4,000 resamples is ≈ 0.03).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { holm, mcnemarExact, meanInterval, pairedDifference, wilson } from '../../src/stats/index.js';

interface PairedCase {
  name: string;
  a?: number[];
  b?: number[];
  modular?: number;
  meanDiff: number;
  t?: { p: number; lower: number; upper: number };
  bootstrap?: { lower: number; upper: number; standardError: number };
  mcnemar?: { down: number; up: number; p: number };
}
const fx = JSON.parse(readFileSync(new URL('./fixtures.json', import.meta.url), 'utf8')) as {
  wilson: { k: number; n: number; lower: number; upper: number }[];
  mcnemar: { b: number; c: number; p: number }[];
  holm: { p: number[]; adjusted: number[] }[];
  paired: PairedCase[];
};

const close = (actual: number | null | undefined, expected: number, rel = 1e-9) =>
  expect(Math.abs((actual ?? Number.NaN) - expected)).toBeLessThanOrEqual(
    rel * Math.max(1e-12, Math.abs(expected)) + 1e-15,
  );

/** The large case of make_fixtures.py, rebuilt from its size. */
const modular = (n: number) => {
  const i = Array.from({ length: n }, (_, k) => k);
  return [i.map((k) => ((k * 7919) % 1000) / 1000), i.map((k) => ((k * 104729) % 1009) / 1009)];
};

describe('wilson', () => {
  it.each(fx.wilson)('$k of $n', ({ k, n, lower, upper }) => {
    const ci = wilson(k, n);
    close(ci?.lower, lower);
    close(ci?.upper, upper);
  });
  it('has no interval without trials', () => expect(wilson(0, 0)).toBeNull());
});

describe('mcnemarExact', () => {
  it.each(fx.mcnemar)('b=$b c=$c', ({ b, c, p }) => close(mcnemarExact(b, c), p, 1e-8));
});

describe('holm', () => {
  it.each(fx.holm)('$p', ({ p, adjusted }) => {
    const got = holm(p);
    for (const [i, x] of adjusted.entries()) close(got[i], x);
  });
});

describe('pairedDifference', () => {
  it.each(fx.paired)('$name', async (c) => {
    const [a, b] = c.modular ? modular(c.modular) : [c.a!, c.b!];
    const r = await pairedDifference(a, b);
    expect(r.n).toBe(a.length);
    close(r.meanDiff, c.meanDiff, 1e-9);
    if (c.mcnemar) {
      expect(r.test).toBe('mcnemar');
      expect(r.flips).toEqual({ down: c.mcnemar.down, up: c.mcnemar.up });
      close(r.pValue, c.mcnemar.p, 1e-8);
    } else if (c.t) {
      expect(r.test).toBe('paired-t');
      close(r.pValue, c.t.p, 1e-6);
    }
    if (a.length > 5_000 && c.t) {
      expect(r.interval).toBe('t');
      close(r.ci?.lower, c.t.lower, 1e-6);
      close(r.ci?.upper, c.t.upper, 1e-6);
    } else if (c.bootstrap) {
      expect(r.interval).toBe('bootstrap');
      const tol = 0.1 * c.bootstrap.standardError + 1e-12;
      expect(Math.abs(r.ci!.lower - c.bootstrap.lower)).toBeLessThanOrEqual(tol);
      expect(Math.abs(r.ci!.upper - c.bootstrap.upper)).toBeLessThanOrEqual(tol);
    }
  });

  it('is deterministic: the same runs give the same interval', async () => {
    const a = Array.from({ length: 300 }, (_, i) => ((i * 37) % 100) / 100);
    const b = a.map((x, i) => Math.min(1, x + ((i % 7) - 2) / 50));
    expect(await pairedDifference(a, b)).toEqual(await pairedDifference(a, b));
  });

  it('leaves out items missing a score in either run, and counts only the pairs', async () => {
    const r = await pairedDifference([1, null, 0, 1, null], [1, 1, null, 0, null]);
    expect(r).toMatchObject({ n: 2, meanA: 1, meanB: 0.5, meanDiff: -0.5, test: 'mcnemar', flips: { down: 1, up: 0 } });
    expect(r.pValue).toBe(1);
  });

  it('all equal: no difference, p = 1, a zero-width interval', async () => {
    const r = await pairedDifference([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
    expect(r).toMatchObject({ meanDiff: 0, pValue: 1, ci: { lower: 0, upper: 0 } });
  });

  it('every item moved by the same amount: the exact sign-flip p-value 2 · 2⁻ⁿ, not t (undefined)', async () => {
    const two = await pairedDifference([0.25, 0.5], [0.5, 0.75]);
    expect(two).toMatchObject({ test: 'paired-t', pValue: 0.5 });
    close(two.meanDiff, 0.25);
    const twenty = await pairedDifference(Array(20).fill(0.25), Array(20).fill(0.5));
    close(twenty.pValue, 2 ** -19);
  });

  it('one item: a difference, no interval, no evidence (p = 1)', async () => {
    const r = await pairedDifference([0.2], [0.9]);
    expect(r.ci).toBeNull();
    expect(r.pValue).toBe(1);
    close(r.meanDiff, 0.7);
  });

  it('no pairs at all: nothing to estimate', async () => {
    expect(await pairedDifference([null], [1])).toMatchObject({ n: 0, meanDiff: null, ci: null, pValue: 1 });
  });
});

describe('meanInterval', () => {
  // A paired t interval is the one-sample t interval of the differences: scipy's values for it.
  const withT = fx.paired.filter((c) => c.t);
  it.each(withT)('Student t from sums, as scipy: $name', (c) => {
    const [a, b] = c.modular ? modular(c.modular) : [c.a!, c.b!];
    const d = a.map((x, i) => b[i]! - x);
    const sums = { n: d.length, sum: d.reduce((x, y) => x + y, 0), sumSquares: d.reduce((x, y) => x + y * y, 0) };
    const ci = meanInterval({ ...sums, binary: false });
    expect(ci?.method).toBe('t');
    close(ci?.lower, c.t!.lower, 1e-6);
    close(ci?.upper, c.t!.upper, 1e-6);
  });
  it.each(fx.wilson)('Wilson for 0/1 values, as statsmodels: $k of $n', ({ k, n, lower, upper }) => {
    const ci = meanInterval({ n, sum: k, sumSquares: k, binary: true });
    expect(ci?.method).toBe('wilson');
    close(ci?.lower, lower);
    close(ci?.upper, upper);
  });
  it('no interval without a spread to measure; a zero-width one for equal values', () => {
    expect(meanInterval({ n: 0, sum: 0, sumSquares: 0, binary: true })).toBeNull();
    expect(meanInterval({ n: 1, sum: 0.4, sumSquares: 0.16, binary: false })).toBeNull();
    const equal = meanInterval({ n: 3, sum: 1.5, sumSquares: 0.75, binary: false });
    close(equal?.lower, 0.5);
    close(equal?.upper, 0.5);
  });
});
