/// <reference lib="webworker" />
// Reads a CSV or JSONL file off the main thread with the import module the CLI uses
// (`@assay/core/io`), streamed chunk by chunk (files of 50 MB and more never freeze the tab):
// preview, then validation with a column mapping, then batch insert.
import type { ItemInput } from '@assay/core/api';
import { ImportFileError, type ImportFormat, type Mapping, type Preview, previewFile, readItems } from '@assay/core/io';
import { Validator } from '@cfworker/json-schema';

export type ImportRequest =
  | { type: 'preview'; file: File; format: ImportFormat }
  | {
      type: 'validate';
      file: File;
      format: ImportFormat;
      /** Column → target path, for the columns whose names are not targets (see `planColumns`). */
      mapping: Mapping;
      inputSchema: Record<string, unknown> | null;
      groundTruthSchema: Record<string, unknown> | null;
    }
  | { type: 'insert'; datasetId: string; apiKey?: string; batchSize: number };
export type ImportReply =
  | ({ type: 'preview' } & Preview)
  | { type: 'progress'; records: number; bytes: number; totalBytes: number }
  | { type: 'report'; records: number; valid: number; invalid: number; errors: { line: number; message: string }[] }
  | { type: 'inserted'; done: number; total: number; version: number }
  | { type: 'done'; done: number; version: number }
  | { type: 'error'; message: string };

const ctx = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: ImportReply) => ctx.postMessage(m);
let validItems: ItemInput[] = [];

/** The dataset's JSON schemas as one check (the server stores what it is given; the UI checks first). */
function schemaCheck(
  inputSchema: Record<string, unknown> | null,
  groundTruthSchema: Record<string, unknown> | null,
): (item: ItemInput) => string | null {
  const vIn = inputSchema ? new Validator(inputSchema as never, '2020-12', false) : null;
  const vGt = groundTruthSchema ? new Validator(groundTruthSchema as never, '2020-12', false) : null;
  const errorsOf = (r: { errors: { instanceLocation: string; error: string }[] }) =>
    r.errors.map((e) => `${e.instanceLocation} ${e.error}`).join('; ');
  return (item) => {
    const i = vIn?.validate(item.input);
    if (i && !i.valid) return `input: ${errorsOf(i)}`;
    const g = vGt && item.groundTruth !== undefined ? vGt.validate(item.groundTruth) : null;
    if (g && !g.valid) return `groundTruth: ${errorsOf(g)}`;
    return null;
  };
}

async function handle(msg: ImportRequest) {
  if (msg.type === 'preview') {
    post({ type: 'preview', ...(await previewFile(msg.file.stream(), msg.format)) });
    return;
  }
  if (msg.type === 'validate') {
    validItems = [];
    const errors: { line: number; message: string }[] = [];
    let invalid = 0;
    let records = 0;
    let bytes = 0;
    let shown = 0;
    const progress = () => post({ type: 'progress', records, bytes, totalBytes: msg.file.size });
    try {
      for await (const p of readItems(msg.file.stream(), {
        format: msg.format,
        mapping: msg.mapping,
        check: schemaCheck(msg.inputSchema, msg.groundTruthSchema),
        onBytes: (n) => {
          bytes += n;
          if (bytes - shown >= 512 * 1024) {
            shown = bytes;
            progress();
          }
        },
      })) {
        records++;
        if (p.error === undefined) validItems.push(p.item);
        else {
          invalid++;
          if (errors.length < 200) errors.push({ line: p.line, message: p.error });
        }
      }
    } catch (e) {
      validItems = [];
      if (e instanceof ImportFileError) return post({ type: 'error', message: `line ${e.line}: ${e.message}` });
      throw e;
    }
    progress();
    post({ type: 'report', records, valid: validItems.length, invalid, errors });
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
