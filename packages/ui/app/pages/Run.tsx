import type { Run } from '@assay/client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link } from 'wouter';
import { client, FINAL, fmt } from '../api';
import { ErrorBox, Loading, Status } from '../components';
import { CacheLine } from './run/CacheLine';
import { CancelRun } from './run/CancelRun';
import { eta, usd } from './run/format';
import { useLiveRun, useRate } from './run/live';
import { RescoreRun, RescoreSource } from './run/RescoreRun';
import { Results } from './run/Results';
import './run/run.css';
import { ScorerCards } from './run/ScorerCards';

export function RunPage({ datasetId, runId }: { datasetId: string; runId: string }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['run', datasetId, runId], queryFn: () => client.getRun(datasetId, runId) });
  const run = q.data;
  const active = run ? !FINAL.has(run.status) : false;
  const mode = useLiveRun(datasetId, runId, active);
  const { rate, eta: etaSecs } = useRate(run);
  const onRun = (r: Run & { runId?: string }) => {
    const { runId: _r, ...visible } = r;
    qc.setQueryData(['run', datasetId, runId], visible);
    qc.invalidateQueries({ queryKey: ['results', datasetId, runId] });
  };
  const retry = useMutation({ mutationFn: () => client.retryRun(datasetId, runId), onSuccess: onRun });
  useEffect(() => {
    performance.mark('assay:run-page');
  }, []);
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} onRetry={() => q.refetch()} />;
  const r = q.data;
  const done = r.succeededCount + r.failedCount;
  // Items closed without running: skipped (a failed run), and cancelled, which only the final summary counts.
  const cancelled = FINAL.has(r.status) ? (r.summary?.cancelled ?? 0) : 0;
  const width = (n: number) => `${r.totalItems ? (n / r.totalItems) * 100 : 0}%`;
  const pct = r.totalItems ? (done / r.totalItems) * 100 : 0;
  const retryable = FINAL.has(r.status) && (r.failedCount > 0 || r.skippedCount > 0 || r.status !== 'completed');
  return (
    <section>
      <nav className="crumbs">
        <Link href="/">Datasets</Link> / <Link href={`/datasets/${datasetId}?tab=runs`}>Runs</Link> /
      </nav>
      <div className="page-head">
        <div>
          <h1>
            {r.name ?? r.id} <Status status={r.status} />
          </h1>
          <p className="muted small">
            {r.targetId} ({r.targetType}) · dataset v{r.datasetVersion} · concurrency {r.options.maxConcurrency} ·{' '}
            {r.options.repetitions} repetition{r.options.repetitions === 1 ? '' : 's'} · timeout{' '}
            {fmt.ms(r.options.itemTimeoutMs)} · created {fmt.date(r.createdAt)}
            {active && <span className={`live live-${mode}`}> · {mode === 'live' ? 'live' : mode}</span>}
          </p>
          {r.sourceRunId && <RescoreSource datasetId={datasetId} sourceRunId={r.sourceRunId} />}
        </div>
        <div className="row">
          {active && <CancelRun datasetId={datasetId} run={r} onCancelled={onRun} />}
          {FINAL.has(r.status) && <RescoreRun datasetId={datasetId} run={r} />}
          {retryable && (
            <button type="button" disabled={retry.isPending} onClick={() => retry.mutate()}>
              Retry failed
            </button>
          )}
        </div>
      </div>
      {retry.isError && <ErrorBox error={retry.error} />}
      {r.error && (
        <div className="error" role="alert">
          Run error: {r.error}
        </div>
      )}
      <div className="progress-block">
        <div
          className="progress"
          role="progressbar"
          aria-label="Run progress"
          aria-valuemin={0}
          aria-valuemax={r.totalItems}
          aria-valuenow={done}
        >
          <div className="ok" style={{ width: width(r.succeededCount) }} />
          <div className="bad" style={{ width: width(r.failedCount) }} />
          <div className="closed" style={{ width: width(r.skippedCount + cancelled) }} />
        </div>
        <div className="progress-stats">
          <span data-testid="progress-done">
            {done.toLocaleString()} / {r.totalItems.toLocaleString()} ({pct.toFixed(0)}%)
          </span>
          <span data-testid="progress-counts">
            <span className="ok-text">{r.succeededCount.toLocaleString()} succeeded</span> ·{' '}
            <span className="bad-text">{r.failedCount.toLocaleString()} failed</span>
            {cancelled > 0 && <span className="closed-text"> · {cancelled.toLocaleString()} cancelled</span>}
            {r.skippedCount > 0 && <span className="closed-text"> · {r.skippedCount.toLocaleString()} skipped</span>}
          </span>
          <span>{rate === null ? '—' : `${rate.toFixed(rate < 10 ? 1 : 0)} items/s`}</span>
          <span>ETA {active ? eta(etaSecs) : '—'}</span>
          {r.summary?.latencyMs.p50 != null && (
            <span>
              latency p50 {fmt.ms(r.summary.latencyMs.p50)} · p95 {fmt.ms(r.summary.latencyMs.p95)}
              {r.summary.latencyMs.max != null && ` · max ${fmt.ms(r.summary.latencyMs.max)}`}
            </span>
          )}
          {r.summary?.usage && (
            <span data-testid="run-usage">
              {r.summary.usage.inputTokens.toLocaleString()} in / {r.summary.usage.outputTokens.toLocaleString()} out
              tokens · {usd(r.summary.usage.costUsd)} ({usd(r.summary.usage.meanCostUsd)} per item)
            </span>
          )}
        </div>
        <CacheLine run={r} />
      </div>
      <ScorerCards datasetId={datasetId} run={r} />
      <Results datasetId={datasetId} run={r} />
    </section>
  );
}
