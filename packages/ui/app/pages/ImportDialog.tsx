import type { Dataset } from '@assay/client';
import { defaultTarget, formatFromName, type ImportFormat, planColumns, suggestTarget } from '@assay/core/io';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { apiKey } from '../api';
import { Modal } from '../components';
import type { ImportReply, ImportRequest } from '../import-worker';

/** The targets offered for a column (values are `@assay/core/io` target paths; '' is not chosen yet). */
function targetsFor(column: string): { value: string; label: string }[] {
  const own = defaultTarget(column);
  const values = ['input', 'groundTruth', 'metadata', 'externalId', 'ignore'];
  if (!column.includes('.')) {
    values.splice(1, 0, `input.${column}`);
    values.splice(3, 0, `groundTruth.${column}`);
  }
  if (own && !values.includes(own)) values.unshift(own);
  const isMeta = column.trim().toLowerCase() === 'metadata';
  return values.map((value) => ({
    value,
    label: value === 'metadata' ? (isMeta ? 'metadata (a JSON object)' : `metadata (as ${column})`) : value,
  }));
}

const quote = (cols: string[]) => cols.map((c) => `'${c}'`).join(', ');

/** Why the mapping cannot be validated yet (empty when it can): the import module's own checks. */
function blockers(columns: string[], mapping: Record<string, string>): string[] {
  const unchosen = columns.filter((c) => !mapping[c]);
  const chosen = columns.filter((c) => mapping[c]);
  const plan = planColumns(chosen, mapping);
  const out: string[] = [];
  if (unchosen.length)
    out.push(
      `${unchosen.length > 1 ? 'Columns' : 'Column'} ${quote(unchosen)} ${unchosen.length > 1 ? 'are' : 'is'} not an item field: choose what ${unchosen.length > 1 ? 'they map' : 'it maps'} to, or ignore ${unchosen.length > 1 ? 'them' : 'it'}.`,
    );
  out.push(...plan.errors);
  if (!plan.hasInput) out.push('No column maps to input (or input.KEY): every item needs an input.');
  return out;
}

type Stage = 'pick' | 'previewing' | 'mapping' | 'validating' | 'report' | 'inserting' | 'done';

/** Import CSV or JSONL: preview → column mapping → validation report → batch insert (all in a Web Worker). */
export function ImportDialog({ dataset, onClose }: { dataset: Dataset; onClose: () => void }) {
  const worker = useRef<Worker | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [stage, setStage] = useState<Stage>('pick');
  const [columns, setColumns] = useState<string[]>([]);
  const [rows, setRows] = useState<Record<string, unknown>[]>([]);
  const [previewErrors, setPreviewErrors] = useState<{ line: number; error: string }[]>([]);
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [progress, setProgress] = useState<{ records: number; bytes: number; totalBytes: number } | null>(null);
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
        setMapping(Object.fromEntries(m.columns.map((c) => [c, suggestTarget(c) ?? ''])));
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

  const formatOf = (f: File): ImportFormat => formatFromName(f.name) ?? (/\.json$/i.test(f.name) ? 'jsonl' : 'csv');
  const blocked = blockers(columns, mapping);
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
                send({ type: 'preview', file: f, format: formatOf(f) });
              }
            }}
          />
        </label>
        {file && (
          <p className="muted small">
            {file.name} · {(file.size / 1024 / 1024).toFixed(2)} MB · parsed as {formatOf(file).toUpperCase()}
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
                      value={mapping[c] ?? ''}
                      disabled={stage !== 'mapping' && stage !== 'report'}
                      onChange={(e) => {
                        setMapping({ ...mapping, [c]: e.target.value });
                        setStage('mapping');
                        setReport(null);
                      }}
                    >
                      {!mapping[c] && <option value="">— choose —</option>}
                      {targetsFor(c).map((t) => (
                        <option key={t.value} value={t.value}>
                          {t.label}
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
                <li key={e.line}>
                  line {e.line}: {e.error}
                </li>
              ))}
            </ul>
          )}
          <p className="muted small">
            Columns named <code>input</code>, <code>groundTruth</code>, <code>metadata</code>, <code>externalId</code>{' '}
            or <code>input.KEY</code>, <code>groundTruth.KEY</code>, <code>metadata.KEY</code> map to those fields, as
            in <code>assay items import</code>; an <code>id</code> column is ignored. Choose a field for any other
            column, or ignore it. A cell holding JSON (an object, an array, "quoted text", a number, true, false or
            null) is read as JSON.
          </p>
          {stage === 'mapping' && blocked.length > 0 && (
            <div className="error small" role="note" aria-label="Why Validate is disabled">
              Validate is disabled until the mapping is complete:
              <ul>
                {blocked.map((b) => (
                  <li key={b}>{b}</li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
      {(stage === 'validating' || stage === 'inserting') && progress && stage === 'validating' && (
        <div>
          <progress max={100} value={pct} aria-label="Validation progress" /> {progress.records.toLocaleString()}{' '}
          records
        </div>
      )}
      {report && (
        <section className="report" aria-label="Validation report">
          <h3>Validation report</h3>
          <p>
            <strong data-testid="valid-count">{report.valid.toLocaleString()}</strong> valid ·{' '}
            <strong data-testid="invalid-count">{report.invalid.toLocaleString()}</strong> invalid of{' '}
            {report.records.toLocaleString()} records
          </p>
          {report.errors.length > 0 && (
            <ul className="errors-list">
              {report.errors.slice(0, 50).map((e) => (
                <li key={e.line}>
                  line {e.line}: {e.message}
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
            disabled={stage === 'validating' || blocked.length > 0}
            title={blocked.length ? blocked.join(' ') : undefined}
            onClick={() => {
              setError(null);
              setStage('validating');
              send({
                type: 'validate',
                file,
                format: formatOf(file),
                mapping: Object.fromEntries(Object.entries(mapping).filter(([, t]) => t)),
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
