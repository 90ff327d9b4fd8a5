import type { Dataset, DatasetItem, ListBounds, Page, PageQuery, Run, RunItemStatus, RunResult } from '@assay/core';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { DatasetsTable, DB, RunsTable } from '../db-types.js';
import type { SqlDialectAdapter } from '../dialect/adapter.js';
import {
  alwaysFits,
  errorSelections,
  errorValue,
  jsonValue,
  sizeSelections,
  sizesOf,
  textValue,
  thresholdFor,
  type ValueColumn,
  valueSelections,
} from './bounded.js';
import { dec, pageOf, toDataset, toRun, visibleAt } from './rows.js';
import { SCORE_USAGE, SCORE_VALUES, scoreOf } from './score-rows.js';

/**
 * The list queries of the store (datasets, items, runs, results) and the single result. With
 * `bounds` their large stored values come back as `Truncated` markers, cut in SQL (bounded.ts).
 */

type Row = Record<string, unknown>;
type Bounded = { bounds?: ListBounds };
const PREVIEW = (b: ListBounds | undefined) => b?.previewChars ?? 0;

/** The threshold of a page (null: no bounds, everything in full). */
async function limitFor(
  bounds: ListBounds | undefined,
  columns: number,
  perPage: number,
  sizes: () => Promise<number[]>,
): Promise<number | null> {
  if (!bounds) return null;
  if (alwaysFits(perPage, columns, bounds)) return bounds.maxFieldBytes;
  return thresholdFor(await sizes(), bounds);
}

const count = async (q: { select: (f: any) => any }) => {
  const { n } = await q.select((eb: any) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(n);
};

// ── datasets ──

const DATASET_VALUES: ValueColumn[] = [
  { col: 'metadata', as: 'metadata' },
  { col: 'input_schema', as: 'input_schema' },
  { col: 'ground_truth_schema', as: 'ground_truth_schema' },
];

export async function listDatasets(db: Kysely<DB>, q: PageQuery & Bounded): Promise<Page<Dataset>> {
  const page = () =>
    db
      .selectFrom('datasets')
      .orderBy('id', 'desc')
      .limit(q.perPage)
      .offset(q.page * q.perPage);
  const limit = await limitFor(q.bounds, DATASET_VALUES.length, q.perPage, async () =>
    sizesOf(await page().select(sizeSelections(DATASET_VALUES)).execute(), DATASET_VALUES),
  );
  const rows = (await page()
    .select(['id', 'name', 'description', 'scorer_ids', 'version', 'item_count', 'created_at', 'updated_at'])
    .select(valueSelections(DATASET_VALUES, limit, PREVIEW(q.bounds)))
    .execute()) as Row[];
  const total = await count(db.selectFrom('datasets'));
  return pageOf(
    rows.map((r) => {
      const [metadata, inputSchema, groundTruthSchema] = DATASET_VALUES.map((c) => jsonValue(r, c, limit));
      const d = toDataset({
        ...r,
        metadata: null,
        input_schema: null,
        ground_truth_schema: null,
      } as Selectable<DatasetsTable>);
      return { ...d, metadata, inputSchema, groundTruthSchema } as Dataset;
    }),
    total,
    q,
  );
}

// ── items ──

const ITEM_VALUES: ValueColumn[] = [
  { col: 'input', as: 'input' },
  { col: 'ground_truth', as: 'ground_truth' },
  { col: 'metadata', as: 'metadata' },
];

export async function listItems(
  db: Kysely<DB>,
  adapter: SqlDialectAdapter,
  datasetId: string,
  q: PageQuery & { version?: number; search?: string } & Bounded,
): Promise<Page<DatasetItem>> {
  const base = () => {
    let b = db.selectFrom('dataset_items').where('dataset_id', '=', datasetId);
    b = q.version === undefined ? b.where('valid_to', 'is', null) : b.where(visibleAt(q.version));
    if (q.search) {
      // Values are stored as JSON text: escape the term as JSON does, then for LIKE.
      const term = JSON.stringify(q.search).slice(1, -1);
      const like = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const op = adapter.caseInsensitiveLike;
      b = b.where((eb) =>
        eb.or([
          eb(sql`input`, op, sql`${like} escape '\\'`),
          eb(sql`ground_truth`, op, sql`${like} escape '\\'`),
          eb(sql`external_id`, op, sql`${like} escape '\\'`),
        ]),
      );
    }
    return b;
  };
  const page = () =>
    base()
      .orderBy('id')
      .limit(q.perPage)
      .offset(q.page * q.perPage);
  const limit = await limitFor(q.bounds, ITEM_VALUES.length, q.perPage, async () =>
    sizesOf(await page().select(sizeSelections(ITEM_VALUES)).execute(), ITEM_VALUES),
  );
  const rows = (await page()
    .select(['id', 'dataset_id', 'external_id', 'valid_from', 'created_at', 'updated_at'])
    .select(valueSelections(ITEM_VALUES, limit, PREVIEW(q.bounds)))
    .execute()) as Row[];
  const total = await count(base());
  return pageOf(
    rows.map((r) => {
      const [input, groundTruth, metadata] = ITEM_VALUES.map((c) => jsonValue(r, c, limit));
      return {
        id: r.id as string,
        datasetId: r.dataset_id as string,
        externalId: (r.external_id as string | null) ?? null,
        input,
        groundTruth,
        metadata: metadata as DatasetItem['metadata'],
        version: Number(r.valid_from),
        createdAt: r.created_at as string,
        updatedAt: r.updated_at as string,
      };
    }),
    total,
    q,
  );
}

// ── runs ──

const RUN_VALUES: ValueColumn[] = [
  { col: 'metadata', as: 'metadata' },
  { col: 'error', as: 'error' },
];
const RUN_COLUMNS = [
  'id',
  'dataset_id',
  'dataset_version',
  'name',
  'target_type',
  'target_id',
  'scorer_ids',
  'options',
  'status',
  'total_items',
  'succeeded_count',
  'failed_count',
  'skipped_count',
  'summary',
  'planned_at',
  'cancel_requested_at',
  'source_run_id',
  'created_at',
  'started_at',
  'completed_at',
] as const;

export async function listRuns(db: Kysely<DB>, datasetId: string, q: PageQuery & Bounded): Promise<Page<Run>> {
  const page = () =>
    db
      .selectFrom('runs')
      .where('dataset_id', '=', datasetId)
      .orderBy('id', 'desc')
      .limit(q.perPage)
      .offset(q.page * q.perPage);
  const limit = await limitFor(q.bounds, RUN_VALUES.length, q.perPage, async () =>
    sizesOf(await page().select(sizeSelections(RUN_VALUES)).execute(), RUN_VALUES),
  );
  const rows = (await page()
    .select(RUN_COLUMNS)
    .select(valueSelections(RUN_VALUES, limit, PREVIEW(q.bounds)))
    .execute()) as Row[];
  const total = await count(db.selectFrom('runs').where('dataset_id', '=', datasetId));
  return pageOf(
    rows.map((r) => {
      const run = toRun({ ...r, metadata: null, error: null } as Selectable<RunsTable>);
      return {
        ...run,
        metadata: jsonValue(r, RUN_VALUES[0]!, limit) as Run['metadata'],
        error: textValue(r, RUN_VALUES[1]!, limit) as Run['error'],
      };
    }),
    total,
    q,
  );
}

// ── results ──

const RESULT_VALUES: ValueColumn[] = [
  { col: 'di.input', as: 'input' },
  { col: 'di.ground_truth', as: 'ground_truth' },
  { col: 'di.metadata', as: 'metadata' },
  { col: 'ri.output', as: 'output' },
  { col: 'ri.error', as: 'error' },
  { col: 'ri.trace', as: 'trace' },
];
const ERROR = RESULT_VALUES[4]!;

type ResultsQuery = PageQuery & { status?: RunItemStatus; sortScorer?: string; order?: 'asc' | 'desc' } & Bounded;

/** The page of run items (with their dataset item) a results query selects. */
function resultPage(db: Kysely<DB>, runId: string, q: ResultsQuery, one?: { itemId: string; repetition: number }) {
  let b = db
    .selectFrom('run_items as ri')
    .innerJoin('dataset_items as di', 'di.row_id', 'ri.item_row_id')
    .where('ri.run_id', '=', runId);
  if (q.status) b = b.where('ri.status', '=', q.status);
  if (one) b = b.where('ri.item_id', '=', one.itemId).where('ri.repetition', '=', one.repetition);
  return b
    .$if(q.sortScorer !== undefined, (qb) =>
      qb
        .leftJoin('scores as ss', (j) =>
          j
            .onRef('ss.run_id', '=', 'ri.run_id')
            .onRef('ss.item_id', '=', 'ri.item_id')
            .onRef('ss.repetition', '=', 'ri.repetition')
            .on('ss.scorer_id', '=', q.sortScorer!),
        )
        .orderBy(sql`ss.score is null`)
        .orderBy('ss.score', q.order ?? 'asc'),
    )
    .orderBy('ri.item_id')
    .orderBy('ri.repetition')
    .limit(q.perPage)
    .offset(q.page * q.perPage);
}

/** Results of a query: the page's rows, with the scores of their items. */
async function resultRows(
  db: Kysely<DB>,
  adapter: SqlDialectAdapter,
  runId: string,
  q: ResultsQuery,
  one?: { itemId: string; repetition: number },
): Promise<RunResult[]> {
  const scoresOf = (itemIds: string[]) =>
    db.selectFrom('scores').where('run_id', '=', runId).where('item_id', 'in', itemIds).orderBy('scorer_id');
  // Each row has its 5 values plus two per score, as many as the run has scorers: always sized.
  const limit = await limitFor(q.bounds, Number.POSITIVE_INFINITY, q.perPage, async () => {
    const rows = (await resultPage(db, runId, q, one)
      .select(['ri.item_id'])
      .select(sizeSelections(RESULT_VALUES))
      .execute()) as Row[];
    const ids = [...new Set(rows.map((r) => r.item_id as string))];
    const scores = ids.length ? ((await scoresOf(ids).select(sizeSelections(SCORE_VALUES)).execute()) as Row[]) : [];
    return [...sizesOf(rows, RESULT_VALUES), ...sizesOf(scores, SCORE_VALUES)];
  });
  const P = PREVIEW(q.bounds);
  const errorParts = errorSelections(adapter.jsonField, ERROR, limit, P);
  const rows = (await resultPage(db, runId, q, one)
    .select([
      'ri.item_id',
      'di.external_id',
      'ri.repetition',
      'ri.status',
      'ri.attempt',
      'ri.latency_ms',
      'ri.usage',
      'ri.started_at',
      'ri.completed_at',
      'ri.worker_id',
      'ri.cached_from',
    ])
    .select(valueSelections(RESULT_VALUES, limit, P))
    .select(errorParts)
    .execute()) as Row[];
  const ids = [...new Set(rows.map((r) => r.item_id as string))];
  const scores = ids.length
    ? ((await scoresOf(ids)
        .select(['item_id', 'repetition', 'scorer_id', 'score', ...SCORE_USAGE])
        .select(valueSelections(SCORE_VALUES, limit, P))
        .execute()) as Row[])
    : [];
  const key = (itemId: unknown, rep: unknown) => `${itemId}\u0000${Number(rep)}`;
  const byKey = new Map<string, RunResult['scores']>();
  for (const s of scores) {
    const k = key(s.item_id, s.repetition);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(scoreOf(s, limit));
  }
  return rows.map((r) => ({
    itemId: r.item_id as string,
    externalId: (r.external_id as string | null) ?? null,
    repetition: Number(r.repetition),
    status: r.status as RunItemStatus,
    attempt: Number(r.attempt),
    input: jsonValue(r, RESULT_VALUES[0]!, limit),
    groundTruth: jsonValue(r, RESULT_VALUES[1]!, limit),
    metadata: jsonValue(r, RESULT_VALUES[2]!, limit) as RunResult['metadata'],
    output: jsonValue(r, RESULT_VALUES[3]!, limit),
    error: errorValue(r, ERROR, limit),
    latencyMs: r.latency_ms as number | null,
    usage: dec(r.usage as string | null),
    startedAt: r.started_at as string | null,
    completedAt: r.completed_at as string | null,
    workerId: r.worker_id as string | null,
    cached: r.cached_from != null,
    cachedFrom: (r.cached_from as string | null) ?? null,
    trace: (jsonValue(r, RESULT_VALUES[5]!, limit) as RunResult['trace']) ?? null,
    scores: byKey.get(key(r.item_id, r.repetition)) ?? [],
  }));
}

export async function listResults(
  db: Kysely<DB>,
  adapter: SqlDialectAdapter,
  runId: string,
  q: ResultsQuery,
): Promise<Page<RunResult>> {
  const rows = await resultRows(db, adapter, runId, q);
  let total = db.selectFrom('run_items as ri').where('ri.run_id', '=', runId);
  if (q.status) total = total.where('ri.status', '=', q.status);
  return pageOf(rows, await count(total), q);
}

export async function getResult(
  db: Kysely<DB>,
  adapter: SqlDialectAdapter,
  runId: string,
  itemId: string,
  repetition: number,
  bounds?: ListBounds,
): Promise<RunResult | undefined> {
  const [row] = await resultRows(db, adapter, runId, { page: 0, perPage: 1, bounds }, { itemId, repetition });
  return row;
}
