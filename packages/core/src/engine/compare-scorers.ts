import type { ScorerComparison, ScorerKind, Verdict } from '@assay/contract';
import { mcnemarExact } from '../stats/binomial.js';
import { holm } from '../stats/holm.js';
import { pairedDifference } from '../stats/paired.js';
import { wilson } from '../stats/proportion.js';
import { Floats } from './compare-items.js';

/** The confidence of every interval of a comparison. */
export const CONFIDENCE = 0.95;
/** Bootstrap resamples and seed: the same two runs always give the same interval. */
const RESAMPLES = 4_000;
const SEED = 1;
/** Float noise must not turn an effect of exactly `minEffect` into a smaller one. */
const EPS = 1e-12;

/** One run's side of a scorer over the shared items. */
class Side {
  sum = 0;
  count = 0;
  passed = 0;
  constructor(readonly passThreshold: number) {}
  add(x: number): boolean {
    this.sum += x;
    this.count++;
    const pass = x >= this.passThreshold;
    if (pass) this.passed++;
    return pass;
  }
  toJSON(): ScorerComparison['a'] {
    const n = this.count;
    return {
      mean: n ? this.sum / n : null,
      passRate: n ? this.passed / n : null,
      passInterval: wilson(this.passed, n, CONFIDENCE),
      count: n,
    };
  }
}

/**
 * One scorer of a comparison, fed item by item (each item's mean over its repetitions in each
 * run): it keeps the paired values (8 bytes per item and run, for the bootstrap), the sides'
 * sums, the pass/fail flips and the missing scores, and nothing else.
 */
export class ScorerPairs {
  private readonly a = new Floats();
  private readonly b = new Floats();
  private readonly sideA: Side;
  private readonly sideB: Side;
  private readonly missing = { a: 0, b: 0, both: 0 };
  private readonly flips = { down: 0, up: 0 };

  constructor(
    readonly scorerId: string,
    passThresholds: { a: number; b: number },
  ) {
    this.sideA = new Side(passThresholds.a);
    this.sideB = new Side(passThresholds.b);
  }

  /** An item both runs have: its mean score in A and in B (null: no score). */
  add(x: number | null, y: number | null): void {
    const passA = x === null ? null : this.sideA.add(x);
    const passB = y === null ? null : this.sideB.add(y);
    if (x === null && y === null) this.missing.both++;
    else if (x === null) this.missing.a++;
    else if (y === null) this.missing.b++;
    else {
      this.a.push(x);
      this.b.push(y);
      if (passA && !passB) this.flips.down++;
      else if (!passA && passB) this.flips.up++;
    }
  }

  /** The paired statistics; `pAdjusted` and the verdict come from {@link decide}. */
  async measure(): Promise<
    Omit<ScorerComparison, 'kind' | 'deciding' | 'pAdjusted' | 'minEffect' | 'threshold' | 'verdict' | 'regressed'>
  > {
    const d = await pairedDifference(this.a.view(), this.b.view(), {
      confidence: CONFIDENCE,
      resamples: RESAMPLES,
      seed: SEED,
    });
    return {
      scorerId: this.scorerId,
      a: this.sideA.toJSON(),
      b: this.sideB.toJSON(),
      paired: d.n,
      missing: { ...this.missing },
      delta: d.meanDiff,
      ci: d.ci,
      ciMethod: d.interval,
      test: d.test,
      pValue: d.n ? d.pValue : null,
      flips: { ...this.flips },
      flipsPValue: mcnemarExact(this.flips.down, this.flips.up),
    };
  }
}

/** What decides: the significance level, and per scorer its kind, whether it decides and its minimum effect. */
export interface Decision {
  alpha: number;
  kindOf(scorerId: string): ScorerKind;
  deciding: ReadonlySet<string>;
  minEffectOf(scorerId: string): number;
  thresholdOf(scorerId: string): number;
}

/** The verdict of one scorer: significant at `alpha` and at least `minEffect` either way. */
export function verdictOf(delta: number | null, p: number | null, alpha: number, minEffect: number): Verdict {
  if (delta === null || p === null || delta === 0 || !(p < alpha)) return 'no significant change';
  if (Math.abs(delta) + EPS < minEffect) return 'no significant change';
  return delta > 0 ? 'improved' : 'regressed';
}

/**
 * Holm's correction over the deciding scorers (the family the verdict is drawn from), then each
 * scorer's verdict. Scorers reported beside keep their own p-value.
 */
export function decide(measured: Awaited<ReturnType<ScorerPairs['measure']>>[], d: Decision): ScorerComparison[] {
  const family = measured.filter((m) => d.deciding.has(m.scorerId) && m.pValue !== null);
  const adjusted = new Map(holm(family.map((m) => m.pValue!)).map((p, i) => [family[i]!.scorerId, p]));
  return measured.map((m) => {
    const deciding = d.deciding.has(m.scorerId);
    const pAdjusted = deciding ? (adjusted.get(m.scorerId) ?? null) : m.pValue;
    const minEffect = d.minEffectOf(m.scorerId);
    const verdict = verdictOf(m.delta, pAdjusted, d.alpha, minEffect);
    return {
      ...m,
      kind: d.kindOf(m.scorerId),
      deciding,
      pAdjusted,
      minEffect,
      threshold: d.thresholdOf(m.scorerId),
      verdict,
      regressed: deciding && verdict === 'regressed',
    };
  });
}

/** The comparison's verdict: any deciding regression wins, then any improvement. */
export function overallVerdict(scorers: ScorerComparison[]): Verdict {
  const deciding = scorers.filter((s) => s.deciding);
  if (deciding.some((s) => s.verdict === 'regressed')) return 'regressed';
  if (deciding.some((s) => s.verdict === 'improved')) return 'improved';
  return 'no significant change';
}
