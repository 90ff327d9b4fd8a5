import type { Comparison } from '@assay/client';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { client, fmt } from '../api';
import { Empty, ErrorBox, InlineSelect, Json, Queried, Status, Table } from '../components';

/** A select of the dataset's runs; a chosen id that is not among them stays as an option of its own. */
function RunSelect({
  title,
  name,
  value,
  runIds,
  label,
  onChange,
}: {
  title: string;
  name: string;
  value: string;
  runIds: string[] | undefined;
  label: (id: string) => string;
  onChange: (id: string) => void;
}) {
  return (
    <InlineSelect title={title} name={name} value={value} onChange={onChange}>
      <option value="">choose…</option>
      {value && !runIds?.includes(value) && <option value={value}>{value}</option>}
      {runIds?.map((id) => (
        <option key={id} value={id}>
          {label(id)}
        </option>
      ))}
    </InlineSelect>
  );
}

/** One run's side of a compared item: its status, and its error or else its output. */
function RunOutput({ side, result }: { side: 'A' | 'B'; result: { status: string; output: unknown; error: unknown } }) {
  return (
    <div>
      <h4>
        {side} output <Status status={result.status} />
      </h4>
      <Json value={result.error ?? result.output} />
    </div>
  );
}

export function ComparePage({ datasetId }: { datasetId: string }) {
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const threshold = params.get('threshold') ?? '0';
  const [thr, setThr] = useState(threshold);
  const runs = useQuery({
    queryKey: ['runs', datasetId, 0, 100],
    queryFn: () => client.listRuns(datasetId, { perPage: 100 }),
  });
  const cmp = useQuery({
    queryKey: ['compare', datasetId, a, b, threshold],
    enabled: !!a && !!b && a !== b,
    queryFn: (): Promise<Comparison> =>
      client.compare(datasetId, { runIdA: a, runIdB: b, thresholds: Number(threshold) || 0, limit: 50 }),
  });
  const go = (next: { a?: string; b?: string; threshold?: string }) => {
    const p = new URLSearchParams({ a, b, threshold, ...next });
    navigate(`/datasets/${datasetId}/compare?${p}`, { replace: true });
  };
  const label = (id: string) => {
    const r = runs.data?.runs.find((x) => x.id === id);
    return r ? `${r.name ?? r.id} · ${r.targetId} · ${r.status}` : id;
  };
  const runIds = runs.data?.runs.map((r) => r.id);
  return (
    <section>
      <nav className="crumbs">
        <Link href="/">Datasets</Link> / <Link href={`/datasets/${datasetId}?tab=runs`}>Runs</Link> /
      </nav>
      <h1>Compare runs</h1>
      <form
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          go({ threshold: thr });
        }}
      >
        {runs.isError && <ErrorBox error={runs.error} />}
        <RunSelect
          title="A (baseline)"
          name="Run A"
          value={a}
          runIds={runIds}
          label={label}
          onChange={(id) => go({ a: id })}
        />
        <RunSelect
          title="B (candidate)"
          name="Run B"
          value={b}
          runIds={runIds}
          label={label}
          onChange={(id) => go({ b: id })}
        />
        <label className="inline">
          Regression threshold
          <input
            type="number"
            min={0}
            step="any"
            value={thr}
            onChange={(e) => setThr(e.target.value)}
            aria-label="Regression threshold"
            style={{ width: '6em' }}
          />
        </label>
        <button type="submit">Apply</button>
      </form>
      {!a || !b ? (
        <Empty>Choose two runs: A is the baseline, B the candidate.</Empty>
      ) : a === b ? (
        <Empty>Choose two different runs.</Empty>
      ) : (
        <Queried query={cmp} loading="Comparing…">
          {(data) => (
            <>
              <Table
                label="Scorer comparison"
                columns={[
                  'Scorer',
                  { label: 'A mean', num: true },
                  { label: 'B mean', num: true },
                  { label: 'Delta', num: true },
                  { label: 'A pass rate', num: true },
                  { label: 'B pass rate', num: true },
                  'Verdict',
                ]}
              >
                {data.scorers.map((s) => (
                  <tr key={s.scorerId} className={s.regressed ? 'row-failed' : ''}>
                    <td>{s.scorerId}</td>
                    <td className="num">{fmt.num(s.a.mean)}</td>
                    <td className="num">{fmt.num(s.b.mean)}</td>
                    <td className={`num ${s.delta !== null && s.delta < 0 ? 'bad-text' : s.delta ? 'ok-text' : ''}`}>
                      {s.delta === null ? '—' : `${s.delta > 0 ? '+' : ''}${fmt.num(s.delta)}`}
                    </td>
                    <td className="num">{fmt.pct(s.a.passRate)}</td>
                    <td className="num">{fmt.pct(s.b.passRate)}</td>
                    <td>
                      {s.regressed ? (
                        <span className="status status-failed">regressed</span>
                      ) : s.delta === null ? (
                        <span className="muted">not comparable</span>
                      ) : (
                        <span className="status status-completed">ok</span>
                      )}
                    </td>
                  </tr>
                ))}
              </Table>
              <p className="muted" data-testid="compare-counts">
                {data.counts.matched.toLocaleString()} results matched · {data.counts.regressed.toLocaleString()}{' '}
                regressed · {data.counts.improved.toLocaleString()} improved · {data.counts.unchanged.toLocaleString()}{' '}
                unchanged
                {data.counts.onlyInA + data.counts.onlyInB > 0 &&
                  ` · ${data.counts.onlyInA} only in A, ${data.counts.onlyInB} only in B`}
              </p>
              <h2>Items that changed most</h2>
              {data.items.length === 0 ? (
                <Empty>No item changed.</Empty>
              ) : (
                <div className="changes">
                  {data.items.map((it) => (
                    <article key={`${it.itemId}-${it.repetition}`} className={`change change-${it.change}`}>
                      <header>
                        <span className={`status ${it.change === 'regression' ? 'status-failed' : 'status-completed'}`}>
                          {it.change}
                        </span>{' '}
                        <code>{it.itemId}</code>
                        {it.repetition ? ` #${it.repetition}` : ''} · Δ {it.delta > 0 ? '+' : ''}
                        {fmt.num(it.delta)} ·{' '}
                        {it.scores.map((s) => `${s.scorerId}: ${fmt.num(s.a)} → ${fmt.num(s.b)}`).join(' · ')}
                      </header>
                      <div className="side-by-side">
                        <div>
                          <h4>Input</h4>
                          <Json value={it.input} />
                          <h4>Ground truth</h4>
                          <Json value={it.groundTruth} />
                        </div>
                        <RunOutput side="A" result={it.a} />
                        <RunOutput side="B" result={it.b} />
                      </div>
                    </article>
                  ))}
                </div>
              )}
            </>
          )}
        </Queried>
      )}
    </section>
  );
}
