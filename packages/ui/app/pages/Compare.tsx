import type { CompareRunsInput, Comparison, ScorerComparison } from '@assay/client';
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

/** A scorer's verdict as a badge: regressed, improved, or no significant change. */
function Verdict({ verdict }: { verdict: ScorerComparison['verdict'] }) {
  if (verdict === 'regressed') return <span className="status status-failed">regressed</span>;
  if (verdict === 'improved') return <span className="status status-completed">improved</span>;
  return <span className="muted">no significant change</span>;
}

const signed = (n: number | null | undefined) =>
  n === null || n === undefined ? '—' : `${n > 0 ? '+' : ''}${fmt.num(n)}`;
const interval = (ci: { lower: number; upper: number } | null) =>
  ci ? `[${signed(ci.lower)}, ${signed(ci.upper)}]` : '—';
const pValue = (p: number | null) => (p === null ? '—' : p < 0.001 ? '< 0.001' : fmt.num(p));

/** A pass rate with its Wilson interval. */
function PassRate({ side }: { side: ScorerComparison['a'] }) {
  return (
    <>
      {fmt.pct(side.passRate)}
      {side.passInterval && (
        <span className="muted small">
          {' '}
          [{fmt.pct(side.passInterval.lower)}–{fmt.pct(side.passInterval.upper)}]
        </span>
      )}
    </>
  );
}

/** What the row's numbers rest on: the paired items, and the missing scores (counted, not guessed). */
function evidence(s: ScorerComparison): string {
  const missing = s.missing.a + s.missing.b + s.missing.both;
  const parts = [`${s.paired} paired`, s.test === 'mcnemar' ? `${s.flips.down}↓ ${s.flips.up}↑` : (s.test ?? '')];
  if (missing) parts.push(`missing: ${s.missing.a} in A, ${s.missing.b} in B, ${s.missing.both} in both`);
  return parts.filter(Boolean).join(' · ');
}

export function ComparePage({ datasetId }: { datasetId: string }) {
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  // The deciding scorers (empty: the server's default, all but latency and cost scorers).
  const decide = params.get('decide') ?? '';
  const alpha = params.get('alpha') ?? '0.05';
  const minEffect = params.get('minEffect') ?? '0';
  const [alphaText, setAlphaText] = useState(alpha);
  const [effectText, setEffectText] = useState(minEffect);
  const runs = useQuery({
    queryKey: ['runs', datasetId, 0, 100],
    queryFn: () => client.listRuns(datasetId, { perPage: 100 }),
  });
  const cmp = useQuery({
    queryKey: ['compare', datasetId, a, b, decide, alpha, minEffect],
    enabled: !!a && !!b && a !== b,
    queryFn: (): Promise<Comparison> => {
      const input: CompareRunsInput = { runIdA: a, runIdB: b, limit: 50 };
      if (decide) input.scorerIds = decide.split(',');
      if (Number(alpha) > 0 && Number(alpha) < 1) input.alpha = Number(alpha);
      if (Number(minEffect) > 0) input.minEffect = Number(minEffect);
      return client.compare(datasetId, input);
    },
  });
  const go = (next: { a?: string; b?: string; decide?: string; alpha?: string; minEffect?: string }) => {
    const p = new URLSearchParams({ a, b, alpha, minEffect, ...(decide ? { decide } : {}), ...next });
    if (!p.get('decide')) p.delete('decide');
    navigate(`/datasets/${datasetId}/compare?${p}`, { replace: true });
  };
  const toggle = (data: Comparison, scorerId: string, on: boolean) => {
    const next = on ? [...data.decidingScorerIds, scorerId] : data.decidingScorerIds.filter((id) => id !== scorerId);
    // Nothing chosen means the default choice, so keep at least one.
    if (next.length) go({ decide: [...new Set(next)].sort().join(',') });
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
          go({ alpha: alphaText, minEffect: effectText });
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
        <label className="inline" title="Significance level, Holm-corrected across the deciding scorers">
          Alpha
          <input
            type="number"
            min={0}
            max={1}
            step="any"
            value={alphaText}
            onChange={(e) => setAlphaText(e.target.value)}
            aria-label="Alpha"
            style={{ width: '5em' }}
          />
        </label>
        <label className="inline" title="The smallest change of a mean that counts, however significant">
          Minimum effect
          <input
            type="number"
            min={0}
            step="any"
            value={effectText}
            onChange={(e) => setEffectText(e.target.value)}
            aria-label="Minimum effect"
            style={{ width: '5em' }}
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
              <p data-testid="compare-verdict">
                Verdict: <Verdict verdict={data.verdict} />{' '}
                <span className="muted">
                  — decided by {data.decidingScorerIds.join(', ') || 'no scorer'} · α {data.alpha}, Holm-corrected ·{' '}
                  {Math.round(data.confidence * 100)}% intervals, each item the mean of its repetitions
                </span>
                {decide && (
                  <>
                    {' '}
                    <button type="button" className="link" onClick={() => go({ decide: '' })}>
                      default scorers
                    </button>
                  </>
                )}
              </p>
              <Table
                label="Scorer comparison"
                columns={[
                  'Scorer',
                  { label: 'A mean', num: true },
                  { label: 'B mean', num: true },
                  { label: 'Delta', num: true },
                  { label: '95% CI', num: true },
                  { label: 'p', num: true },
                  { label: 'A pass rate', num: true },
                  { label: 'B pass rate', num: true },
                  'Verdict',
                  'Decides',
                ]}
              >
                {data.scorers.map((s) => (
                  <tr key={s.scorerId} className={s.regressed ? 'row-failed' : ''}>
                    <td>
                      {s.scorerId}
                      {s.kind !== 'quality' && <span className="muted small"> ({s.kind})</span>}
                    </td>
                    <td className="num">{fmt.num(s.a.mean)}</td>
                    <td className="num">{fmt.num(s.b.mean)}</td>
                    <td className={`num ${s.delta !== null && s.delta < 0 ? 'bad-text' : s.delta ? 'ok-text' : ''}`}>
                      {signed(s.delta)}
                    </td>
                    <td className="num">{interval(s.ci)}</td>
                    <td className="num" title={s.pValue === null ? '' : `unadjusted ${pValue(s.pValue)}`}>
                      {pValue(s.pAdjusted)}
                    </td>
                    <td className="num">
                      <PassRate side={s.a} />
                    </td>
                    <td className="num">
                      <PassRate side={s.b} />
                    </td>
                    <td>
                      {s.delta === null ? (
                        <span className="muted">not comparable</span>
                      ) : (
                        <Verdict verdict={s.verdict} />
                      )}
                      <div className="muted small">{evidence(s)}</div>
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Decides: ${s.scorerId}`}
                        checked={s.deciding}
                        disabled={s.deciding && data.decidingScorerIds.length === 1}
                        onChange={(e) => toggle(data, s.scorerId, e.target.checked)}
                      />
                    </td>
                  </tr>
                ))}
              </Table>
              <p className="muted" data-testid="compare-counts">
                {data.counts.matched.toLocaleString()} items matched · {data.counts.regressed.toLocaleString()}{' '}
                regressed · {data.counts.improved.toLocaleString()} improved · {data.counts.unchanged.toLocaleString()}{' '}
                unchanged
                {data.counts.onlyInA + data.counts.onlyInB > 0 &&
                  ` · runs of dataset v${data.runA.datasetVersion} and v${data.runB.datasetVersion}: compared on the ${data.counts.matched} shared items (${data.counts.onlyInA} only in A, ${data.counts.onlyInB} only in B)`}
              </p>
              <h2>Items that changed most</h2>
              {data.items.length === 0 ? (
                <Empty>No item changed on the deciding scorers.</Empty>
              ) : (
                <div className="changes">
                  {data.items.map((it) => (
                    <article key={it.itemId} className={`change change-${it.change}`}>
                      <header>
                        <span className={`status ${it.change === 'regression' ? 'status-failed' : 'status-completed'}`}>
                          {it.change}
                        </span>{' '}
                        <code title={it.itemId}>{it.externalId ?? it.itemId}</code>
                        {it.repetitions.a + it.repetitions.b > 2 &&
                          ` (means of ${it.repetitions.a} / ${it.repetitions.b} repetitions)`}{' '}
                        · Δ {signed(it.delta)} ·{' '}
                        {it.scores.map((s, i) => (
                          <span key={s.scorerId} className={s.deciding ? '' : 'muted'}>
                            {i > 0 && ' · '}
                            {s.scorerId}: {fmt.num(s.a)} → {fmt.num(s.b)}
                            {!s.deciding && ' (beside)'}
                          </span>
                        ))}
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
