import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { client, fmt } from '../api';
import { Empty, FormFooter, Modal, PagedTable, Queried, Status } from '../components';

function LastRun({ datasetId }: { datasetId: string }) {
  const q = useQuery({
    queryKey: ['runs', datasetId, 0, 1],
    queryFn: () => client.listRuns(datasetId, { perPage: 1 }),
  });
  if (q.isPending) return <span className="muted">…</span>;
  if (q.isError) return <span className="muted">?</span>;
  const run = q.data.runs[0];
  if (!run) return <span className="muted">never</span>;
  return (
    <Link href={`/datasets/${datasetId}/runs/${run.id}`}>
      {fmt.date(run.createdAt)} <Status status={run.status} />
    </Link>
  );
}

export function CreateDatasetDialog({ onClose }: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [inputSchema, setInputSchema] = useState('');
  const [gtSchema, setGtSchema] = useState('');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () => {
      const parse = (s: string, what: string) => {
        if (!s.trim()) return undefined;
        try {
          return JSON.parse(s);
        } catch (e) {
          throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
        }
      };
      return client.createDataset({
        name,
        description: description || undefined,
        inputSchema: parse(inputSchema, 'Input schema'),
        groundTruthSchema: parse(gtSchema, 'Ground truth schema'),
      });
    },
    onSuccess: (ds) => {
      qc.invalidateQueries({ queryKey: ['datasets'] });
      onClose();
      navigate(`/datasets/${ds.id}`);
    },
  });
  return (
    <Modal title="New dataset" onClose={onClose}>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          setJsonError(null);
          create.mutate();
        }}
      >
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label>
          Input JSON schema (optional)
          <textarea rows={3} value={inputSchema} onChange={(e) => setInputSchema(e.target.value)} />
        </label>
        <label>
          Ground truth JSON schema (optional)
          <textarea rows={3} value={gtSchema} onChange={(e) => setGtSchema(e.target.value)} />
        </label>
        {jsonError && <div className="error">{jsonError}</div>}
        <FormFooter mutation={create} onCancel={onClose} label="Create dataset" busyLabel="Creating…" />
      </form>
    </Modal>
  );
}

export function DatasetsPage() {
  const [page, setPage] = useState(0);
  const [creating, setCreating] = useState(false);
  const q = useQuery({
    queryKey: ['datasets', page],
    queryFn: () => client.listDatasets({ page, perPage: 50 }),
    placeholderData: (prev) => prev,
  });
  return (
    <section>
      <div className="page-head">
        <h1>Datasets</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New dataset
        </button>
      </div>
      <Queried query={q}>
        {(data) =>
          data.datasets.length === 0 ? (
            <Empty>No datasets yet. Create one to add items and run targets against them.</Empty>
          ) : (
            <PagedTable
              label="Datasets"
              columns={['Name', { label: 'Items', num: true }, { label: 'Version', num: true }, 'Last run', 'Updated']}
              page={page}
              perPage={50}
              total={data.pagination.total}
              onPage={setPage}
            >
              {data.datasets.map((d) => (
                <tr key={d.id}>
                  <td>
                    <Link href={`/datasets/${d.id}`}>{d.name}</Link>
                    {d.description && <div className="muted small">{fmt.short(d.description, 90)}</div>}
                  </td>
                  <td className="num">{d.itemCount.toLocaleString()}</td>
                  <td className="num">{d.version}</td>
                  <td>
                    <LastRun datasetId={d.id} />
                  </td>
                  <td>{fmt.date(d.updatedAt)}</td>
                </tr>
              ))}
            </PagedTable>
          )
        }
      </Queried>
      {creating && <CreateDatasetDialog onClose={() => setCreating(false)} />}
    </section>
  );
}
