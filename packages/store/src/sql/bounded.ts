import type { ItemError, ListBounds, Truncated } from '@assay/core';
import { type AliasedRawBuilder, type RawBuilder, sql } from 'kysely';

/**
 * Bounded list pages, done in SQL: a page is read twice, first only the sizes of its stored values
 * (`octet_length`), then the values, where every value above a per-page threshold comes back as
 * its size and the start of its text (`substr`). The server never holds a large value of a list
 * page, not even to cut it.
 *
 * The threshold is the largest size such that all the page's values up to it fit the budget
 * together (and at most `maxFieldBytes`): small values are never cut, whatever `perPage` is.
 */

/** A column of user data in a list query, e.g. `{ col: 'di.input', as: 'input' }`. */
export interface ValueColumn {
  col: string;
  as: string;
}

type Row = Record<string, unknown>;

const n = (c: ValueColumn) => `${c.as}__n`;
const p = (c: ValueColumn) => `${c.as}__p`;

/** Bytes of a column's text: `octet_length` in SQLite (3.43+) and PostgreSQL alike. */
export const sizeOf = (expr: RawBuilder<unknown>) => sql<number | null>`octet_length(${expr})`;

/** Selections of the sizing pass: one `<as>__n` per column. */
export function sizeSelections(cols: ValueColumn[]): AliasedRawBuilder<number | null, string>[] {
  return cols.map((c) => sizeOf(sql.ref(c.col)).as(n(c)));
}

/** The sizes a sizing pass returned, for {@link thresholdFor}. */
export function sizesOf(rows: Row[], cols: ValueColumn[]): number[] {
  return rows.flatMap((r) => cols.map((c) => Number(r[n(c)] ?? 0)));
}

/**
 * Selections of the value pass: `<as>` in full when at most `limit` bytes (else null), and, with a
 * limit, `<as>__n` (its size) and `<as>__p` (its first `previewChars` characters when it is cut).
 * `limit` null: every value in full, as before bounds existed.
 */
export function valueSelections(
  cols: ValueColumn[],
  limit: number | null,
  previewChars: number,
): AliasedRawBuilder<unknown, string>[] {
  if (limit === null) return cols.map((c) => sql`${sql.ref(c.col)}`.as(c.as));
  const L = sql.lit(limit);
  return cols.flatMap((c) => {
    const v = sql.ref(c.col);
    return [
      sql`case when octet_length(${v}) <= ${L} then ${v} end`.as(c.as),
      sizeOf(v).as(n(c)),
      sql`case when octet_length(${v}) > ${L} then substr(${v}, 1, ${sql.lit(previewChars)}) end`.as(p(c)),
    ];
  });
}

/** Whether the value pass cut this column of this row. */
export function isCut(row: Row, c: ValueColumn, limit: number | null): boolean {
  return limit !== null && row[n(c)] !== null && row[n(c)] !== undefined && Number(row[n(c)]) > limit;
}

export function marker(bytes: unknown, preview: unknown): Truncated {
  return { $truncated: true, bytes: Number(bytes ?? 0), preview: String(preview ?? '') };
}

/** A stored JSON column of a value-pass row: the value, or its marker. */
export function jsonValue<T = unknown>(row: Row, c: ValueColumn, limit: number | null): T | Truncated {
  if (isCut(row, c, limit)) return marker(row[n(c)], row[p(c)]);
  const v = row[c.as] as string | null | undefined;
  return (v === null || v === undefined ? null : JSON.parse(v)) as T;
}

/** A stored text column of a value-pass row: the string, or its marker. */
export function textValue(row: Row, c: ValueColumn, limit: number | null): string | Truncated | null {
  if (isCut(row, c, limit)) return marker(row[n(c)], row[p(c)]);
  return (row[c.as] as string | null | undefined) ?? null;
}

/**
 * The per-page threshold: the largest size ≤ `maxFieldBytes` such that every value up to it, over
 * the whole page, adds up to at most `budgetBytes`. Values above it are cut.
 */
export function thresholdFor(sizes: number[], bounds: ListBounds): number {
  const xs = sizes.filter((s) => s > 0 && s <= bounds.maxFieldBytes).sort((a, b) => a - b);
  if (xs.length === sizes.filter((s) => s > 0).length && xs.reduce((a, b) => a + b, 0) <= bounds.budgetBytes) {
    return bounds.maxFieldBytes; // everything fits
  }
  let sum = 0;
  let limit = 0;
  for (let i = 0; i < xs.length; ) {
    let j = i;
    let add = 0;
    while (j < xs.length && xs[j] === xs[i]) add += xs[j++]!;
    if (sum + add > bounds.budgetBytes) break;
    sum += add;
    limit = xs[i]!;
    i = j;
  }
  return limit;
}

/**
 * True when a page cannot exceed the budget whatever it holds (`rows × columns × maxFieldBytes`
 * fits), so the sizing pass can be skipped and the threshold is `maxFieldBytes`.
 */
export function alwaysFits(rows: number, columns: number, bounds: ListBounds): boolean {
  return rows * columns * bounds.maxFieldBytes <= bounds.budgetBytes;
}

/**
 * Selections that keep a cut error useful: when the stored error (`{ message, code, retryable }`
 * JSON) is over the limit, its code, retryable flag, and its message's size and start, read in SQL.
 */
export function errorSelections(
  jsonField: (json: RawBuilder<unknown>, key: string) => RawBuilder<unknown>,
  c: ValueColumn,
  limit: number | null,
  previewChars: number,
): AliasedRawBuilder<unknown, string>[] {
  if (limit === null) return [];
  const v = sql.ref(c.col);
  const cut = sql`octet_length(${v}) > ${sql.lit(limit)}`;
  const field = (key: string) => jsonField(v, key);
  return [
    sql`case when ${cut} then ${field('code')} end`.as(`${c.as}__code`),
    sql`case when ${cut} then ${field('retryable')} end`.as(`${c.as}__retryable`),
    sql`case when ${cut} then ${sizeOf(field('message'))} end`.as(`${c.as}__mn`),
    sql`case when ${cut} then substr(${field('message')}, 1, ${sql.lit(previewChars)}) end`.as(`${c.as}__mp`),
  ];
}

/** A stored error of a value-pass row: whole, or `{ message: <marker>, code, retryable }` when cut. */
export function errorValue(row: Row, c: ValueColumn, limit: number | null): ItemError | null {
  if (!isCut(row, c, limit)) return jsonValue<ItemError | null>(row, c, limit) as ItemError | null;
  const retryable = row[`${c.as}__retryable`];
  return {
    message: marker(row[`${c.as}__mn`], row[`${c.as}__mp`]) as unknown as string,
    code: (row[`${c.as}__code`] as string | null) ?? 'UNKNOWN',
    retryable: retryable === true || retryable === 1 || retryable === 'true' || retryable === '1',
  };
}
