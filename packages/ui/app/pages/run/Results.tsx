import type { ListedResult, Run } from '@assay/client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { client, FINAL, fmt } from '../../api';
import { Empty, InlineSelect, PagedTable, Queried, Status } from '../../components';
import { CachedTag } from './CacheLine';
import { scoreBand, scoreTitle } from './format';
import { ResultDrawer } from './ResultDrawer';
import './run.css';

const PER_PAGE = 50;

/** The statuses the results can be filtered by ('' is all). */
type Filter = '' | 'failed' | 'succeeded' | 'cancelled' | 'skipped';

/** A row's classes: clickable, and tinted when the item failed or never ran. */
const rowClass = (status: string) =>
  ['result-row', status === 'failed' && 'row-failed', (status === 'cancelled' || status === 'skipped') && 'row-closed']
    .filter(Boolean)
    .join(' ');

export function Results({ datasetId, run }: { datasetId: string; run: Run }) {
  const [page, setPage] = useState(0);
  const [status, setStatus] = useState<Filter>('');
  const [sort, setSort] = useState('');
  const [open, setOpen] = useState<ListedResult | null>(null);
  const active = !FINAL.has(run.status);
  const threshold = run.summary?.passThreshold ?? run.options.passThreshold ?? 0.5;
  const [sortScorer, order] = sort ? (sort.split(':') as [string, 'asc' | 'desc']) : [undefined, undefined];
  const q = useQuery({
    // Read again once the run is final, however the page learnt it (a fast run can end between the
    // first read of its results and the live stream's start).
    queryKey: ['results', datasetId, run.id, page, status, sort, active ? 'live' : 'final'],
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
        <InlineSelect
          title="Show"
          name="Filter results"
          value={status}
          onChange={(v) => {
            setStatus(v as Filter);
            setPage(0);
          }}
        >
          <option value="">all</option>
          <option value="failed">failed only</option>
          <option value="succeeded">succeeded only</option>
          <option value="cancelled">cancelled only</option>
          <option value="skipped">skipped only</option>
        </InlineSelect>
        <InlineSelect
          title="Sort"
          name="Sort results"
          value={sort}
          onChange={(v) => {
            setSort(v);
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
        </InlineSelect>
      </div>
      <Queried query={q}>
        {(data) =>
          data.results.length === 0 ? (
            <Empty>
              {status
                ? `No ${status} results.`
                : run.status === 'pending'
                  ? 'Waiting for the run to start…'
                  : 'No results yet.'}
            </Empty>
          ) : (
            <PagedTable
              label="Results"
              className="table results"
              columns={[
                'Item',
                'Status',
                ...run.scorerIds.map((id) => ({ label: id, num: true })),
                { label: 'Latency', num: true },
                'Input',
                'Output / error',
              ]}
              page={page}
              perPage={PER_PAGE}
              total={data.pagination.total}
              onPage={setPage}
            >
              {data.results.map((r) => (
                <tr
                  key={`${r.itemId}-${r.repetition}`}
                  className={rowClass(r.status)}
                  // The whole row opens the drawer; focused (Tab), Enter or Space does too.
                  tabIndex={0}
                  aria-haspopup="dialog"
                  onClick={() => setOpen(r)}
                  onKeyDown={(e) => {
                    if (e.target !== e.currentTarget || (e.key !== 'Enter' && e.key !== ' ')) return;
                    e.preventDefault();
                    setOpen(r);
                  }}
                >
                  <td>
                    {/* Not a tab stop of its own (the row is); a screen reader's browse mode activates it, and the click reaches the row. */}
                    <button type="button" className="link mono small" tabIndex={-1} title={r.itemId}>
                      {r.externalId ?? r.itemId}
                      {r.repetition ? ` #${r.repetition}` : ''}
                    </button>
                  </td>
                  <td>
                    <Status status={r.status} />
                    {r.cached && (
                      <>
                        {' '}
                        <CachedTag from={r.cachedFrom} />
                      </>
                    )}
                  </td>
                  {run.scorerIds.map((id) => {
                    const s = r.scores.find((x) => x.scorerId === id);
                    const band = scoreBand(s, threshold);
                    return (
                      <td key={id} className={`num score-${band}`} title={scoreTitle(band, threshold)}>
                        {band === 'error' ? 'error' : fmt.num(s?.score ?? null)}
                      </td>
                    );
                  })}
                  <td className="num">{fmt.ms(r.latencyMs)}</td>
                  <td className="mono small">{fmt.short(r.input, 60)}</td>
                  <td className="mono small">
                    {r.error ? (
                      <span className="danger">{fmt.short(r.error.message, 60)}</span>
                    ) : (
                      fmt.short(r.output, 60)
                    )}
                  </td>
                </tr>
              ))}
            </PagedTable>
          )
        }
      </Queried>
      {open && <ResultDrawer datasetId={datasetId} runId={run.id} result={open} onClose={() => setOpen(null)} />}
    </section>
  );
}
