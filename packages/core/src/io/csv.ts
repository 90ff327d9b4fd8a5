import Papa from 'papaparse';
import { jsonError } from './jsonl.js';

/** One CSV record (its fields) or why it is not one, with the line it starts on (1 = the header). */
export type CsvRow = { line: number; fields: string[]; error?: undefined } | { line: number; error: string };

type Newline = '\n' | '\r\n' | '\r';

/** The line break of a file, from its first one; undefined until one is seen. */
function newlineOf(text: string, final: boolean): Newline | undefined {
  const i = text.search(/[\r\n]/);
  if (i < 0) return final ? '\n' : undefined;
  if (text[i] === '\n') return '\n';
  if (i === text.length - 1 && !final) return undefined;
  return text[i + 1] === '\n' ? '\r\n' : '\r';
}

function count(text: string, ch: string): number {
  let n = 0;
  for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * Streams the records of a CSV text (comma-separated, `"` quotes, RFC 4180) with PapaParse's
 * parser, one chunk at a time: complete records are parsed and dropped, the unfinished last one is
 * kept for the next chunk. A record's line is the line it starts on, so a quoted cell spanning lines
 * does not shift the numbers after it. Blank lines are skipped.
 */
export async function* csvRows(chunks: AsyncIterable<string>): AsyncGenerator<CsvRow> {
  let buf = '';
  let line = 1;
  let newline: Newline | undefined;
  // After a parse that found no complete record (one long quoted cell), wait for the buffer to
  // double before parsing again, so a record spanning many chunks costs linear time, not quadratic.
  let parseAt = 0;
  const out: CsvRow[] = [];

  const parse = (final: boolean) => {
    newline ??= newlineOf(buf, final);
    if (!newline || (!final && buf.length < parseAt)) return;
    const nl = newline === '\r' ? '\r' : '\n';
    let start = 0;
    const parser = new Papa.Parser({
      delimiter: ',',
      newline,
      // The raw parser hands each record to `step` as a one-row page, its cursor just past it.
      step: (r: { data: string[][]; errors: { message: string }[]; meta: { cursor: number } }) => {
        const end = r.meta.cursor;
        const fields = r.data[0]!;
        const at = line;
        const raw = buf.slice(start, end);
        line += count(raw, nl);
        start = end;
        if (r.errors.length) {
          out.push({ line: at, error: r.errors.map((e) => e.message).join('; ') });
          return;
        }
        // A \r before a \n line break (a file with mixed line breaks) ends an unquoted last cell.
        const last = fields.length - 1;
        if (newline === '\n' && raw.endsWith('\r\n') && raw[raw.length - 3] !== '"' && fields[last]!.endsWith('\r'))
          fields[last] = fields[last]!.slice(0, -1);
        if (fields.length === 1 && fields[0]!.trim() === '') return;
        out.push({ line: at, fields });
      },
    });
    parser.parse(buf, 0, !final);
    buf = buf.slice(start);
    parseAt = start === 0 ? buf.length * 2 : 0;
  };

  for await (const chunk of chunks) {
    buf += chunk;
    parse(false);
    yield* out.splice(0);
  }
  if (buf) parse(true);
  yield* out.splice(0);
}

/** A cell that is exactly a JSON number as JSON writes it (`42`, `-1.5`, `1e+21`; not `007`, `1.50`). */
function isCanonicalNumber(t: string): boolean {
  if (!/^-?\d/.test(t)) return false;
  const n = Number(t);
  return Number.isFinite(n) && JSON.stringify(n) === t;
}

/**
 * A CSV cell's value: JSON when it starts with `{`, `[` or `"`, or is `true`, `false`, `null` or a
 * number written as JSON writes it; the text itself otherwise; absent (null) when empty.
 */
export function parseCell(text: string): { value: unknown } | { error: string } | null {
  if (text === '') return null;
  const t = text.trim();
  if (t === 'true' || t === 'false' || t === 'null' || isCanonicalNumber(t)) return { value: JSON.parse(t) };
  if (t.startsWith('{') || t.startsWith('[') || t.startsWith('"')) {
    try {
      return { value: JSON.parse(t) };
    } catch (e) {
      return { error: `not valid JSON (a cell starting with {, [ or " is read as JSON): ${jsonError(e)}` };
    }
  }
  return { value: text };
}

/** The cell that `parseCell` reads back as `value` (text stays text unless it would read as JSON). */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') {
    const back = parseCell(value);
    return back && 'value' in back && back.value === value ? value : JSON.stringify(value);
  }
  return JSON.stringify(value);
}
