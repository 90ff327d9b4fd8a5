import { type Dataset, type DatasetItem, hasTruncated } from '@assay/client';
import { exportFile } from '@assay/core/io';
import { Validator } from '@cfworker/json-schema';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useEffect, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { client, fmt, messageOf } from '../api';
import { Empty, ErrorBox, FormFooter, Loading, Modal, PagedTable, Queried, Status } from '../components';
import { DefaultScorersDialog } from './DefaultScorersDialog';
import { ImportDialog } from './ImportDialog';
import { RunDialog } from './RunDialog';

const PER_PAGE = 50;
// The chart library (Observable Plot) loads with the runs tab, not with every page.
const RunsOverTime = lazy(() => import('./dataset/RunsOverTime').then((m) => ({ default: m.RunsOverTime })));

function parseJson(text: string, what: string, required: boolean): { value?: unknown; error?: string } {
  if (!text.trim()) return required ? { error: `${what} is required` } : {};
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `${what} is not valid JSON: ${(e as Error).message}` };
  }
}

function schemaErrors(schema: Record<string, unknown> | null, value: unknown, what: string): string[] {
  if (!schema || value === undefined) return [];
  const r = new Validator(schema as never, '2020-12', false).validate(value);
  return r.valid ? [] : r.errors.map((e) => `${what} ${e.instanceLocation}: ${e.error}`);
}

function ItemEditor({ dataset, item, onClose }: { dataset: Dataset; item: DatasetItem | null; onClose: () => void }) {
  const [input, setInput] = useState(item ? fmt.pretty(item.input) : '');
  const [gt, setGt] = useState(item && item.groundTruth !== null ? fmt.pretty(item.groundTruth) : '');
  const [meta, setMeta] = useState(item?.metadata ? fmt.pretty(item.metadata) : '');
  const [externalId, setExternalId] = useState(item?.externalId ?? '');
  const [errors, setErrors] = useState<string[]>([]);
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (body: { input: unknown; groundTruth?: unknown; metadata?: Record<string, unknown> | null }) => {
      const payload = { ...body, externalId: externalId || null };
      return item
        ? client.updateItem(dataset.id, item.id, payload)
        : client.addItem(dataset.id, payload as Parameters<typeof client.addItem>[1]);
    },
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['items', dataset.id] });
      qc.invalidateQueries({ queryKey: ['dataset', dataset.id] });
      qc.invalidateQueries({ queryKey: ['versions', dataset.id] });
      onClose();
    },
  });
  return (
    <Modal title={item ? 'Edit item' : 'Add item'} onClose={onClose} wide>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          const i = parseJson(input, 'Input', true);
          const g = parseJson(gt, 'Ground truth', false);
          const m = parseJson(meta, 'Metadata', false);
          const errs = [i.error, g.error, m.error].filter((x): x is string => !!x);
          if (m.value !== undefined && (m.value === null || typeof m.value !== 'object' || Array.isArray(m.value)))
            errs.push('Metadata must be a JSON object');
          if (!errs.length) {
            errs.push(...schemaErrors(dataset.inputSchema, i.value, 'input'));
            errs.push(...schemaErrors(dataset.groundTruthSchema, g.value, 'groundTruth'));
          }
          setErrors(errs);
          if (errs.length) return;
          save.mutate({
            input: i.value,
            groundTruth: g.value,
            metadata: (m.value as Record<string, unknown> | undefined) ?? null,
          });
        }}
      >
        <label>
          Input (JSON)
          <textarea rows={6} value={input} onChange={(e) => setInput(e.target.value)} className="mono" />
        </label>
        <label>
          Ground truth (JSON, optional)
          <textarea rows={4} value={gt} onChange={(e) => setGt(e.target.value)} className="mono" />
        </label>
        <label>
          Metadata (JSON object, optional)
          <textarea rows={3} value={meta} onChange={(e) => setMeta(e.target.value)} className="mono" />
        </label>
        <label>
          External id (optional)
          <input value={externalId} onChange={(e) => setExternalId(e.target.value)} />
        </label>
        {(dataset.inputSchema || dataset.groundTruthSchema) && (
          <p className="muted small">Checked against the dataset's JSON schemas before saving.</p>
        )}
        {errors.length > 0 && (
          <ul className="error" role="alert">
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        )}
        <FormFooter mutation={save} onCancel={onClose} label="Save" busyLabel="Saving…" />
      </form>
    </Modal>
  );
}

/** The editor needs every value whole: an item whose page cut a large value is read on its own first. */
function WholeItemEditor({
  dataset,
  item,
  onClose,
}: {
  dataset: Dataset;
  item: DatasetItem | null;
  onClose: () => void;
}) {
  const cut = item !== null && hasTruncated(item);
  const q = useQuery({
    queryKey: ['item', dataset.id, item?.id],
    queryFn: () => client.getItem(dataset.id, item!.id),
    enabled: cut,
  });
  if (!cut) return <ItemEditor dataset={dataset} item={item} onClose={onClose} />;
  if (q.data) return <ItemEditor dataset={dataset} item={q.data} onClose={onClose} />;
  return (
    <Modal title="Edit item" onClose={onClose}>
      {q.isError ? (
        <ErrorBox error={q.error} onRetry={() => q.refetch()} />
      ) : (
        <Loading label="Loading the full item…" />
      )}
    </Modal>
  );
}

async function exportItems(dataset: Dataset, format: 'jsonl' | 'csv', version: number | undefined) {
  // The CLI's export (`@assay/core/io`) plus each item's id, which import ignores.
  const parts: string[] = [];
  for await (const part of exportFile(client.iterateItems(dataset.id, { version }), format, { id: true }))
    parts.push(part);
  const blob = new Blob(parts, { type: format === 'jsonl' ? 'application/x-ndjson' : 'text/csv' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${dataset.name.replace(/[^\w.-]+/g, '_')}-v${version ?? dataset.version}.${format}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function ItemsTab({ dataset }: { dataset: Dataset }) {
  const [page, setPage] = useState(0);
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [version, setVersion] = useState<number | undefined>(undefined);
  const [editing, setEditing] = useState<DatasetItem | null | 'new'>(null);
  const [importing, setImporting] = useState(false);
  const [exporting, setExporting] = useState<string | null>(null);
  const qc = useQueryClient();
  useEffect(() => {
    const t = setTimeout(() => {
      setApplied(search.trim());
      setPage(0);
    }, 300);
    return () => clearTimeout(t);
  }, [search]);
  const q = useQuery({
    queryKey: ['items', dataset.id, page, applied, version],
    queryFn: () => client.listItems(dataset.id, { page, perPage: PER_PAGE, search: applied || undefined, version }),
    placeholderData: keepPreviousData,
  });
  const del = useMutation({
    mutationFn: (id: string) => client.deleteItem(dataset.id, id),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ['items', dataset.id] });
      qc.invalidateQueries({ queryKey: ['dataset', dataset.id] });
      qc.invalidateQueries({ queryKey: ['versions', dataset.id] });
    },
  });
  const readOnly = version !== undefined && version !== dataset.version;
  return (
    <section>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Search items…"
          aria-label="Search items"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <label className="inline">
          Version
          <select
            aria-label="Version"
            value={version ?? ''}
            onChange={(e) => {
              setVersion(e.target.value === '' ? undefined : Number(e.target.value));
              setPage(0);
            }}
          >
            <option value="">latest (v{dataset.version})</option>
            {Array.from({ length: dataset.version }, (_, i) => dataset.version - 1 - i).map((v) => (
              <option key={v} value={v}>
                v{v}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button type="button" onClick={() => setEditing('new')} disabled={readOnly}>
          Add item
        </button>
        <button type="button" onClick={() => setImporting(true)}>
          Import CSV / JSONL
        </button>
        {(['jsonl', 'csv'] as const).map((f) => (
          <button
            key={f}
            type="button"
            disabled={exporting !== null}
            onClick={() => {
              setExporting(`Exporting ${f.toUpperCase()}…`);
              exportItems(dataset, f, version)
                .then(() => setExporting(null))
                .catch((e) => setExporting(`Export failed: ${messageOf(e)}`));
            }}
          >
            Export {f.toUpperCase()}
          </button>
        ))}
      </div>
      {exporting && <p className="muted small">{exporting}</p>}
      <Queried query={q}>
        {(data) =>
          data.items.length === 0 ? (
            <Empty>
              {applied ? `No items match “${applied}”.` : 'No items yet. Add one or import a CSV / JSONL file.'}
            </Empty>
          ) : (
            <PagedTable
              label="Items"
              columns={['Id', 'Input', 'Ground truth', 'Metadata', { label: 'Version', num: true }, '']}
              page={page}
              perPage={PER_PAGE}
              total={data.pagination.total}
              onPage={setPage}
            >
              {data.items.map((it) => (
                <tr key={it.id}>
                  <td className="mono small">{it.externalId ?? it.id}</td>
                  <td className="mono small">{fmt.short(it.input)}</td>
                  <td className="mono small">{fmt.short(it.groundTruth, 50)}</td>
                  <td className="mono small">{fmt.short(it.metadata, 40)}</td>
                  <td className="num">{it.version}</td>
                  <td className="row-actions">
                    <button type="button" className="link" disabled={readOnly} onClick={() => setEditing(it)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="link danger"
                      disabled={readOnly || del.isPending}
                      onClick={() => {
                        if (window.confirm('Delete this item? (Older versions keep it.)')) del.mutate(it.id);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </PagedTable>
          )
        }
      </Queried>
      {del.isError && <ErrorBox error={del.error} />}
      {editing && (
        <WholeItemEditor dataset={dataset} item={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      )}
      {importing && <ImportDialog dataset={dataset} onClose={() => setImporting(false)} />}
    </section>
  );
}

function RunsTab({ dataset }: { dataset: Dataset }) {
  const [page, setPage] = useState(0);
  const [a, setA] = useState<string | null>(null);
  const [b, setB] = useState<string | null>(null);
  const [, navigate] = useLocation();
  const q = useQuery({
    queryKey: ['runs', dataset.id, page, PER_PAGE],
    queryFn: () => client.listRuns(dataset.id, { page, perPage: PER_PAGE }),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.runs.some((r) => r.status === 'pending' || r.status === 'running') ? 2000 : false,
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} onRetry={() => q.refetch()} />;
  if (q.data.runs.length === 0) return <Empty>No runs yet. Start one with “New run”.</Empty>;
  return (
    <section>
      <Suspense fallback={<Loading label="Loading the chart…" />}>
        <RunsOverTime dataset={dataset} />
      </Suspense>
      <div className="toolbar">
        <span className="muted">Pick a baseline (A) and a candidate (B) to compare.</span>
        <span className="spacer" />
        <button
          type="button"
          className="primary"
          disabled={!a || !b || a === b}
          onClick={() => navigate(`/datasets/${dataset.id}/compare?a=${a}&b=${b}`)}
        >
          Compare A → B
        </button>
      </div>
      <PagedTable
        label="Runs"
        columns={[
          'A',
          'B',
          'Run',
          'Status',
          'Target',
          'Scorers (mean)',
          { label: 'Done / total', num: true },
          { label: 'Failed', num: true },
          { label: 'Version', num: true },
          'Created',
        ]}
        page={page}
        perPage={PER_PAGE}
        total={q.data.pagination.total}
        onPage={setPage}
      >
        {q.data.runs.map((r) => (
          <tr key={r.id}>
            <td>
              <input
                type="radio"
                name="run-a"
                aria-label={`Baseline A: ${r.name ?? r.id}`}
                checked={a === r.id}
                onChange={() => setA(r.id)}
              />
            </td>
            <td>
              <input
                type="radio"
                name="run-b"
                aria-label={`Candidate B: ${r.name ?? r.id}`}
                checked={b === r.id}
                onChange={() => setB(r.id)}
              />
            </td>
            <td>
              <Link href={`/datasets/${dataset.id}/runs/${r.id}`}>{r.name ?? r.id}</Link>
            </td>
            <td>
              <Status status={r.status} />
            </td>
            <td>{r.targetId}</td>
            <td className="small">
              {(r.summary?.scorers ?? []).map((s) => `${s.scorerId} ${fmt.num(s.mean)}`).join(' · ') || '—'}
            </td>
            <td className="num">
              {(r.succeededCount + r.failedCount).toLocaleString()} / {r.totalItems.toLocaleString()}
            </td>
            <td className="num">{r.failedCount.toLocaleString()}</td>
            <td className="num">{r.datasetVersion}</td>
            <td>{fmt.date(r.createdAt)}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}

function VersionsTab({ dataset }: { dataset: Dataset }) {
  const [page, setPage] = useState(0);
  const q = useQuery({
    queryKey: ['versions', dataset.id, page],
    queryFn: () => client.listVersions(dataset.id, { page, perPage: PER_PAGE }),
    placeholderData: keepPreviousData,
  });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} onRetry={() => q.refetch()} />;
  if (q.data.versions.length === 0) return <Empty>No versions yet: the dataset has never had items.</Empty>;
  return (
    <section>
      <PagedTable
        label="Versions"
        columns={[
          { label: 'Version', num: true },
          { label: 'Added', num: true },
          { label: 'Updated', num: true },
          { label: 'Deleted', num: true },
          'When',
        ]}
        page={page}
        perPage={PER_PAGE}
        total={q.data.pagination.total}
        onPage={setPage}
      >
        {q.data.versions.map((v) => (
          <tr key={v.version}>
            <td className="num">v{v.version}</td>
            <td className="num">{v.added.toLocaleString()}</td>
            <td className="num">{v.updated.toLocaleString()}</td>
            <td className="num">{v.deleted.toLocaleString()}</td>
            <td>{fmt.date(v.createdAt)}</td>
          </tr>
        ))}
      </PagedTable>
    </section>
  );
}

export function DatasetPage({ datasetId }: { datasetId: string }) {
  const search = useSearch();
  const [, navigate] = useLocation();
  const tab = new URLSearchParams(search).get('tab') ?? 'items';
  const [running, setRunning] = useState(false);
  const [pickingScorers, setPickingScorers] = useState(false);
  const q = useQuery({ queryKey: ['dataset', datasetId], queryFn: () => client.getDataset(datasetId) });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} onRetry={() => q.refetch()} />;
  const ds = q.data;
  const tabs = [
    ['items', `Items (${ds.itemCount.toLocaleString()})`],
    ['runs', 'Runs'],
    ['versions', 'Versions'],
  ] as const;
  return (
    <section>
      <nav className="crumbs">
        <Link href="/">Datasets</Link> /
      </nav>
      <div className="page-head">
        <div>
          <h1>{ds.name}</h1>
          <p className="muted small">
            {ds.description ? `${ds.description} · ` : ''}version {ds.version} · updated {fmt.date(ds.updatedAt)}
            {ds.inputSchema || ds.groundTruthSchema ? ' · has JSON schemas' : ''}
            {' · '}
            <span data-testid="default-scorers">
              default scorers: {ds.scorerIds?.length ? ds.scorerIds.join(', ') : 'none'}
            </span>
          </p>
        </div>
        <div className="row">
          <button type="button" onClick={() => setPickingScorers(true)}>
            Default scorers…
          </button>
          <button type="button" className="primary" onClick={() => setRunning(true)} disabled={ds.itemCount === 0}>
            New run
          </button>
        </div>
      </div>
      <div className="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={tab === id}
            className={tab === id ? 'tab active' : 'tab'}
            onClick={() => navigate(`/datasets/${datasetId}?tab=${id}`, { replace: true })}
          >
            {label}
          </button>
        ))}
      </div>
      {tab === 'runs' ? (
        <RunsTab dataset={ds} />
      ) : tab === 'versions' ? (
        <VersionsTab dataset={ds} />
      ) : (
        <ItemsTab dataset={ds} />
      )}
      {running && <RunDialog dataset={ds} onClose={() => setRunning(false)} />}
      {pickingScorers && <DefaultScorersDialog dataset={ds} onClose={() => setPickingScorers(false)} />}
    </section>
  );
}
