import type { Run, RunComparison } from '@assay/client';
import { InvalidArgumentError } from 'commander';
import { pc, score, signed, table } from './output.js';

/** `--fail-under SCORER=THRESHOLD`: the scorer's mean must be at least the threshold. */
export interface FailUnder {
  scorerId: string;
  threshold: number;
}

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
}

/** Float noise must not fail a gate: 0.8 is not below 0.8 even when computed as 0.7999999999. */
const EPS = 1e-9;

export function parseFailUnder(value: string, previous: FailUnder[] = []): FailUnder[] {
  const m = /^(.+)=(.+)$/.exec(value);
  const threshold = m ? Number(m[2]) : Number.NaN;
  if (!m?.[1].trim() || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw new InvalidArgumentError('expected SCORER=THRESHOLD with a threshold from 0 to 1, e.g. exact-match=0.8');
  }
  return [...previous, { scorerId: m[1].trim(), threshold }];
}

export function parseReport(
  value: string,
  previous: { junit?: string; json?: string } = {},
): { junit?: string; json?: string } {
  const m = /^(junit|json)=(.+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected junit=FILE or json=FILE');
  return { ...previous, [m[1]]: m[2] };
}

/** Evaluates every gate of a finished run. */
export function evaluateGates(
  run: Run,
  opts: { failUnder: FailUnder[]; maxFailed?: number; comparison?: RunComparison; maxRegression: number },
): GateResult[] {
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
  for (const g of opts.failUnder) {
    const mean = scorers.get(g.scorerId)?.mean ?? null;
    const passed = mean !== null && mean + EPS >= g.threshold;
    out.push({
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
    });
  }
  if (opts.maxFailed !== undefined) {
    const failed = run.summary?.failed ?? run.failedCount;
    const passed = failed <= opts.maxFailed;
    out.push({
      gate: 'max-failed',
      name: `failed items <= ${opts.maxFailed}`,
      passed,
      actual: failed,
      threshold: opts.maxFailed,
      message: `${failed} item(s) failed (at most ${opts.maxFailed} allowed)`,
    });
  }
  if (opts.comparison) {
    for (const d of opts.comparison.scorers) {
      if (!run.scorerIds.includes(d.scorerId)) continue;
      const name = `${d.scorerId} no worse than baseline ${opts.comparison.baseline.id} by more than ${opts.maxRegression}`;
      if (d.delta === null) {
        out.push({
          gate: 'baseline',
          name,
          scorerId: d.scorerId,
          passed: true,
          actual: d.candidate,
          baseline: d.baseline,
          message: `${d.scorerId}: nothing to compare (baseline ${score(d.baseline)}, now ${score(d.candidate)})`,
        });
        continue;
      }
      const passed = d.delta + EPS >= -opts.maxRegression;
      out.push({
        gate: 'baseline',
        name,
        scorerId: d.scorerId,
        passed,
        actual: d.candidate,
        baseline: d.baseline,
        threshold: opts.maxRegression,
        message: `${d.scorerId} ${score(d.candidate)} vs baseline ${score(d.baseline)} (${signed(d.delta)}; at most −${opts.maxRegression} allowed)`,
      });
    }
  }
  return out;
}

export function gatesText(gates: GateResult[]): string {
  return table(
    ['', 'gate'],
    gates.map((g) => [g.passed ? pc.green('PASS') : pc.red('FAIL'), g.message]),
  );
}

export function comparisonText(c: RunComparison, limit = 10): string {
  const lines = [
    `baseline ${c.baseline.id} (${c.baseline.targetId}, ${c.baseline.status}) → candidate ${c.candidate.id} (${c.candidate.targetId}, ${c.candidate.status})`,
    table(
      ['scorer', 'baseline', 'candidate', 'delta', 'pass rate'],
      c.scorers.map((s) => [
        s.scorerId,
        score(s.baseline),
        score(s.candidate),
        s.delta === null
          ? '–'
          : s.delta < 0
            ? pc.red(signed(s.delta))
            : s.delta > 0
              ? pc.green(signed(s.delta))
              : signed(s.delta),
        `${s.baselinePassRate === null ? '–' : (s.baselinePassRate * 100).toFixed(1)}% → ${s.candidatePassRate === null ? '–' : (s.candidatePassRate * 100).toFixed(1)}%`,
      ]),
      ['left', 'right', 'right', 'right', 'right'],
    ),
    `items: ${c.items.matched} matched · ${pc.red(`${c.items.regressed} regressed`)} · ${pc.green(`${c.items.improved} improved`)} · ${c.items.unchanged} unchanged` +
      (c.items.onlyInBaseline || c.items.onlyInCandidate
        ? ` · ${c.items.onlyInBaseline} only in baseline · ${c.items.onlyInCandidate} only in candidate`
        : ''),
  ];
  const rows = (title: string, changes: RunComparison['regressions'], total: number) => {
    if (!changes.length) return;
    lines.push(`${title}${total > limit ? ` (first ${limit} of ${total})` : ''}:`);
    lines.push(
      table(
        ['item', 'rep', 'status', 'scores'],
        changes
          .slice(0, limit)
          .map((ch) => [
            ch.itemId,
            ch.repetition,
            ch.status.baseline === ch.status.candidate
              ? ch.status.candidate
              : `${ch.status.baseline} → ${ch.status.candidate}`,
            ch.scores.map((s) => `${s.scorerId} ${score(s.baseline)} → ${score(s.candidate)}`).join(', '),
          ]),
      ),
    );
  };
  rows('regressed', c.regressions, c.items.regressed);
  rows('improved', c.improvements, c.items.improved);
  return lines.join('\n');
}
