import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { AssayApiError, type AssayClient, type DatasetItem, type ItemInput } from '@assay/client';
import { issuesOf, itemInputSchema, MAX_BATCH_ITEMS } from '@assay/core/api';
import { parse } from 'csv-parse';
import { usage } from './exit.js';

export type Format = 'jsonl' | 'csv';

/** One line (JSONL) or record (CSV) of an import file: an item, or why it is not one. */
export type ParsedLine = { line: number; item: ItemInput; error?: undefined } | { line: number; error: string };

export function formatOf(file: string, explicit?: string): Format {
  if (explicit === 'jsonl' || explicit === 'csv') return explicit;
  if (explicit) throw usage(`--format must be jsonl or csv (got '${explicit}')`);
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  if (/\.csv$/i.test(file)) return 'csv';
  throw usage(`cannot tell the format of ${file} from its name: pass --format jsonl or --format csv`);
}

function validate(raw: unknown): { item: ItemInput } | { error: string } {
  const r = itemInputSchema.safeParse(raw);
  if (r.success) return { item: r.data };
  return {
    error: issuesOf(r.error)
      .map((i) => (i.path === '(root)' ? i.message : `${i.path}: ${i.message}`))
      .join('; '),
  };
}

/** Rejects a second use of an externalId within the file (the server would refuse the batch). */
function dedup() {
  const seen = new Map<string, number>();
  return (p: ParsedLine): ParsedLine => {
    if (p.error !== undefined || !p.item.externalId) return p;
    const first = seen.get(p.item.externalId);
    if (first !== undefined)
      return { line: p.line, error: `externalId '${p.item.externalId}' is already used on line ${first}` };
    seen.set(p.item.externalId, p.line);
    return p;
  };
}

async function* jsonlLines(file: string, onBytes: (n: number) => void): AsyncGenerator<ParsedLine> {
  const stream = createReadStream(file);
  stream.on('data', (b) => onBytes(b.length));
  const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of rl) {
    line++;
    const t = line === 1 ? text.replace(/^\uFEFF/, '').trim() : text.trim();
    if (!t) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(t);
    } catch (e) {
      yield { line, error: `not valid JSON: ${(e as Error).message}` };
      continue;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      yield { line, error: 'expected a JSON object { input, groundTruth?, metadata?, externalId? }' };
      continue;
    }
    const v = validate(raw);
    yield 'item' in v ? { line, item: v.item } : { line, error: v.error };
  }
}

// CSV columns: whole fields, or `input.key` / `groundTruth.key` / `metadata.key` building an object.
const FIELDS: Record<string, 'input' | 'groundTruth' | 'metadata' | 'externalId'> = {
  input: 'input',
  groundtruth: 'groundTruth',
  ground_truth: 'groundTruth',
  metadata: 'metadata',
  externalid: 'externalId',
  external_id: 'externalId',
};

function columnOf(name: string): { field: 'input' | 'groundTruth' | 'metadata' | 'externalId'; key?: string } | null {
  const n = name.trim();
  const dot = n.indexOf('.');
  const head = (dot < 0 ? n : n.slice(0, dot)).toLowerCase();
  const field = FIELDS[head];
  if (!field) return null;
  if (dot < 0) return { field };
  if (field === 'externalId' || dot === n.length - 1) return null;
  return { field, key: n.slice(dot + 1) };
}

/** A cell: JSON when it starts with `{`, `[` or `"`, the plain text otherwise, absent when empty. */
function cellValue(text: string): { value: unknown } | { error: string } | null {
  if (text === '') return null;
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[') || t.startsWith('"')) {
    try {
      return { value: JSON.parse(t) };
    } catch (e) {
      return { error: `not valid JSON (a cell starting with {, [ or " is read as JSON): ${(e as Error).message}` };
    }
  }
  return { value: text };
}

function csvItem(record: Record<string, string>): { item: ItemInput } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const [column, text] of Object.entries(record)) {
    const c = columnOf(column)!;
    if (c.field === 'externalId') {
      if (text.trim()) out.externalId = text.trim();
      continue;
    }
    const v = cellValue(text);
    if (v === null) continue;
    if ('error' in v) return { error: `column ${column}: ${v.error}` };
    if (c.key === undefined) out[c.field] = v.value;
    else {
      if (out[c.field] === undefined) out[c.field] = {};
      const obj = out[c.field] as Record<string, unknown>;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
        return { error: `column ${column}: ${c.field} is given both whole and by key` };
      obj[c.key] = v.value;
    }
  }
  return validate(out);
}

async function* csvLines(file: string, onBytes: (n: number) => void): AsyncGenerator<ParsedLine> {
  const stream = createReadStream(file);
  stream.on('data', (b) => onBytes(b.length));
  const skipped: ParsedLine[] = [];
  let headerError: string | null = null;
  const parser = stream.pipe(
    parse({
      bom: true,
      columns: (header: string[]) => {
        const bad = header.filter((h) => columnOf(h) === null);
        if (bad.length) headerError = `unknown column(s) ${bad.map((b) => `'${b}'`).join(', ')}`;
        else if (!header.some((h) => columnOf(h)?.field === 'input')) headerError = 'no input column';
        return header;
      },
      skip_empty_lines: true,
      skip_records_with_error: true,
      raw: true,
      info: true,
      on_skip: (err) => {
        if (err)
          skipped.push({
            line: (err as { lines?: number }).lines ?? 0,
            error: err.message.replace(/ on line \d+$/, ''),
          });
      },
    }),
  );
  for await (const rec of parser as AsyncIterable<{
    record: Record<string, string>;
    raw: string;
    info: { lines: number };
  }>) {
    if (headerError) break;
    yield* skipped.splice(0);
    // The record's first line: its last line minus the line breaks inside it.
    const inner = rec.raw.replace(/^[\r\n]+/, '').replace(/\r?\n$/, '');
    const line = rec.info.lines - (inner.match(/\n/g)?.length ?? 0);
    const v = csvItem(rec.record);
    yield 'item' in v ? { line, item: v.item } : { line, error: v.error };
  }
  if (headerError) {
    stream.destroy();
    throw usage(
      `${file} line 1: ${headerError}. Columns: input (or input.KEY …), groundTruth (or groundTruth.KEY …), metadata (JSON, or metadata.KEY …), externalId.`,
    );
  }
  yield* skipped.splice(0);
}

/** Streams the items of an import file, line by line, never holding the whole file. */
export function readItems(
  file: string,
  format: Format,
  onBytes: (n: number) => void = () => {},
): AsyncGenerator<ParsedLine> {
  const check = dedup();
  const source = format === 'jsonl' ? jsonlLines(file, onBytes) : csvLines(file, onBytes);
  return (async function* () {
    for await (const p of source) yield check(p);
  })();
}

/** `details` of a 413 ITEM_TOO_LARGE. */
interface TooLarge {
  limit: number;
  size: number;
  index?: number;
}

/**
 * Sends items in batches (at most `batchSize` items and ~8 MiB each). A batch the server refuses
 * because some externalIds already exist in the dataset is sent again without them (those lines
 * are reported), and so is one with an item over the server's size limit (413 ITEM_TOO_LARGE: that
 * line is reported); one too large for the server is split in two.
 */
export class BatchSender {
  private items: ItemInput[] = [];
  private lines: number[] = [];
  private bytes = 0;
  /** Items stored so far. */
  imported = 0;
  /** Latest dataset version after a batch. */
  version: number | null = null;
  /** Ids of items stored (only kept with `keepIds`, to roll back). */
  readonly ids: string[] = [];

  constructor(
    private readonly client: AssayClient,
    private readonly datasetId: string,
    private readonly opts: {
      batchSize: number;
      keepIds: boolean;
      onRejected: (line: number, error: string) => void;
      onSent: (count: number) => void;
    },
  ) {}

  async add(line: number, item: ItemInput): Promise<void> {
    const size = JSON.stringify(item).length;
    if (this.items.length && (this.items.length >= this.opts.batchSize || this.bytes + size > 8 * 1024 * 1024)) {
      await this.flush();
    }
    this.items.push(item);
    this.lines.push(line);
    this.bytes += size;
  }

  async flush(): Promise<void> {
    const items = this.items;
    const lines = this.lines;
    this.items = [];
    this.lines = [];
    this.bytes = 0;
    await this.send(items, lines);
  }

  private async send(items: ItemInput[], lines: number[]): Promise<void> {
    if (!items.length) return;
    let added: { version: number; items: DatasetItem[] };
    try {
      added = await this.client.addItems(this.datasetId, items);
    } catch (e) {
      const taken =
        (AssayApiError.is(e) && e.code === 'CONFLICT' && (e.details as { externalIds?: string[] })?.externalIds) || [];
      if (taken.length) {
        const set = new Set(taken);
        const keep = items.map((it) => !(it.externalId && set.has(it.externalId)));
        items.forEach((it, i) => {
          if (!keep[i]) this.opts.onRejected(lines[i], `externalId '${it.externalId}' already exists in the dataset`);
        });
        return this.send(
          items.filter((_, i) => keep[i]),
          lines.filter((_, i) => keep[i]),
        );
      }
      // One item over the server's size limit: that line is rejected (named, with the limit), the rest go on.
      const large =
        AssayApiError.is(e) && e.code === 'ITEM_TOO_LARGE' ? (e.details as TooLarge | undefined) : undefined;
      const at = items.length === 1 ? 0 : large?.index;
      if (large && at !== undefined && at < items.length) {
        this.opts.onRejected(
          lines[at]!,
          `item is ${large.size} bytes (input + groundTruth + metadata as JSON); the server takes items of at most ${large.limit} bytes (ASSAY_MAX_ITEM_BYTES on the server)`,
        );
        return this.send(
          items.filter((_, i) => i !== at),
          lines.filter((_, i) => i !== at),
        );
      }
      if (AssayApiError.is(e) && e.status === 413 && items.length > 1) {
        const half = Math.ceil(items.length / 2);
        await this.send(items.slice(0, half), lines.slice(0, half));
        return this.send(items.slice(half), lines.slice(half));
      }
      throw e;
    }
    this.imported += added.items.length;
    this.version = added.version;
    if (this.opts.keepIds) for (const it of added.items) this.ids.push(it.id);
    this.opts.onSent(added.items.length);
  }

  /** Deletes every item this sender stored (the `--strict` promise: all or nothing). */
  async rollback(): Promise<number> {
    for (let i = 0; i < this.ids.length; i += MAX_BATCH_ITEMS) {
      await this.client.deleteItems(this.datasetId, this.ids.slice(i, i + MAX_BATCH_ITEMS));
    }
    return this.ids.length;
  }
}
