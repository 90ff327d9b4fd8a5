import type { ListedResult, Run } from '@assay/client';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { client, FINAL, fmt } from '../../api';
import { Empty, InlineSelect, PagedTable, Queried, Status } from '../../components';
import { ResultDrawer } from './ResultDrawer';

const PER_PAGE = 50;

export function Results({ datasetId, run }: { datasetId: string; run: Run }) {
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
        <InlineSelect
          title="Show"
          name="Filter results"
          value={status}
          onChange={(v) => {
            setStatus(v as typeof status);
            setPage(0);
          }}
        >
          <option value="">all</option>
          <option value="failed">failed only</option>
          <option value="succeeded">succeeded only</option>
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
                'Output / error',
              ]}
              page={page}
              perPage={PER_PAGE}
              total={data.pagination.total}
              onPage={setPage}
            >
              {data.results.map((r) => (
                <tr key={`${r.itemId}-${r.repetition}`} className={r.status === 'failed' ? 'row-failed' : ''}>
                  <td>
                    <button type="button" className="link mono small" onClick={() => setOpen(r)} title={r.itemId}>
                      {r.externalId ?? r.itemId}
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
            </PagedTable>
          )
        }
      </Queried>
      {open && <ResultDrawer datasetId={datasetId} runId={run.id} result={open} onClose={() => setOpen(null)} />}
    </section>
  );
}
