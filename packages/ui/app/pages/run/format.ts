export const usd = (v: number | null) => (v === null ? '—' : `$${v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`);

export function eta(secs: number | null) {
  if (secs === null) return '—';
  if (secs < 60) return `${Math.ceil(secs)} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ${Math.ceil(secs % 60)} s`;
  return `${(secs / 3600).toFixed(1)} h`;
}

/** How a score reads against the run's pass threshold: the colour and the glyph of its cell. */
export type ScoreBand = 'pass' | 'fail' | 'error' | 'none';

/**
 * The band of one result's score for one scorer: `pass` at or above the threshold, `fail` below,
 * `error` when the scorer failed (no score), `none` when there is no score at all (the item failed
 * or has not run yet).
 */
export function scoreBand(score: { score: number | null; error: unknown } | undefined, threshold: number): ScoreBand {
  if (!score) return 'none';
  if (score.score === null) return score.error ? 'error' : 'none';
  return score.score >= threshold ? 'pass' : 'fail';
}

/** The tooltip of a score cell: what its colour means, in words. */
export function scoreTitle(band: ScoreBand, threshold: number): string {
  if (band === 'pass') return `pass (score ≥ ${threshold})`;
  if (band === 'fail') return `fail (score < ${threshold})`;
  if (band === 'error') return 'scorer error: open the item for its message';
  return 'no score';
}
