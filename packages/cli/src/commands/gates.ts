import type { Run, RunComparison, ScorerStats } from '@assay/client';
import { InvalidArgumentError } from 'commander';
import { formatCi, pText } from './comparison.js';
import { pc, score, signed, table } from './output.js';

/**
 * `--fail-under SCORER=THRESHOLD[:lower]`: the scorer's mean (or, with `:lower`, the lower bound
 * of its 95% confidence interval) must be at least the threshold.
 */
export interface FailUnder {
  scorerId: string;
  threshold: number;
  /** `mean`: the run's mean; `lower`: the lower confidence bound of the mean over items. */
  bound: 'mean' | 'lower';
}

/** `--max-failed N` (items) or `--max-failed P%` (of the run's results). Default 0: no failed item passes. */
export type MaxFailed = { count: number } | { percent: number };

export interface GateResult {
  gate: 'fail-under' | 'baseline' | 'max-failed' | 'status';
  /** Human name, also the JUnit test case name. */
  name: string;
  scorerId?: string;
  passed: boolean;
  /** Why it passed or failed, one line. */
  message: string;
  actual: number | null;
  threshold?: number;
  baseline?: number | null;
  /** The 95% interval the gate looked at: of the mean (`fail-under`), of the change (`baseline`). */
  interval?: { lower: number; upper: number } | null;
  /** `baseline`: the p-value of the change, and after Holm's correction across the deciding scorers. */
  pValue?: number | null;
  pAdjusted?: number | null;
  verdict?: string;
}

/** Float noise must not fail a gate: 0.8 is not below 0.8 even when computed as 0.7999999999. */
const EPS = 1e-9;

export function parseFailUnder(value: string, previous: FailUnder[] = []): FailUnder[] {
  const m = /^(.+)=([^:]+)(?::(mean|lower))?$/.exec(value);
  const threshold = m ? Number(m[2]) : Number.NaN;
  if (!m?.[1].trim() || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw new InvalidArgumentError(
      'expected SCORER=THRESHOLD[:lower] with a threshold from 0 to 1, e.g. exact-match=0.8 or similar=0.8:lower',
    );
  }
  return [...previous, { scorerId: m[1].trim(), threshold, bound: m[3] === 'lower' ? 'lower' : 'mean' }];
}

export function parseMaxFailed(value: string): MaxFailed {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(value.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || (m[2] ? n > 100 : !Number.isInteger(n))) {
    throw new InvalidArgumentError('expected a number of items (e.g. 5) or a share of the results (e.g. 10%)');
  }
  return m[2] ? { percent: n } : { count: n };
}

/** `--alpha`: a significance level, strictly between 0 and 1. */
export function parseAlpha(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1)
    throw new InvalidArgumentError('expected a significance level between 0 and 1, e.g. 0.05');
  return n;
}

export function parseReport(
  value: string,
  previous: { junit?: string; json?: string } = {},
): { junit?: string; json?: string } {
  const m = /^(junit|json)=(.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected junit=FILE or json=FILE');
  return { ...previous, [m[1]]: m[2] };
}

export interface GateOptions {
  failUnder: FailUnder[];
  /** Default `{ count: 0 }`: a run with a failed item does not pass. */
  maxFailed?: MaxFailed;
  /** The comparison with the baseline: a deciding scorer that regressed significantly fails. */
  comparison?: RunComparison;
  /** The run's score cards (with their intervals), needed by `:lower` gates. */
  stats?: ScorerStats[];
}

/** Evaluates every gate of a finished run. */
export function evaluateGates(run: Run, opts: GateOptions): GateResult[] {
  const out: GateResult[] = [];
  const final = run.status === 'completed';
  out.push({
    gate: 'status',
    name: 'run completed',
    passed: final,
    actual: null,
    message: final ? 'run completed' : `run ended ${run.status}${run.error ? `: ${run.error}` : ''}`,
  });
  const scorers = new Map((run.summary?.scorers ?? []).map((s) => [s.scorerId, s]));
  const stats = new Map((opts.stats ?? []).map((s) => [s.scorerId, s]));
  for (const g of opts.failUnder) out.push(g.bound === 'lower' ? lowerGate(g, stats.get(g.scorerId)) : meanGate(g));
  function meanGate(g: FailUnder): GateResult {
    const mean = scorers.get(g.scorerId)?.mean ?? null;
    const passed = mean !== null && mean + EPS >= g.threshold;
    return {
      gate: 'fail-under',
      name: `${g.scorerId} mean >= ${g.threshold}`,
      scorerId: g.scorerId,
      passed,
      actual: mean,
      threshold: g.threshold,
      message:
        mean === null
          ? `${g.scorerId}: no scores (every item failed or was skipped?)`
          : `${g.scorerId} mean ${score(mean)} ${passed ? 'is at least' : 'is below'} ${g.threshold}`,
    };
  }
  out.push(failedGate(run, opts.maxFailed ?? { count: 0 }));
  if (opts.comparison) out.push(...baselineGates(run, opts.comparison));
  return out;
}

/** `--fail-under scorer=x:lower`: the lower 95% bound of the mean over items must reach x. */
function lowerGate(g: FailUnder, s: ScorerStats | undefined): GateResult {
  const ci = s?.meanInterval ?? null;
  const passed = ci !== null && ci.lower + EPS >= g.threshold;
  return {
    gate: 'fail-under',
    name: `${g.scorerId} lower 95% bound >= ${g.threshold}`,
    scorerId: g.scorerId,
    passed,
    actual: ci?.lower ?? null,
    threshold: g.threshold,
    interval: ci && { lower: ci.lower, upper: ci.upper },
    message: !s?.items
      ? `${g.scorerId}: no scores (every item failed or was skipped?)`
      : !ci
        ? `${g.scorerId}: one item is too few for a confidence interval (lower bound gate needs two)`
        : `${g.scorerId} mean ${score(s.mean)}, 95% CI ${formatCi(ci)} over ${s.items} items: the lower bound ${passed ? 'is at least' : 'is below'} ${g.threshold}`,
  };
}

function failedGate(run: Run, max: MaxFailed): GateResult {
  const failed = run.summary?.failed ?? run.failedCount;
  const total = run.summary?.total ?? run.totalItems;
  const share = total ? (100 * failed) / total : 0;
  const allowed = 'count' in max ? `${max.count}` : `${max.percent}%`;
  const passed = 'count' in max ? failed <= max.count : share <= max.percent + EPS;
  return {
    gate: 'max-failed',
    name: `failed items <= ${allowed}`,
    passed,
    actual: failed,
    threshold: 'count' in max ? max.count : max.percent,
    message:
      `${failed} item(s) failed${'percent' in max ? ` (${share.toFixed(1)}% of ${total})` : ''} (at most ${allowed} allowed` +
      (passed || 'percent' in max ? ')' : '; allow some with --max-failed N or P%)'),
  };
}

/** One gate per deciding scorer of the run: it fails on a significant regression only. */
function baselineGates(run: Run, c: RunComparison): GateResult[] {
  const out: GateResult[] = [];
  for (const d of c.scorers) {
    if (!d.deciding || !run.scorerIds.includes(d.scorerId)) continue;
    const passed = d.verdict !== 'regressed';
    const evidence =
      d.delta === null
        ? `nothing to compare (no item scored in both runs; baseline ${score(d.baseline)}, now ${score(d.candidate)})`
        : `${signed(d.delta)} (95% CI ${formatCi(d.ci)}, ${pText(d.pAdjusted)}${c.decidingScorerIds.length > 1 ? ' (Holm)' : ''}, ${d.paired} items)`;
    out.push({
      gate: 'baseline',
      name: `${d.scorerId} no significant regression against baseline ${c.baseline.id}`,
      scorerId: d.scorerId,
      passed,
      actual: d.candidate,
      baseline: d.baseline,
      threshold: d.minEffect,
      interval: d.ci,
      pValue: d.pValue,
      pAdjusted: d.pAdjusted,
      verdict: d.verdict,
      message: `${d.scorerId} ${d.verdict} against baseline: ${evidence}`,
    });
  }
  return out;
}

export function gatesText(gates: GateResult[]): string {
  return table(
    ['', 'gate'],
    gates.map((g) => [g.passed ? pc.green('PASS') : pc.red('FAIL'), g.message]),
  );
}
