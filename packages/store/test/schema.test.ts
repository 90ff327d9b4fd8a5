import { describeWithService } from '@assay/testkit/vitest';
import { type ColumnType, type Kysely, sql } from 'kysely';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DB } from '../src/index.js';
import { ADAPTERS } from './adapters.js';

/**
 * The row types (db-types.ts) against the migrated schema of every dialect. `COLUMNS` restates
 * each column's type as text, and its type is derived from `DB`, so the compiler (tsc, run by
 * `npm test`) fails when the two disagree: a column missing, extra, of another type, nullable or
 * not, generated or not. The tests below fail when a migrated database disagrees with `COLUMNS`.
 */

/** The SQL family of a TypeScript column type: numbers are integer or real columns. */
type Family<S> = [S] extends [string] ? 'text' : [S] extends [number] ? 'integer' | 'real' : never;
/** `<family>[ null][ default]`: ` default` for a `Generated` column (optional on insert). */
type Spec<C> = [C] extends [ColumnType<infer S, infer I, infer _U>]
  ? `${Family<NonNullable<S>>}${null extends S ? ' null' : ''}${undefined extends I ? ' default' : ''}`
  : `${Family<NonNullable<C>>}${null extends C ? ' null' : ''}`;
type SchemaSpec = { [T in keyof DB]-?: { [C in keyof DB[T]]-?: Spec<DB[T][C]> } };

const COLUMNS: SchemaSpec = {
  datasets: {
    id: 'text',
    name: 'text',
    description: 'text null',
    metadata: 'text null',
    input_schema: 'text null',
    ground_truth_schema: 'text null',
    scorer_ids: 'text null',
    version: 'integer',
    item_count: 'integer',
    created_at: 'text',
    updated_at: 'text',
  },
  dataset_versions: {
    dataset_id: 'text',
    version: 'integer',
    added: 'integer',
    updated: 'integer',
    deleted: 'integer',
    created_at: 'text',
  },
  dataset_items: {
    row_id: 'integer default',
    id: 'text',
    dataset_id: 'text',
    external_id: 'text null',
    input: 'text',
    ground_truth: 'text null',
    metadata: 'text null',
    valid_from: 'integer',
    valid_to: 'integer null',
    created_at: 'text',
    updated_at: 'text',
  },
  runs: {
    id: 'text',
    dataset_id: 'text',
    dataset_version: 'integer',
    name: 'text null',
    target_type: 'text',
    target_id: 'text',
    scorer_ids: 'text',
    options: 'text',
    metadata: 'text null',
    status: 'text',
    total_items: 'integer',
    succeeded_count: 'integer',
    failed_count: 'integer',
    skipped_count: 'integer',
    summary: 'text null',
    error: 'text null',
    fence: 'integer',
    idempotency_key: 'text null',
    planned_at: 'text null',
    cancel_requested_at: 'text null',
    idempotency_hash: 'text null',
    source_run_id: 'text null',
    created_at: 'text',
    started_at: 'text null',
    completed_at: 'text null',
    updated_at: 'text',
  },
  run_items: {
    run_id: 'text',
    item_id: 'text',
    repetition: 'integer',
    item_row_id: 'integer',
    status: 'text',
    attempt: 'integer',
    output: 'text null',
    error: 'text null',
    latency_ms: 'real null',
    usage: 'text null',
    input_tokens: 'integer null',
    output_tokens: 'integer null',
    cost_usd: 'real null',
    started_at: 'text null',
    completed_at: 'text null',
    claim_token: 'integer default',
    lease_until: 'integer null',
    worker_id: 'text null',
    lost_claims: 'integer default',
    started_claim: 'integer null',
    cached_from: 'text null',
    trace: 'text null',
  },
  run_item_attempts: {
    run_id: 'text',
    item_id: 'text',
    repetition: 'integer',
    attempt: 'integer',
    status: 'text',
    output: 'text null',
    error: 'text null',
    latency_ms: 'real null',
    scores: 'text null',
    usage: 'text null',
    started_at: 'text null',
    completed_at: 'text null',
    archived_at: 'text',
  },
  scores: {
    run_id: 'text',
    item_id: 'text',
    repetition: 'integer',
    scorer_id: 'text',
    score: 'real null',
    reason: 'text null',
    error: 'text null',
    input_tokens: 'integer null',
    output_tokens: 'integer null',
    cost_usd: 'real null',
  },
  target_cache: {
    key: 'text',
    target_id: 'text',
    output: 'text',
    latency_ms: 'real null',
    usage: 'text null',
    cost_usd: 'real null',
    bytes: 'integer',
    run_id: 'text',
    item_id: 'text',
    repetition: 'integer',
    created_at: 'text',
    kind: 'text default',
  },
  run_model_calls: {
    run_id: 'text',
    worker_id: 'text',
    made: 'integer',
    reused: 'integer',
    cost_spent_usd: 'real',
    cost_saved_usd: 'real',
  },
};

/** A column as the database describes it. */
interface DbColumn {
  table: string;
  column: string;
  /** The declared type, lower case (`text`, `integer`, `bigint`, `double precision` …). */
  type: string;
  nullable: boolean;
  /** A default, an identity or an autoincrement: an insert may leave it out. */
  hasDefault: boolean;
}

/** The columns of every table the store's migrations made (not the migrator's own tables). */
const INTROSPECT: Record<string, (db: Kysely<DB>) => Promise<DbColumn[]>> = {
  async sqlite(db) {
    const r = await sql<{ t: string; c: string; type: string; notnull: number; dflt: unknown; pk: number }>`
      select m.name as t, p.name as c, p.type as type, p."notnull" as "notnull", p.dflt_value as dflt, p.pk as pk
      from sqlite_master m join pragma_table_info(m.name) p
      where m.type = 'table' and m.name not like 'sqlite_%' and m.name not like 'assay_migrations%'`.execute(db);
    return r.rows.map((x) => ({
      table: x.t,
      column: x.c,
      type: x.type.toLowerCase(),
      // SQLite lets a non-integer primary key hold NULL (a legacy quirk); the store never writes one.
      nullable: !x.notnull && !x.pk,
      // An INTEGER PRIMARY KEY is the rowid: assigned when left out.
      hasDefault: x.dflt !== null || (x.pk === 1 && x.type.toUpperCase() === 'INTEGER'),
    }));
  },
  async postgres(db) {
    const r = await sql<{ t: string; c: string; type: string; nullable: string; dflt: unknown; identity: string }>`
      select table_name as t, column_name as c, data_type as type, is_nullable as nullable,
        column_default as dflt, is_identity as identity
      from information_schema.columns
      where table_schema = current_schema() and table_name not like 'assay_migrations%'`.execute(db);
    return r.rows.map((x) => ({
      table: x.t,
      column: x.c,
      type: x.type.toLowerCase(),
      nullable: x.nullable === 'YES',
      hasDefault: x.dflt !== null || x.identity === 'YES',
    }));
  },
};

const FAMILY: Record<string, 'text' | 'integer' | 'real'> = {
  text: 'text',
  integer: 'integer',
  bigint: 'integer',
  real: 'real',
  'double precision': 'real',
};

/** Every disagreement between the database and {@link COLUMNS}, one line each. */
function disagreements(columns: DbColumn[]): string[] {
  const out: string[] = [];
  const spec = COLUMNS as unknown as Record<string, Record<string, string>>;
  const seen = new Set<string>();
  for (const col of columns) {
    const name = `${col.table}.${col.column}`;
    seen.add(name);
    const want = spec[col.table]?.[col.column];
    if (!spec[col.table]) {
      if (!seen.has(col.table)) out.push(`table ${col.table} is not in the row types (DB)`);
      seen.add(col.table);
      continue;
    }
    if (want === undefined) {
      out.push(`${name} is in the schema, not in the row types`);
      continue;
    }
    const [family, ...flags] = want.split(' ');
    const got = FAMILY[col.type];
    if (got !== family) out.push(`${name}: the row type is ${family}, the column is ${col.type}`);
    if (col.nullable !== flags.includes('null'))
      out.push(`${name}: the row type is ${flags.includes('null') ? '' : 'not '}nullable, the column is the opposite`);
    if (flags.includes('default') && !col.hasDefault)
      out.push(`${name}: the row type lets an insert leave it out (Generated), the column has no default`);
  }
  for (const [table, cols] of Object.entries(spec)) {
    for (const column of Object.keys(cols))
      if (!seen.has(`${table}.${column}`)) out.push(`${table}.${column} is in the row types, not in the schema`);
  }
  return out;
}

it('the restated columns are exactly the row types', () => {
  expectTypeOf(COLUMNS).toEqualTypeOf<SchemaSpec>();
  expectTypeOf<Spec<DB['run_items']['claim_token']>>().toEqualTypeOf<'integer default' | 'real default'>();
  expectTypeOf<Spec<DB['run_items']['worker_id']>>().toEqualTypeOf<'text null'>();
  expect(
    disagreements([{ table: 'scores', column: 'score', type: 'text', nullable: false, hasDefault: false }]),
  ).toEqual(
    expect.arrayContaining([
      'scores.score: the row type is real, the column is text',
      'scores.score: the row type is nullable, the column is the opposite',
      'scores.run_id is in the row types, not in the schema',
    ]),
  );
});

for (const adapter of ADAPTERS) {
  const describeAdapter = adapter.requires ? describeWithService(await adapter.requires()) : describe;
  describeAdapter(`Schema vs row types: ${adapter.name}`, () => {
    it('every migrated table and column matches db-types.ts', async () => {
      const { storage, cleanup } = await adapter.open();
      try {
        const columns = await INTROSPECT[storage.dialect](storage.db);
        expect(columns.length).toBeGreaterThan(50);
        expect(disagreements(columns)).toEqual([]);
      } finally {
        await storage.close();
        await cleanup();
      }
    });
  });
}
