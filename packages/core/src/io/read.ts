import { type ItemInput, issuesOf, itemInputSchema } from '../api.js';
import { type ColumnPlan, type Mapping, planColumns, type Target } from './columns.js';
import { csvRows, parseCell } from './csv.js';
import { jsonlRecords } from './jsonl.js';
import { type ByteSource, textChunks } from './source.js';

export type ImportFormat = 'csv' | 'jsonl';

/** One record of an import file: an item, or why it is not one, with the line it starts on. */
export type ParsedLine =
  | { line: number; item: ItemInput; error?: undefined }
  | { line: number; error: string; item?: undefined };

/** The whole file is refused (a CSV header with unknown columns, say): nothing in it is read. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
  constructor(
    /** The line of the problem (1 for the header). */
    readonly line: number,
    message: string,
    /** Columns whose names name no field and that were not mapped. */
    readonly unknown: string[] = [],
  ) {
    super(message);
  }
}

/** The format a file name says (`.csv`; `.jsonl` or `.ndjson`), or null. */
export function formatFromName(name: string): ImportFormat | null {
  if (/\.(jsonl|ndjson)$/i.test(name)) return 'jsonl';
  if (/\.csv$/i.test(name)) return 'csv';
  return null;
}

export interface ReadOptions {
  format: ImportFormat;
  /** Column (or JSONL key) → target path; a column left out maps by its name. Default: none. */
  mapping?: Mapping;
  /** Called with the byte count of each chunk read (for progress). */
  onBytes?: (bytes: number) => void;
  /** A further check of each valid item (the UI checks the dataset's JSON schemas): a message refuses it. */
  check?: (item: ItemInput) => string | null;
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

/** Builds an item from (column, target, value) triples; CSV cells are read with `parseCell`. */
function itemOf(cells: [string, Target | null, unknown][], csv: boolean): { item: ItemInput } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const [column, t, raw] of cells) {
    if (!t || t.field === 'ignore') continue;
    if (t.field === 'externalId') {
      const id = csv ? (raw as string).trim() : raw;
      if (id !== '') out.externalId = id;
      continue;
    }
    let value = raw;
    if (csv) {
      const v = parseCell(raw as string);
      if (v === null) continue;
      if ('error' in v) return { error: `column ${column}: ${v.error}` };
      value = v.value;
    }
    if (!('key' in t) || t.key === undefined) out[t.field] = value;
    else {
      out[t.field] ??= {};
      (out[t.field] as Record<string, unknown>)[t.key] = value;
    }
  }
  return validate(out);
}

const quoted = (names: string[], q: string) => names.map((n) => `${q}${n}${q}`).join(', ');

/** Why a CSV header cannot be read, or null. */
function headerProblem(plan: ColumnPlan): string | null {
  const problems: string[] = [];
  if (plan.unknown.length) problems.push(`unknown column(s) ${quoted(plan.unknown, "'")}`);
  problems.push(...plan.errors);
  if (!problems.length && !plan.hasInput) problems.push('no input column');
  return problems.length ? problems.join('; ') : null;
}

async function* csvLines(source: ByteSource, opts: ReadOptions): AsyncGenerator<ParsedLine> {
  let columns: string[] | null = null;
  let plan: ColumnPlan | null = null;
  for await (const r of csvRows(textChunks(source, opts.onBytes))) {
    if (!columns || !plan) {
      if (r.error !== undefined) throw new ImportFileError(r.line, `the header row cannot be read: ${r.error}`);
      columns = r.fields.map((f) => f.trim());
      plan = planColumns(columns, opts.mapping);
      const problem = headerProblem(plan);
      if (problem) throw new ImportFileError(r.line, problem, plan.unknown);
      continue;
    }
    if (r.error !== undefined) {
      yield r;
      continue;
    }
    if (r.fields.length !== columns.length) {
      yield {
        line: r.line,
        error: `Invalid Record Length: the header has ${columns.length} columns, this record has ${r.fields.length}`,
      };
      continue;
    }
    const t = plan.targets;
    const v = itemOf(
      r.fields.map((f, i) => [columns![i]!, t[i]!, f]),
      true,
    );
    yield 'item' in v ? { line: r.line, item: v.item } : { line: r.line, error: v.error };
  }
}

async function* jsonlLines(source: ByteSource, opts: ReadOptions): AsyncGenerator<ParsedLine> {
  const plans = new Map<string, ColumnPlan>();
  for await (const r of jsonlRecords(textChunks(source, opts.onBytes))) {
    if (r.error !== undefined) {
      yield r;
      continue;
    }
    const keys = Object.keys(r.record);
    const id = keys.join('\u0000');
    let plan = plans.get(id);
    if (!plan) {
      plan = planColumns(keys, opts.mapping);
      if (plans.size < 1000) plans.set(id, plan);
    }
    if (plan.unknown.length) {
      const s = plan.unknown.length > 1 ? 's' : '';
      yield { line: r.line, error: `Unrecognized key${s}: ${quoted(plan.unknown, '"')}` };
      continue;
    }
    if (plan.errors.length) {
      yield { line: r.line, error: plan.errors.join('; ') };
      continue;
    }
    const t = plan.targets;
    const v = itemOf(
      keys.map((k, i) => [k, t[i]!, r.record[k]]),
      false,
    );
    yield 'item' in v ? { line: r.line, item: v.item } : { line: r.line, error: v.error };
  }
}

/**
 * Streams the items of an import file, record by record, never holding the whole file: each is
 * mapped (`planColumns`), validated with the server's item schema and `check`, and an externalId
 * used twice is refused on its second line. Throws `ImportFileError` when the file cannot be read
 * at all (a CSV header with an unknown column).
 *
 * @example
 * for await (const p of readItems(file.stream(), { format: 'csv' }))
 *   if (p.error !== undefined) console.log(`line ${p.line}: ${p.error}`);
 */
export async function* readItems(source: ByteSource, opts: ReadOptions): AsyncGenerator<ParsedLine> {
  const seen = new Map<string, number>();
  const lines = opts.format === 'csv' ? csvLines(source, opts) : jsonlLines(source, opts);
  for await (const p of lines) {
    if (p.error !== undefined) {
      yield p;
      continue;
    }
    const refused = opts.check?.(p.item);
    if (refused) {
      yield { line: p.line, error: refused };
      continue;
    }
    const ext = p.item.externalId;
    if (ext) {
      const first = seen.get(ext);
      if (first !== undefined) {
        yield { line: p.line, error: `externalId '${ext}' is already used on line ${first}` };
        continue;
      }
      seen.set(ext, p.line);
    }
    yield p;
  }
}

/** The first records of a file as they are (CSV cells as text), for a preview. */
export interface Preview {
  /** The CSV header, or every key of the JSONL objects read. */
  columns: string[];
  rows: Record<string, unknown>[];
  errors: { line: number; error: string }[];
}

/** Reads the first `max` records (default 20) of a file, and stops reading there. */
export async function previewFile(source: ByteSource, format: ImportFormat, max = 20): Promise<Preview> {
  const columns = new Set<string>();
  const rows: Record<string, unknown>[] = [];
  const errors: { line: number; error: string }[] = [];
  const full = () => rows.length + errors.length >= max;
  if (format === 'csv') {
    let header: string[] | null = null;
    for await (const r of csvRows(textChunks(source))) {
      if (r.error !== undefined) errors.push(r);
      else if (!header) {
        header = r.fields.map((f) => f.trim());
        for (const c of header) columns.add(c);
      } else rows.push(Object.fromEntries(header.map((c, i) => [c, r.fields[i]])));
      if (full()) break;
    }
  } else {
    for await (const r of jsonlRecords(textChunks(source))) {
      if (r.error !== undefined) errors.push(r);
      else {
        for (const k of Object.keys(r.record)) columns.add(k);
        rows.push(r.record);
      }
      if (full()) break;
    }
  }
  return { columns: [...columns], rows, errors };
}
