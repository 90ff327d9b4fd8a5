/**
 * Holm's step-down adjustment of p-values for testing several scorers at once: the smallest p is
 * multiplied by m, the next by m − 1, …, made monotone and capped at 1 (as statsmodels'
 * `multipletests(method='holm')`). Keeps the chance of any false "regressed" verdict at alpha.
 * Returns the adjusted values in the input's order.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
