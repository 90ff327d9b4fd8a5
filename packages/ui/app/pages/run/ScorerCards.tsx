import type { Run } from '@assay/client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { client, FINAL, fmt } from '../../api';
import { ErrorBox, Histogram, Loading } from '../../components';

export function ScorerCards({ datasetId, run }: { datasetId: string; run: Run }) {
  const active = !FINAL.has(run.status);
  const q = useQuery({
    queryKey: ['scores', datasetId, run.id],
    queryFn: () => client.scoreStats(datasetId, run.id),
    refetchInterval: active ? 2000 : false,
    placeholderData: keepPreviousData,
  });
  if (run.scorerIds.length === 0) return null;
  if (q.isPending) return <Loading label="Loading scores…" />;
  if (q.isError) return <ErrorBox error={q.error} onRetry={() => q.refetch()} />;
  const byId = new Map(q.data.scorers.map((s) => [s.scorerId, s]));
  const threshold = q.data.passThreshold ?? run.options.passThreshold ?? 0.5;
  // The median comes with the run's summary (stored when the run ends).
  const medians = new Map((run.summary?.scorers ?? []).map((s) => [s.scorerId, s.median ?? null]));
  return (
    <div className="cards">
      {run.scorerIds.map((id) => {
        const s = byId.get(id);
        return (
          <div className="card" key={id} data-testid={`scorer-${id}`}>
            <h3>{id}</h3>
            <div className="metrics">
              <div>
                <span className="big">{fmt.num(s?.mean ?? null)}</span>
                <span className="muted small">
                  mean{medians.get(id) != null ? ` · median ${fmt.num(medians.get(id) ?? null)}` : ''}
                </span>
              </div>
              <div>
                <span className="big">{fmt.pct(s?.passRate ?? null)}</span>
                <span className="muted small">pass rate (≥ {threshold})</span>
              </div>
              <div>
                <span className="big">{(s?.count ?? 0).toLocaleString()}</span>
                <span className="muted small">scored{s?.errors ? ` · ${s.errors} errors` : ''}</span>
              </div>
            </div>
            {s ? <Histogram bins={s.histogram} label={id} /> : <p className="muted small">No scores yet.</p>}
            <div className="axis">
              <span>0</span>
              <span>0.5</span>
              <span>1</span>
            </div>
          </div>
        );
      })}
    </div>
  );
}
