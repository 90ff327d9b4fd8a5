import * as Plot from '@observablehq/plot';
import { useEffect, useRef } from 'react';

/** Where a run stands against the baseline on one scorer (`pending`: its comparison is not in yet). */
export type Standing = 'baseline' | 'improved' | 'regressed' | 'no significant change' | 'pending';

/** One run on one scorer's chart. */
export interface RunPoint {
  runId: string;
  label: string;
  time: Date;
  mean: number;
  /** 95% interval of the mean over items; null below two items. */
  interval: { lower: number; upper: number } | null;
  standing: Standing;
  /** What the dot's tooltip says. */
  title: string;
}

/** Colours of the standings (the stylesheet's `--ok`, `--bad`, `--muted`, `--fg`). */
export const STANDING_COLOURS: Record<Standing, string> = {
  baseline: '#1d2330',
  improved: '#1f8a4c',
  regressed: '#c2352b',
  'no significant change': '#8a93a6',
  pending: '#c5cad4',
};

/** Tick labels for a time axis spanning `ms`: seconds within minutes, hours within a day, else days. */
function timeFormat(ms: number): (d: Date) => string {
  if (ms < 10 * 60_000)
    return (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (ms < 36 * 3_600_000) return (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (d) => d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

/**
 * One scorer's runs over time, drawn by Observable Plot: per run a dot at its mean and a rule
 * over its 95% interval, coloured by its verdict against the baseline; the baseline's dot is
 * larger and its mean a dashed line across the chart. `domain` is the time axis's extent, the same
 * for every scorer's chart so that they line up. A click on a dot calls `onPick` with its run.
 */
export function ScorerChart({
  scorerId,
  points,
  domain,
  onPick,
}: {
  scorerId: string;
  points: RunPoint[];
  domain: [Date, Date];
  onPick?: (runId: string) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  // Redrawn when what it shows changes, not on every render of the page.
  const drawn = JSON.stringify([points, domain]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `drawn` stands for `points`
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const baseline = points.find((p) => p.standing === 'baseline');
    const colour = (p: RunPoint) => STANDING_COLOURS[p.standing];
    const withInterval = points.filter((p) => p.interval);
    const svg = Plot.plot({
      ariaLabel: `${scorerId} over time`,
      width: 360,
      height: 190,
      marginLeft: 40,
      inset: 12,
      style: { background: 'transparent', fontSize: '11px' },
      x: {
        type: 'time',
        domain,
        label: null,
        ticks: 3,
        tickFormat: timeFormat(domain[1].getTime() - domain[0].getTime()),
      },
      y: { domain: [0, 1], grid: true, label: 'mean', ticks: 5 },
      color: { type: 'identity' },
      r: { type: 'identity' },
      marks: [
        baseline
          ? Plot.ruleY([baseline.mean], {
              stroke: STANDING_COLOURS.baseline,
              strokeDasharray: '4,3',
              strokeOpacity: 0.6,
            })
          : null,
        Plot.ruleX(withInterval, {
          x: 'time',
          y1: (p: RunPoint) => p.interval!.lower,
          y2: (p: RunPoint) => p.interval!.upper,
          stroke: colour,
          strokeWidth: 2,
          clip: true,
          ariaDescription: 'intervals',
        }),
        Plot.dot(points, {
          x: 'time',
          y: 'mean',
          r: (p: RunPoint) => (p.standing === 'baseline' ? 6 : 4),
          fill: colour,
          stroke: 'white',
          strokeWidth: 1,
          title: 'title',
          clip: true,
          ariaLabel: (p: RunPoint) => `${p.label}: ${p.standing}`,
          ariaDescription: 'runs',
        }),
      ],
    });
    // Plot binds each dot to its index in `points`: a click opens that run.
    const circles = svg.querySelectorAll<SVGCircleElement>('g[aria-description="runs"] circle');
    circles.forEach((c) => {
      const i = (c as unknown as { __data__?: number }).__data__;
      const p = typeof i === 'number' ? points[i] : undefined;
      if (!p) return;
      c.dataset.runId = p.runId;
      c.dataset.standing = p.standing;
      if (onPick) {
        c.style.cursor = 'pointer';
        c.addEventListener('click', () => onPick(p.runId));
      }
    });
    el.replaceChildren(svg);
    return () => svg.remove();
  }, [scorerId, drawn, onPick]);
  return <div ref={box} className="runs-chart" data-testid={`runs-chart-${scorerId}`} />;
}
