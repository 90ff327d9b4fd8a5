import type { ListBounds, RunItemAttempt, RunItemStatus, Score, Usage } from '@assay/core';
import type { Kysely } from 'kysely';
import type { DB } from '../db-types.js';
import type { SqlDialectAdapter } from '../dialect/adapter.js';
import {
  errorSelections,
  errorValue,
  jsonValue,
  sizeSelections,
  sizesOf,
  thresholdFor,
  type ValueColumn,
  valueSelections,
} from './bounded.js';
import { dec } from './rows.js';
import { SCORE_USAGE, SCORE_VALUES, scoreOf } from './score-rows.js';

/**
 * The attempts of one run item (archived ones, then the current result), oldest first. With
 * `bounds` (the attempts route), large outputs, error messages, score reasons and archived score
 * lists come back as `Truncated` markers cut in SQL, as in the list pages (bounded.ts).
 */

type Row = Record<string, unknown>;

const OUTPUT: ValueColumn = { col: 'output', as: 'output' };
const ERROR: ValueColumn = { col: 'error', as: 'error' };
/** Archived attempts keep their scores as one JSON array. */
const SCORES: ValueColumn = { col: 'scores', as: 'scores' };

export async function listAttempts(
  db: Kysely<DB>,
  adapter: SqlDialectAdapter,
  runId: string,
  itemId: string,
  bounds?: ListBounds,
): Promise<RunItemAttempt[]> {
  const past = () =>
    db
      .selectFrom('run_item_attempts')
      .where('run_id', '=', runId)
      .where('item_id', '=', itemId)
      .orderBy('repetition')
      .orderBy('attempt');
  const current = () =>
    db.selectFrom('run_items').where('run_id', '=', runId).where('item_id', '=', itemId).orderBy('repetition');
  const scores = () =>
    db.selectFrom('scores').where('run_id', '=', runId).where('item_id', '=', itemId).orderBy('scorer_id');

  let limit: number | null = null;
  if (bounds) {
    const [p, c, s] = await Promise.all([
      past()
        .select(sizeSelections([OUTPUT, ERROR, SCORES]))
        .execute(),
      current()
        .select(sizeSelections([OUTPUT, ERROR]))
        .execute(),
      scores().select(sizeSelections(SCORE_VALUES)).execute(),
    ]);
    limit = thresholdFor(
      [
        ...sizesOf(p as Row[], [OUTPUT, ERROR, SCORES]),
        ...sizesOf(c as Row[], [OUTPUT, ERROR]),
        ...sizesOf(s as Row[], SCORE_VALUES),
      ],
      bounds,
    );
  }
  const P = bounds?.previewChars ?? 0;
  const common = [
    'item_id',
    'repetition',
    'attempt',
    'status',
    'latency_ms',
    'usage',
    'started_at',
    'completed_at',
  ] as const;
  const pastRows = (await past()
    .select(common)
    .select(valueSelections([OUTPUT, ERROR, SCORES], limit, P))
    .select(errorSelections(adapter.jsonField, ERROR, limit, P))
    .execute()) as Row[];
  const currentRows = (await current()
    .select(common)
    .select(valueSelections([OUTPUT, ERROR], limit, P))
    .select(errorSelections(adapter.jsonField, ERROR, limit, P))
    .execute()) as Row[];
  const scoreRows = (await scores()
    .select(['repetition', 'scorer_id', 'score', ...SCORE_USAGE])
    .select(valueSelections(SCORE_VALUES, limit, P))
    .execute()) as Row[];

  const attempt = (r: Row, current: boolean) => ({
    itemId: r.item_id as string,
    repetition: Number(r.repetition),
    attempt: Number(r.attempt),
    status: r.status as RunItemStatus,
    output: jsonValue(r, OUTPUT, limit),
    error: errorValue(r, ERROR, limit),
    latencyMs: r.latency_ms as number | null,
    usage: dec<Usage | null>(r.usage as string | null),
    startedAt: r.started_at as string | null,
    completedAt: r.completed_at as string | null,
    current,
  });
  const out: RunItemAttempt[] = pastRows.map((a) => {
    const archived = jsonValue<Score[] | null>(a, SCORES, limit);
    return {
      ...attempt(a, false),
      // A cut score list is its marker (the scores of the current attempt are per row).
      scores: Array.isArray(archived)
        ? archived.filter((s) => s.scorerId !== null)
        : ((archived ?? []) as unknown as Score[]),
    };
  });
  for (const c of currentRows) {
    out.push({
      ...attempt(c, true),
      scores: scoreRows.filter((s) => Number(s.repetition) === Number(c.repetition)).map((s) => scoreOf(s, limit)),
    });
  }
  return out.sort(
    (a, b) => a.repetition - b.repetition || a.attempt - b.attempt || Number(a.current) - Number(b.current),
  );
}
