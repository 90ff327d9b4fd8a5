import type { Dataset } from '@assay/client';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { apiKey } from '../api';
import { Modal } from '../components';
import type { ImportReply, ImportRequest, Target } from '../import-worker';

const TARGETS: Target[] = ['input', 'groundTruth', 'metadata', 'externalId', 'ignore'];

function guess(col: string): Target {
  const c = col.toLowerCase().replace(/[^a-z]/g, '');
  if (['input', 'question', 'prompt', 'query', 'text'].includes(c)) return 'input';
  if (['groundtruth', 'expected', 'answer', 'target', 'label', 'reference'].includes(c)) return 'groundTruth';
  if (c === 'metadata' || c === 'meta') return 'metadata';
  if (c === 'externalid' || c === 'id' || c === 'key') return 'externalId';
  return 'metadata';
}

type Stage = 'pick' | 'previewing' | 'mapping' | 'validating' | 'report' | 'inserting' | 'done';

/** Import CSV or JSONL: preview → column mapping → validation report → batch insert (all in a Web Worker). */
export function ImportDialog({ dataset, onClose }: { dataset: Dataset; onClose: () => void }) {
  const worker = useRef<Worker | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [stage, setStage] = useState<Stage>('pick');
  const [columns, setColumns] = useState<string[]>([]);
  const [rows, setRows] = useState<Record<string, unknown>[]>([]);
  const [previewErrors, setPreviewErrors] = useState<string[]>([]);
  const [mapping, setMapping] = useState<Record<string, Target>>({});
  const [progress, setProgress] = useState<{ rows: number; bytes: number; totalBytes: number } | null>(null);
  const [report, setReport] = useState<Extract<ImportReply, { type: 'report' }> | null>(null);
  const [inserted, setInserted] = useState<{ done: number; total: number; version: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const qc = useQueryClient();

  useEffect(() => {
    const w = new Worker(new URL('../import-worker.ts', import.meta.url), { type: 'module' });
    worker.current = w;
    w.onmessage = (e: MessageEvent<ImportReply>) => {
      const m = e.data;
      if (m.type === 'preview') {
        setColumns(m.columns);
        setRows(m.rows);
        setPreviewErrors(m.errors);
        setMapping(Object.fromEntries(m.columns.map((c) => [c, guess(c)])));
        setStage('mapping');
      } else if (m.type === 'progress') setProgress(m);
      else if (m.type === 'report') {
        setReport(m);
        setStage('report');
      } else if (m.type === 'inserted') setInserted(m);
      else if (m.type === 'done') {
        setInserted({ done: m.done, total: m.done, version: m.version });
        setStage('done');
        qc.invalidateQueries({ queryKey: ['dataset', dataset.id] });
        qc.invalidateQueries({ queryKey: ['items', dataset.id] });
        qc.invalidateQueries({ queryKey: ['versions', dataset.id] });
        qc.invalidateQueries({ queryKey: ['datasets'] });
      } else if (m.type === 'error') {
        setError(m.message);
        setStage((s) =>
          s === 'inserting' ? 'report' : s === 'previewing' ? 'pick' : s === 'validating' ? 'mapping' : s,
        );
      }
    };
    w.onerror = (e) => setError(e.message || 'the import worker failed');
    return () => w.terminate();
  }, [dataset.id, qc]);

  const kind = (f: File): 'csv' | 'jsonl' => (/\.(jsonl|ndjson|json)$/i.test(f.name) ? 'jsonl' : 'csv');
  const send = (m: ImportRequest) => worker.current?.postMessage(m);
  const pct = progress?.totalBytes ? Math.min(100, (progress.bytes / progress.totalBytes) * 100) : 0;

  return (
    <Modal title="Import items" onClose={onClose} wide>
      {error && (
        <div className="error" role="alert">
          {error}
        </div>
      )}
      <div className="form">
        <label>
          CSV or JSONL file
          <input
            type="file"
            accept=".csv,.jsonl,.ndjson,.json,text/csv"
            onChange={(e) => {
              const f = e.target.files?.[0] ?? null;
              setFile(f);
              setError(null);
              setReport(null);
              setInserted(null);
              if (f) {
                setStage('previewing');
                send({ type: 'preview', file: f, kind: kind(f) });
              }
            }}
          />
        </label>
        {file && (
          <p className="muted small">
            {file.name} · {(file.size / 1024 / 1024).toFixed(2)} MB · parsed as {kind(file).toUpperCase()}
          </p>
        )}
      </div>
      {stage === 'previewing' && <p>Reading the first rows…</p>}
      {columns.length > 0 && stage !== 'pick' && stage !== 'previewing' && (
        <>
          <h3>Column mapping</h3>
          <table className="table compact" aria-label="Column mapping">
            <thead>
              <tr>
                <th>Column</th>
                <th>Maps to</th>
                <th>First values</th>
              </tr>
            </thead>
            <tbody>
              {columns.map((c) => (
                <tr key={c}>
                  <td>
                    <code>{c}</code>
                  </td>
                  <td>
                    <select
                      aria-label={`Map column ${c}`}
                      value={mapping[c]}
                      disabled={stage !== 'mapping' && stage !== 'report'}
                      onChange={(e) => {
                        setMapping({ ...mapping, [c]: e.target.value as Target });
                        setStage('mapping');
                        setReport(null);
                      }}
                    >
                      {TARGETS.map((t) => (
                        <option key={t} value={t}>
                          {t}
                        </option>
                      ))}
                    </select>
                  </td>
                  <td className="muted small">
                    {rows
                      .slice(0, 3)
                      .map((r) => {
                        const v = r[c];
                        const s = typeof v === 'string' ? v : JSON.stringify(v);
                        return s && s.length > 40 ? `${s.slice(0, 40)}…` : s;
                      })
                      .join(' · ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {previewErrors.length > 0 && (
            <ul className="error">
              {previewErrors.map((e) => (
                <li key={e}>{e}</li>
              ))}
            </ul>
          )}
          <p className="muted small">
            One column mapped to input (or ground truth) gives its value; several give an object of them. CSV cells that
            hold JSON are parsed.
          </p>
        </>
      )}
      {(stage === 'validating' || stage === 'inserting') && progress && stage === 'validating' && (
        <div>
          <progress max={100} value={pct} aria-label="Validation progress" /> {progress.rows.toLocaleString()} rows
        </div>
      )}
      {report && (
        <section className="report" aria-label="Validation report">
          <h3>Validation report</h3>
          <p>
            <strong data-testid="valid-count">{report.valid.toLocaleString()}</strong> valid ·{' '}
            <strong data-testid="invalid-count">{report.invalid.toLocaleString()}</strong> invalid of{' '}
            {report.rows.toLocaleString()} rows
          </p>
          {report.errors.length > 0 && (
            <ul className="errors-list">
              {report.errors.slice(0, 50).map((e) => (
                <li key={e.row}>
                  row {e.row}: {e.message}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {inserted && (
        <div>
          <progress max={inserted.total || 1} value={inserted.done} aria-label="Insert progress" />{' '}
          {inserted.done.toLocaleString()} / {inserted.total.toLocaleString()} inserted
          {stage === 'done' && <span> · dataset is at version {inserted.version}</span>}
        </div>
      )}
      <div className="actions">
        <button type="button" onClick={onClose}>
          {stage === 'done' ? 'Close' : 'Cancel'}
        </button>
        {file && (stage === 'mapping' || stage === 'validating') && (
          <button
            type="button"
            className="primary"
            disabled={stage === 'validating' || !Object.values(mapping).includes('input')}
            onClick={() => {
              setError(null);
              setStage('validating');
              send({
                type: 'validate',
                file,
                kind: kind(file),
                mapping,
                inputSchema: dataset.inputSchema,
                groundTruthSchema: dataset.groundTruthSchema,
              });
            }}
          >
            {stage === 'validating' ? 'Validating…' : 'Validate'}
          </button>
        )}
        {report && (stage === 'report' || stage === 'inserting') && (
          <button
            type="button"
            className="primary"
            disabled={stage === 'inserting' || report.valid === 0}
            onClick={() => {
              setError(null);
              setStage('inserting');
              send({ type: 'insert', datasetId: dataset.id, apiKey: apiKey(), batchSize: 5000 });
            }}
          >
            {stage === 'inserting' ? 'Importing…' : `Import ${report.valid.toLocaleString()} items`}
          </button>
        )}
      </div>
    </Modal>
  );
}
