import type { RunComparison } from '@assay/client';
import { pc, score, signed, table } from './output.js';

/** `[−0.120, +0.034]`, or `–` without an interval. */
export const formatCi = (ci: { lower: number; upper: number } | null | undefined) =>
  ci ? `[${signed(ci.lower)}, ${signed(ci.upper)}]` : '–';

/** A p-value as people read it: `< 0.001`, `0.013`, `1`. */
export const formatP = (p: number | null | undefined) =>
  p === null || p === undefined ? '–' : p < 0.001 ? '< 0.001' : p >= 0.9995 ? '1' : p.toFixed(3);

/** `p = 0.013`, `p < 0.001`. */
export const pText = (p: number | null | undefined) => {
  const f = formatP(p);
  return f.startsWith('<') ? `p ${f}` : `p = ${f}`;
};

const pct = (n: number | null) => (n === null ? '–' : `${(n * 100).toFixed(1)}%`);

const verdictText = (v: string) =>
  v === 'regressed' ? pc.red(v) : v === 'improved' ? pc.green(v) : pc.dim('no significant change');

/**
 * A comparison as the CLI prints it: the verdict and what decided it, a line per scorer with its
 * change, 95% interval, p-value and verdict (scorers reported beside marked), the counts, and the
 * items that changed most (only their changed scorers).
 */
export function comparisonText(c: RunComparison, limit = 10): string {
  const deciding = c.decidingScorerIds.join(', ') || 'none';
  const lines = [
    `baseline ${c.baseline.id} (${c.baseline.targetId}, ${c.baseline.status}, v${c.baseline.datasetVersion}) → candidate ${c.candidate.id} (${c.candidate.targetId}, ${c.candidate.status}, v${c.candidate.datasetVersion})`,
    `verdict: ${verdictText(c.verdict)} (decided by ${deciding}; alpha ${c.alpha}, Holm-corrected)`,
    table(
      ['scorer', 'baseline', 'candidate', 'delta', '95% CI', 'p', 'pass rate', 'verdict'],
      c.scorers.map((s) => [
        s.deciding ? s.scorerId : `${s.scorerId} ${pc.dim(`(${s.kind}, beside)`)}`,
        score(s.baseline),
        score(s.candidate),
        s.delta === null
          ? '–'
          : s.delta < 0
            ? pc.red(signed(s.delta))
            : s.delta > 0
              ? pc.green(signed(s.delta))
              : signed(s.delta),
        formatCi(s.ci),
        formatP(s.pAdjusted),
        `${pct(s.baselinePassRate)} → ${pct(s.candidatePassRate)}`,
        verdictText(s.verdict) +
          (s.missing.a + s.missing.b + s.missing.both
            ? pc.dim(` (${s.paired} paired; missing ${s.missing.a} / ${s.missing.b} / ${s.missing.both} both)`)
            : ''),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    `items: ${c.items.matched} matched · ${pc.red(`${c.items.regressed} regressed`)} · ${pc.green(`${c.items.improved} improved`)} · ${c.items.unchanged} unchanged` +
      (c.items.onlyInBaseline || c.items.onlyInCandidate
        ? ` · ${c.items.onlyInBaseline} only in baseline · ${c.items.onlyInCandidate} only in candidate (compared on the ${c.items.matched} shared items)`
        : ''),
  ];
  const rows = (title: string, changes: RunComparison['regressions'], total: number) => {
    if (!changes.length) return;
    lines.push(`${title}${total > limit ? ` (first ${limit} of ${total})` : ''}:`);
    lines.push(
      table(
        ['item', 'status', 'changed scores'],
        changes
          .slice(0, limit)
          .map((ch) => [
            ch.externalId ?? ch.itemId,
            ch.status.baseline === ch.status.candidate
              ? ch.status.candidate
              : `${ch.status.baseline} → ${ch.status.candidate}`,
            ch.scores
              .map((s) => `${s.scorerId}${s.deciding ? '' : '*'} ${score(s.baseline)} → ${score(s.candidate)}`)
              .join(', '),
          ]),
      ),
    );
  };
  rows('regressed', c.regressions, c.items.regressed);
  rows('improved', c.improvements, c.items.improved);
  if ([...c.regressions, ...c.improvements].some((ch) => ch.scores.some((s) => !s.deciding)))
    lines.push(pc.dim('* reported beside: does not decide'));
  return lines.join('\n');
}
