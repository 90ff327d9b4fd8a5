import type { Dataset, Run, ScorerComparison, ScoreStats } from '@assay/client';
import { useQueries, useQuery } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import { useLocation } from 'wouter';
import { client, fmt } from '../../api';
import { ErrorBox, InlineSelect } from '../../components';
import { type RunPoint, ScorerChart, STANDING_COLOURS, type Standing } from './ScorerChart';

/** Completed runs shown: the newest ones. */
const SHOWN = 20;
/** Runs read to find them (newest first). */
const SCANNED = 100;
/** Candidates per `POST /compare/many` request (its maximum). */
const PER_COMPARE = 10;

const when = (r: Run) => new Date(r.startedAt ?? r.createdAt);
const nameOf = (r: Run) => r.name ?? r.id;

/** Per candidate and scorer, its comparison with the baseline: `compare/many`, ten candidates a request. */
function useVerdicts(datasetId: string, baselineId: string | undefined, candidates: string[]) {
  return useQuery({
    queryKey: ['compareMany', datasetId, baselineId, candidates],
    enabled: baselineId !== undefined && candidates.length > 0,
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async () => {
      const out = new Map<string, Map<string, ScorerComparison>>();
      for (let i = 0; i < candidates.length; i += PER_COMPARE) {
        const m = await client.compareMany(datasetId, {
          baselineRunId: baselineId!,
          runIds: candidates.slice(i, i + PER_COMPARE),
          limit: 0,
        });
        for (const c of m.comparisons) out.set(c.run.id, new Map(c.scorers.map((s) => [s.scorerId, s])));
      }
      return out;
    },
  });
}

/**
 * The dataset page's runs over time: per scorer, the last {@link SHOWN} completed runs, each with
 * its mean and 95% interval over items (the score cards' `GET …/scores`), coloured by its verdict
 * against a baseline (`POST …/compare/many`: the same paired comparison as the compare page). The
 * baseline is the earliest run shown unless the user picks another; a click on a dot opens its run.
 */
export function RunsOverTime({ dataset }: { dataset: Dataset }) {
  const [, navigate] = useLocation();
  const [picked, setPicked] = useState<string>('');
  const list = useQuery({
    queryKey: ['runs', dataset.id, 'over-time'],
    queryFn: () => client.listRuns(dataset.id, { page: 0, perPage: SCANNED }),
    refetchInterval: (q) =>
      q.state.data?.runs.some((r) => r.status === 'pending' || r.status === 'running') ? 2000 : false,
  });
  // Oldest first, as the x axis runs.
  const runs = useMemo(
    () =>
      (list.data?.runs ?? [])
        .filter((r) => r.status === 'completed')
        .slice(0, SHOWN)
        .sort((a, b) => when(a).getTime() - when(b).getTime()),
    [list.data],
  );
  const baseline = runs.find((r) => r.id === picked) ?? runs[0];
  const candidates = useMemo(() => runs.filter((r) => r !== baseline).map((r) => r.id), [runs, baseline]);
  const stats = useQueries({
    queries: runs.map((r) => ({
      // A completed run's scores change only when it is retried, which gives it a new completedAt.
      queryKey: ['scoreStats', dataset.id, r.id, r.completedAt, 1],
      queryFn: () => client.scoreStats(dataset.id, r.id, { bins: 1 }),
      staleTime: Number.POSITIVE_INFINITY,
    })),
  });
  const verdicts = useVerdicts(dataset.id, baseline?.id, candidates);
  const statsByRun = new Map<string, ScoreStats>();
  runs.forEach((r, i) => {
    const s = stats[i]?.data;
    if (s) statsByRun.set(r.id, s);
  });
  // Cheap (at most 20 runs × their scorers): rebuilt every render; each chart redraws only when its points change.
  const byScorer = new Map<string, RunPoint[]>();
  for (const r of runs) {
    for (const s of statsByRun.get(r.id)?.scorers ?? []) {
      if (s.mean === null) continue;
      const isBaseline = r === baseline;
      const cmp = isBaseline ? undefined : verdicts.data?.get(r.id)?.get(s.scorerId);
      const standing: Standing = isBaseline
        ? 'baseline'
        : cmp
          ? cmp.verdict
          : verdicts.isError
            ? 'no significant change'
            : 'pending';
      const ci = s.meanInterval;
      const against =
        cmp && cmp.delta !== null
          ? ` · Δ ${fmt.num(cmp.delta)} vs baseline (p ${fmt.num(cmp.pAdjusted)}), ${cmp.verdict}`
          : '';
      const points = byScorer.get(s.scorerId) ?? [];
      points.push({
        runId: r.id,
        label: nameOf(r),
        time: when(r),
        mean: s.mean,
        interval: ci,
        standing,
        title: `${nameOf(r)} (${fmt.date(r.startedAt ?? r.createdAt)})\nmean ${fmt.num(s.mean)}${ci ? ` [${fmt.num(ci.lower)}, ${fmt.num(ci.upper)}]` : ''} over ${s.items} items${isBaseline ? ' · baseline' : against}`,
      });
      byScorer.set(s.scorerId, points);
    }
  }
  const charts = [...byScorer.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  // Every chart spans the same time, from the first run shown to the last.
  const domain = useMemo((): [Date, Date] => {
    const times = runs.map((r) => when(r).getTime());
    return [new Date(Math.min(...times)), new Date(Math.max(...times))];
  }, [runs]);
  const open = useCallback(
    (runId: string) => navigate(`/datasets/${dataset.id}/runs/${runId}`),
    [navigate, dataset.id],
  );

  if (list.isError) return <ErrorBox error={list.error} onRetry={() => list.refetch()} />;
  if (runs.length === 0) return null;
  return (
    <section aria-label="Scores over time" data-testid="runs-over-time">
      <div className="toolbar">
        <strong>Scores over time</strong>
        <span className="muted small">
          last {runs.length} completed run{runs.length === 1 ? '' : 's'} · mean with 95% interval · colour: verdict
          against the baseline
        </span>
        <span className="spacer" />
        <InlineSelect title="Baseline" name="Chart baseline" value={baseline?.id ?? ''} onChange={setPicked}>
          {runs.map((r) => (
            <option key={r.id} value={r.id}>
              {nameOf(r)} · {fmt.date(r.startedAt ?? r.createdAt)}
            </option>
          ))}
        </InlineSelect>
      </div>
      <p className="muted small" data-testid="runs-over-time-legend">
        {(['baseline', 'improved', 'regressed', 'no significant change'] as const).map((s) => (
          <span key={s} style={{ marginRight: 12 }}>
            <span style={{ color: STANDING_COLOURS[s] }}>●</span> {s}
          </span>
        ))}
        {verdicts.isFetching && <span>comparing with the baseline…</span>}
      </p>
      {verdicts.isError && <ErrorBox error={verdicts.error} onRetry={() => verdicts.refetch()} />}
      <div className="cards">
        {charts.map(([scorerId, points]) => (
          <div key={scorerId} className="card">
            <h3>{scorerId}</h3>
            <ScorerChart scorerId={scorerId} points={points} domain={domain} onPick={open} />
          </div>
        ))}
      </div>
    </section>
  );
}
