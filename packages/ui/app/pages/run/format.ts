export const usd = (v: number | null) => (v === null ? '—' : `$${v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`);

export function eta(secs: number | null) {
  if (secs === null) return '—';
  if (secs < 60) return `${Math.ceil(secs)} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ${Math.ceil(secs % 60)} s`;
  return `${(secs / 3600).toFixed(1)} h`;
}
