import { hasTruncated, type ListedResult, type Run, type RunResult } from '@assay/client';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { call, client, FINAL, fmt, type ScorerStats } from '../api';
import { Drawer, Empty, ErrorBox, Histogram, Json, Loading, Pager, Status } from '../components';

const PER_PAGE = 50;
type Mode = 'connecting' | 'live' | 'polling' | 'idle';

/**
 * Keeps the cached run current while it is pending or running: Server-Sent Events, and polling
 * every 2 s whenever the stream is down (or silent, e.g. a worker in another process).
 */
function useLiveRun(datasetId: string, runId: string, active: boolean) {
  const qc = useQueryClient();
  const [mode, setMode] = useState<Mode>(active ? 'connecting' : 'idle');
  const lastEvent = useRef(0);
  const modeRef = useRef<Mode>(mode);
  useEffect(() => {
    const key = ['run', datasetId, runId];
    const set = (m: Mode) => {
      modeRef.current = m;
      setMode(m);
    };
    if (!active) {
      set('idle');
      return;
    }
    set('connecting');
    const ctrl = new AbortController();
    const patch = (fn: (r: Run) => Run) => qc.setQueryData<Run>(key, (old) => (old ? fn(old) : old));
    const finished = () => {
      qc.invalidateQueries({ queryKey: key });
      qc.invalidateQueries({ queryKey: ['results', datasetId, runId] });
      qc.invalidateQueries({ queryKey: ['scores', datasetId, runId] });
      qc.invalidateQueries({ queryKey: ['runs', datasetId] });
    };
    (async () => {
      try {
        for await (const e of client.streamRun(datasetId, runId, {
          signal: ctrl.signal,
          reconnect: { giveUpAfterMs: Number.POSITIVE_INFINITY, maxDelayMs: 5000 },
          onReconnect: () => set('polling'),
        })) {
          lastEvent.current = Date.now();
          if (modeRef.current !== 'live') set('live');
          if (e.type === 'run') qc.setQueryData(key, e.run);
          else if (e.type === 'run.progress')
            patch((r) => ({ ...r, succeededCount: e.succeeded, failedCount: e.failed, totalItems: e.total }));
          else if (e.type === 'run.status') {
            patch((r) => ({ ...r, status: e.status, error: e.error ?? r.error }));
            if (FINAL.has(e.status)) finished();
          } else if (e.type === 'run.cancel') patch((r) => ({ ...r, cancelRequestedAt: new Date().toISOString() }));
        }
      } catch {
        if (!ctrl.signal.aborted) set('polling');
      }
    })();
    const poll = setInterval(async () => {
      if (modeRef.current === 'live' && Date.now() - lastEvent.current < 2000) return;
      try {
        const r = await client.getRun(datasetId, runId, { signal: ctrl.signal });
        qc.setQueryData(key, r);
        if (FINAL.has(r.status)) finished();
      } catch {
        // the next tick tries again; the page keeps showing the last known state
      }
    }, 2000);
    return () => {
      ctrl.abort();
      clearInterval(poll);
    };
  }, [datasetId, runId, active, qc]);
  return mode;
}

/** Items per second over the last ~15 s of progress, and the ETA from it. */
function useRate(run: Run | undefined) {
  const samples = useRef<{ t: number; done: number }[]>([]);
  const done = run ? run.succeededCount + run.failedCount : 0;
  const now = Date.now();
  const s = samples.current;
  if (run && (s.length === 0 || s[s.length - 1]!.done !== done)) s.push({ t: now, done });
  while (s.length > 2 && now - s[0]!.t > 15_000) s.shift();
  if (!run || FINAL.has(run.status)) {
    if (run?.startedAt && run.completedAt) {
      const secs = (Date.parse(run.completedAt) - Date.parse(run.startedAt)) / 1000;
      return { rate: secs > 0 ? done / secs : null, eta: null };
    }
    return { rate: null, eta: null };
  }
  let rate: number | null = null;
  if (s.length >= 2) {
    const a = s[0]!;
    const b = s[s.length - 1]!;
    if (b.t > a.t) rate = ((b.done - a.done) * 1000) / (b.t - a.t);
  } else if (run.startedAt) {
    const secs = (now - Date.parse(run.startedAt)) / 1000;
    if (secs > 0.5 && done > 0) rate = done / secs;
  }
  const left = Math.max(0, run.totalItems - done);
  return { rate, eta: rate && rate > 0 ? left / rate : null };
}

/** Dollars, with enough digits for sub-cent costs. */
const usd = (v: number | null) => (v === null ? '—' : `$${v >= 1 ? v.toFixed(2) : v.toPrecision(3)}`);

function eta(secs: number | null) {
  if (secs === null) return '—';
  if (secs < 60) return `${Math.ceil(secs)} s`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ${Math.ceil(secs % 60)} s`;
  return `${(secs / 3600).toFixed(1)} h`;
}

function ScorerCards({ datasetId, run }: { datasetId: string; run: Run }) {
  const active = !FINAL.has(run.status);
  const q = useQuery({
    queryKey: ['scores', datasetId, run.id],
    queryFn: () =>
      call<{ bins: number; passThreshold?: number; scorers: ScorerStats[] }>(
        'GET',
        `/datasets/${datasetId}/runs/${run.id}/scores`,
      ),
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

/** Token and cost figures, when the result carries them (`usage`, `cost`). */
function Usage({ result }: { result: RunResult }) {
  const r = result as RunResult & { usage?: Record<string, unknown> | null; cost?: unknown; costUsd?: unknown };
  const entries = Object.entries(r.usage ?? {}).filter(([, v]) => v !== null && v !== undefined);
  if (r.cost !== undefined && r.cost !== null) entries.push(['cost', r.cost]);
  if (r.costUsd !== undefined && r.costUsd !== null) entries.push(['costUsd', r.costUsd]);
  if (entries.length === 0) return null;
  return (
    <>
      <h3>Tokens and cost</h3>
      <dl className="kv">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function ResultDrawer({
  datasetId,
  runId,
  result: listed,
  onClose,
}: {
  datasetId: string;
  runId: string;
  result: ListedResult;
  onClose: () => void;
}) {
  // A results page cuts large values to markers: the drawer reads the whole result.
  const cut = hasTruncated(listed);
  const full = useQuery({
    queryKey: ['result', datasetId, runId, listed.itemId, listed.repetition],
    queryFn: () => client.getRunResult(datasetId, runId, listed.itemId, { repetition: listed.repetition }),
    enabled: cut,
  });
  const result: ListedResult = full.data ?? listed;
  const attempts = useQuery({
    queryKey: ['attempts', datasetId, runId, result.itemId],
    queryFn: () => client.listItemAttempts(datasetId, runId, result.itemId),
  });
  const err = result.error as (ListedResult['error'] & { stack?: string }) | null;
  return (
    <Drawer
      title={`Item ${result.itemId}${result.repetition ? ` · repetition ${result.repetition}` : ''}`}
      onClose={onClose}
    >
      <dl className="kv">
        <div>
          <dt>Status</dt>
          <dd>
            <Status status={result.status} />
          </dd>
        </div>
        <div>
          <dt>Latency</dt>
          <dd>{fmt.ms(result.latencyMs)}</dd>
        </div>
        <div>
          <dt>Attempt</dt>
          <dd>{result.attempt}</dd>
        </div>
        <div>
          <dt>Worker</dt>
          <dd className="small">{result.workerId ?? '—'}</dd>
        </div>
      </dl>
      {err && (
        <div className="error" data-testid="result-error">
          <strong>{err.code}</strong>: {fmt.text(err.message)} {err.retryable ? '(retryable)' : ''}
          {err.stack && <pre className="json">{err.stack}</pre>}
        </div>
      )}
      {cut && full.isPending && <p className="muted">Loading the full values…</p>}
      {cut && full.isError && <ErrorBox error={full.error} onRetry={() => full.refetch()} />}
      <h3>Input</h3>
      <Json value={result.input} label="Input" />
      <h3>Ground truth</h3>
      <Json value={result.groundTruth} label="Ground truth" />
      <h3>Output</h3>
      <Json value={result.output} label="Output" />
      <h3>Scores</h3>
      {result.scores.length === 0 ? (
        <p className="muted">No scores.</p>
      ) : (
        <table className="table compact" aria-label="Scores">
          <thead>
            <tr>
              <th>Scorer</th>
              <th className="num">Score</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {result.scores.map((s) => (
              <tr key={s.scorerId}>
                <td>{s.scorerId}</td>
                <td className="num">{fmt.num(s.score)}</td>
                <td className="small">
                  {s.error ? <span className="danger">error: {fmt.text(s.error)}</span> : (fmt.text(s.reason) ?? '—')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Usage result={result as RunResult} />
      <h3>Attempts</h3>
      {attempts.isPending ? (
        <Loading />
      ) : attempts.isError ? (
        <ErrorBox error={attempts.error} onRetry={() => attempts.refetch()} />
      ) : (
        <table className="table compact" aria-label="Attempts">
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Rep.</th>
              <th>Status</th>
              <th>Error</th>
              <th className="num">Latency</th>
              <th>Completed</th>
            </tr>
          </thead>
          <tbody>
            {attempts.data.attempts.map((a) => (
              <tr key={`${a.repetition}-${a.attempt}-${a.current}`}>
                <td className="num">
                  {a.attempt}
                  {a.current ? ' (current)' : ''}
                </td>
                <td>{a.repetition}</td>
                <td>
                  <Status status={a.status} />
                </td>
                <td className="small">{a.error ? `${a.error.code}: ${fmt.text(a.error.message)}` : '—'}</td>
                <td className="num">{fmt.ms(a.latencyMs)}</td>
                <td className="small">{fmt.date(a.completedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Drawer>
  );
}

function Results({ datasetId, run }: { datasetId: string; run: Run }) {
  const [page, setPage] = useState(0);
  const [status, setStatus] = useState<'' | 'failed' | 'succeeded'>('');
  const [sort, setSort] = useState('');
  const [open, setOpen] = useState<ListedResult | null>(null);
  const active = !FINAL.has(run.status);
  const [sortScorer, order] = sort ? (sort.split(':') as [string, 'asc' | 'desc']) : [undefined, undefined];
  const q = useQuery({
    queryKey: ['results', datasetId, run.id, page, status, sort],
    queryFn: () =>
      client.listRunResults(datasetId, run.id, {
        page,
        perPage: PER_PAGE,
        status: status || undefined,
        sortScorer,
        order,
      }),
    placeholderData: keepPreviousData,
    refetchInterval: active ? 3000 : false,
  });
  return (
    <section>
      <div className="toolbar">
        <h2>Results</h2>
        <span className="spacer" />
        <label className="inline">
          Show
          <select
            aria-label="Filter results"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              setPage(0);
            }}
          >
            <option value="">all</option>
            <option value="failed">failed only</option>
            <option value="succeeded">succeeded only</option>
          </select>
        </label>
        <label className="inline">
          Sort
          <select
            aria-label="Sort results"
            value={sort}
            onChange={(e) => {
              setSort(e.target.value);
              setPage(0);
            }}
          >
            <option value="">item order</option>
            {run.scorerIds.flatMap((id) => [
              <option key={`${id}:asc`} value={`${id}:asc`}>
                {id} score ↑ (worst first)
              </option>,
              <option key={`${id}:desc`} value={`${id}:desc`}>
                {id} score ↓ (best first)
              </option>,
            ])}
          </select>
        </label>
      </div>
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <ErrorBox error={q.error} onRetry={() => q.refetch()} />
      ) : q.data.results.length === 0 ? (
        <Empty>
          {status
            ? `No ${status} results.`
            : run.status === 'pending'
              ? 'Waiting for the run to start…'
              : 'No results yet.'}
        </Empty>
      ) : (
        <>
          <table className="table results" aria-label="Results">
            <thead>
              <tr>
                <th>Item</th>
                <th>Status</th>
                {run.scorerIds.map((id) => (
                  <th key={id} className="num">
                    {id}
                  </th>
                ))}
                <th className="num">Latency</th>
                <th>Output / error</th>
              </tr>
            </thead>
            <tbody>
              {q.data.results.map((r) => (
                <tr key={`${r.itemId}-${r.repetition}`} className={r.status === 'failed' ? 'row-failed' : ''}>
                  <td>
                    <button type="button" className="link mono small" onClick={() => setOpen(r)}>
                      {r.itemId}
                      {r.repetition ? ` #${r.repetition}` : ''}
                    </button>
                  </td>
                  <td>
                    <Status status={r.status} />
                  </td>
                  {run.scorerIds.map((id) => (
                    <td key={id} className="num">
                      {fmt.num(r.scores.find((s) => s.scorerId === id)?.score ?? null)}
                    </td>
                  ))}
                  <td className="num">{fmt.ms(r.latencyMs)}</td>
                  <td className="mono small">
                    {r.error ? (
                      <span className="danger">{fmt.short(r.error.message, 60)}</span>
                    ) : (
                      fmt.short(r.output, 60)
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} perPage={PER_PAGE} total={q.data.pagination.total} onPage={setPage} />
        </>
      )}
      {open && <ResultDrawer datasetId={datasetId} runId={run.id} result={open} onClose={() => setOpen(null)} />}
    </section>
  );
}

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
  const cancel = useMutation({ mutationFn: () => client.cancelRun(datasetId, runId), onSuccess: onRun });
  const retry = useMutation({ mutationFn: () => client.retryRun(datasetId, runId), onSuccess: onRun });
  useEffect(() => {
    performance.mark('assay:run-page');
  }, []);
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} onRetry={() => q.refetch()} />;
  const r = q.data;
  const done = r.succeededCount + r.failedCount;
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
        </div>
        <div className="row">
          {active && (
            <button
              type="button"
              className="danger"
              disabled={cancel.isPending || !!r.cancelRequestedAt}
              onClick={() => cancel.mutate()}
            >
              {r.cancelRequestedAt ? 'Cancelling…' : 'Cancel run'}
            </button>
          )}
          {retryable && (
            <button type="button" disabled={retry.isPending} onClick={() => retry.mutate()}>
              Retry failed
            </button>
          )}
        </div>
      </div>
      {cancel.isError && <ErrorBox error={cancel.error} />}
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
          <div className="ok" style={{ width: `${r.totalItems ? (r.succeededCount / r.totalItems) * 100 : 0}%` }} />
          <div className="bad" style={{ width: `${r.totalItems ? (r.failedCount / r.totalItems) * 100 : 0}%` }} />
        </div>
        <div className="progress-stats">
          <span data-testid="progress-done">
            {done.toLocaleString()} / {r.totalItems.toLocaleString()} ({pct.toFixed(0)}%)
          </span>
          <span>
            <span className="ok-text">{r.succeededCount.toLocaleString()} succeeded</span> ·{' '}
            <span className="bad-text">{r.failedCount.toLocaleString()} failed</span>
            {r.skippedCount ? ` · ${r.skippedCount.toLocaleString()} skipped` : ''}
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
      </div>
      <ScorerCards datasetId={datasetId} run={r} />
      <Results datasetId={datasetId} run={r} />
    </section>
  );
}
