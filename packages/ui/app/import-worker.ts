/// <reference lib="webworker" />
// Parses a CSV or JSONL file off the main thread, streamed chunk by chunk (files of 50 MB and more
// never freeze the tab): preview, then validation with a column mapping, then batch insert.
import { Validator } from '@cfworker/json-schema';
import Papa from 'papaparse';

export type Target = 'input' | 'groundTruth' | 'metadata' | 'externalId' | 'ignore';
export type ImportRequest =
  | { type: 'preview'; file: File; kind: 'csv' | 'jsonl' }
  | {
      type: 'validate';
      file: File;
      kind: 'csv' | 'jsonl';
      mapping: Record<string, Target>;
      inputSchema: Record<string, unknown> | null;
      groundTruthSchema: Record<string, unknown> | null;
    }
  | { type: 'insert'; datasetId: string; apiKey?: string; batchSize: number };
export type ImportReply =
  | { type: 'preview'; columns: string[]; rows: Record<string, unknown>[]; errors: string[] }
  | { type: 'progress'; rows: number; bytes: number; totalBytes: number }
  | { type: 'report'; rows: number; valid: number; invalid: number; errors: { row: number; message: string }[] }
  | { type: 'inserted'; done: number; total: number; version: number }
  | { type: 'done'; done: number; version: number }
  | { type: 'error'; message: string };

interface Item {
  input: unknown;
  groundTruth?: unknown;
  metadata?: Record<string, unknown>;
  externalId?: string;
}

const ctx = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: ImportReply) => ctx.postMessage(m);
let validItems: Item[] = [];

/** Streams records: CSV rows (header row → keys) or JSONL objects, with their 1-based row number. */
async function eachRecord(
  file: File,
  kind: 'csv' | 'jsonl',
  onRecord: (rec: Record<string, unknown> | Error, row: number) => boolean | undefined,
  onProgress?: (rows: number, bytes: number) => void,
): Promise<string[]> {
  const columns = new Set<string>();
  if (kind === 'csv') {
    return new Promise((resolve, reject) => {
      let row = 0;
      Papa.parse<Record<string, string>>(file, {
        header: true,
        skipEmptyLines: 'greedy',
        chunkSize: 1024 * 1024,
        chunk: (res, parser) => {
          for (const f of res.meta.fields ?? []) columns.add(f);
          for (const r of res.data) {
            row++;
            if (onRecord(r, row) === false) {
              parser.abort();
              return;
            }
          }
          onProgress?.(row, res.meta.cursor);
        },
        complete: () => resolve([...columns]),
        error: (e) => reject(e),
      });
    });
  }
  const reader = file.stream().pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let row = 0;
  let bytes = 0;
  const line = (text: string) => {
    if (!text.trim()) return true;
    row++;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      return onRecord(new Error(`not valid JSON: ${(e as Error).message}`), row) !== false;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      return onRecord(new Error('each line must be a JSON object'), row) !== false;
    }
    for (const k of Object.keys(v)) columns.add(k);
    return onRecord(v as Record<string, unknown>, row) !== false;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    buf += value;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      if (!line(buf.slice(0, i))) {
        await reader.cancel();
        return [...columns];
      }
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
    onProgress?.(row, bytes);
  }
  if (buf) line(buf);
  return [...columns];
}

/** A CSV cell that looks like JSON (object, array, number, true/false/null) becomes that value. */
function cell(v: unknown, kind: 'csv' | 'jsonl'): unknown {
  if (kind === 'jsonl' || typeof v !== 'string') return v;
  const t = v.trim();
  if (/^[[{]/.test(t) || /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}

function toItem(rec: Record<string, unknown>, mapping: Record<string, Target>, kind: 'csv' | 'jsonl'): Item {
  const by = (t: Target) => Object.keys(mapping).filter((c) => mapping[c] === t);
  const combine = (cols: string[]) =>
    cols.length === 1 ? cell(rec[cols[0]!], kind) : Object.fromEntries(cols.map((c) => [c, cell(rec[c], kind)]));
  const inputCols = by('input');
  const item: Item = { input: inputCols.length ? combine(inputCols) : undefined };
  const gt = by('groundTruth');
  if (gt.length) item.groundTruth = combine(gt);
  const meta = by('metadata');
  if (meta.length) {
    const m = meta.length === 1 ? cell(rec[meta[0]!], kind) : combine(meta);
    item.metadata =
      m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : { [meta[0]!]: m };
  }
  const ext = by('externalId');
  if (ext.length && rec[ext[0]!] !== undefined && rec[ext[0]!] !== '') item.externalId = String(rec[ext[0]!]);
  return item;
}

async function handle(msg: ImportRequest) {
  if (msg.type === 'preview') {
    const rows: Record<string, unknown>[] = [];
    const errors: string[] = [];
    const columns = await eachRecord(msg.file, msg.kind, (rec, row) => {
      if (rec instanceof Error) errors.push(`row ${row}: ${rec.message}`);
      else rows.push(rec);
      return rows.length + errors.length < 20;
    });
    post({ type: 'preview', columns, rows, errors });
    return;
  }
  if (msg.type === 'validate') {
    validItems = [];
    const errors: { row: number; message: string }[] = [];
    let invalid = 0;
    let rows = 0;
    const vIn = msg.inputSchema ? new Validator(msg.inputSchema as never, '2020-12', false) : null;
    const vGt = msg.groundTruthSchema ? new Validator(msg.groundTruthSchema as never, '2020-12', false) : null;
    const seen = new Set<string>();
    const bad = (row: number, message: string) => {
      invalid++;
      if (errors.length < 200) errors.push({ row, message });
    };
    await eachRecord(
      msg.file,
      msg.kind,
      (rec, row) => {
        rows = row;
        if (rec instanceof Error) return void bad(row, rec.message);
        const item = toItem(rec, msg.mapping, msg.kind);
        if (item.input === undefined || item.input === '') return void bad(row, 'input is empty');
        if (vIn) {
          const r = vIn.validate(item.input);
          if (!r.valid)
            return void bad(row, `input: ${r.errors.map((e) => `${e.instanceLocation} ${e.error}`).join('; ')}`);
        }
        if (vGt && item.groundTruth !== undefined) {
          const r = vGt.validate(item.groundTruth);
          if (!r.valid)
            return void bad(row, `groundTruth: ${r.errors.map((e) => `${e.instanceLocation} ${e.error}`).join('; ')}`);
        }
        if (item.externalId !== undefined) {
          if (seen.has(item.externalId)) return void bad(row, `externalId '${item.externalId}' appears twice`);
          seen.add(item.externalId);
        }
        validItems.push(item);
      },
      (r, bytes) => post({ type: 'progress', rows: r, bytes, totalBytes: msg.file.size }),
    );
    post({ type: 'report', rows, valid: validItems.length, invalid, errors });
    return;
  }
  if (msg.type === 'insert') {
    const total = validItems.length;
    let done = 0;
    let version = 0;
    for (let i = 0; i < total; i += msg.batchSize) {
      const items = validItems.slice(i, i + msg.batchSize);
      const res = await fetch(`/api/datasets/${encodeURIComponent(msg.datasetId)}/items/batch`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(msg.apiKey ? { authorization: `Bearer ${msg.apiKey}` } : {}),
        },
        body: JSON.stringify({ items }),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) {
        const m = body?.error?.message ?? `HTTP ${res.status}`;
        const d = Array.isArray(body?.error?.details)
          ? ` (${body.error.details
              .slice(0, 3)
              .map((x: { path?: string; message?: string }) => `${x.path}: ${x.message}`)
              .join('; ')})`
          : '';
        post({
          type: 'error',
          message: `batch ${i / msg.batchSize + 1} (items ${i + 1}–${i + items.length}): ${m}${d}; ${done} items were inserted before it`,
        });
        return;
      }
      done += items.length;
      version = body.version;
      post({ type: 'inserted', done, total, version });
    }
    validItems = [];
    post({ type: 'done', done, version });
  }
}

ctx.addEventListener('message', (e: MessageEvent<ImportRequest>) => {
  handle(e.data).catch((err) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
