import type { ItemOutcome } from '@assay/core';
import { CompiledQuery } from 'kysely';
import type { SqlDialectAdapter, SqlParamType } from '../dialect/adapter.js';
import { enc } from './rows.js';

/**
 * The two statements every stored outcome goes through — the run-item upsert and the scores
 * upsert — as SQL text built once per engine and row count, with the values in one flat array.
 * Built with Kysely's `sql` tag, each value was a node of its own: compiling a 400-row upsert cost
 * ≈ 7 µs per row on the thread that stores every result (docs/benchmarks.md, issue 14).
 */

/** Outcome columns in VALUES order, each with the type PostgreSQL must be told (an `insert … select`). */
const OUTCOME_COLUMNS: [string, SqlParamType][] = [
  ['item_id', 'text'],
  ['repetition', 'integer'],
  ['status', 'text'],
  ['attempt', 'integer'],
  ['output', 'text'],
  ['error', 'text'],
  ['latency_ms', 'real'],
  ['usage', 'text'],
  ['input_tokens', 'integer'],
  ['output_tokens', 'integer'],
  ['cost_usd', 'real'],
  ['started_at', 'text'],
  ['completed_at', 'text'],
  ['claim_token', 'integer'],
  ['worker_id', 'text'],
  ['cached_from', 'text'],
  ['trace', 'text'],
];

const SCORE_COLUMNS = [
  'run_id',
  'item_id',
  'repetition',
  'scorer_id',
  'score',
  'reason',
  'error',
  'input_tokens',
  'output_tokens',
  'cost_usd',
];

const texts = new WeakMap<SqlDialectAdapter, Map<string, string>>();

/** A statement's text for this engine, built the first time it is asked for. */
function textOf(adapter: SqlDialectAdapter, key: string, build: () => string): string {
  let byKey = texts.get(adapter);
  if (!byKey) {
    byKey = new Map();
    texts.set(adapter, byKey);
  }
  let text = byKey.get(key);
  if (text === undefined) {
    text = build();
    byKey.set(key, text);
  }
  return text;
}

/** `rows` VALUES tuples of these column types, their parameters numbered on from `from`. */
function tuples(adapter: SqlDialectAdapter, types: (SqlParamType | null)[], rows: number, from: number): string {
  const out: string[] = [];
  let i = from;
  for (let r = 0; r < rows; r++) out.push(`(${types.map((t) => adapter.placeholder(i++, t)).join(', ')})`);
  return out.join(', ');
}

/**
 * Upserts the outcomes (one per run item, in key order) of run `runId`. Only a row still claimed
 * with the outcome's token changes, so a re-delivered or stale outcome never lands or counts twice;
 * the rows returned are those that changed. The rows always exist (planned), so the insert branch
 * never fires; SQLite needs the `where true` to parse the upsert.
 */
export function upsertOutcomes(
  adapter: SqlDialectAdapter,
  runId: string,
  outcomes: ItemOutcome[],
): CompiledQuery<{ item_id: string; repetition: number; status: string }> {
  const text = textOf(adapter, `outcomes:${outcomes.length}`, () => {
    const columns = OUTCOME_COLUMNS.map(([c]) => c);
    const updated = columns.filter((c) => !['item_id', 'repetition', 'claim_token'].includes(c));
    const values = tuples(
      adapter,
      OUTCOME_COLUMNS.map(([, t]) => t),
      outcomes.length,
      2,
    );
    return `insert into run_items (${columns.join(', ')}, run_id, item_row_id)
      select v.*, ${adapter.placeholder(1, 'text')}, 0 from (values ${values}) as v where true
      on conflict (run_id, item_id, repetition) do update set ${updated.map((c) => `${c} = excluded.${c}`).join(', ')},
        lease_until = null
      where run_items.status = 'running' and run_items.claim_token = excluded.claim_token
      returning item_id, repetition, status`;
  });
  const params: unknown[] = [runId];
  for (const o of outcomes) {
    params.push(
      o.itemId,
      o.repetition,
      o.status,
      o.attempt,
      o.output === undefined ? null : JSON.stringify(o.output),
      enc(o.error),
      o.latencyMs,
      enc(o.usage),
      o.usage?.inputTokens ?? null,
      o.usage?.outputTokens ?? null,
      o.usage?.costUsd ?? null,
      o.startedAt,
      o.completedAt,
      o.claimToken,
      o.workerId,
      o.cachedFrom ?? null,
      enc(o.trace ?? null),
    );
  }
  return CompiledQuery.raw(text, params);
}

/** A score row, its values in {@link SCORE_COLUMNS} order. */
export type ScoreRow = [
  runId: string,
  itemId: string,
  repetition: number,
  scorerId: string,
  score: number | null,
  reason: string | null,
  error: string | null,
  inputTokens: number | null,
  outputTokens: number | null,
  costUsd: number | null,
];

/** Upserts score rows (at most one per run item and scorer). */
export function upsertScores(adapter: SqlDialectAdapter, rows: ScoreRow[]): CompiledQuery {
  const text = textOf(adapter, `scores:${rows.length}`, () => {
    const updated = SCORE_COLUMNS.slice(4);
    const values = tuples(
      adapter,
      SCORE_COLUMNS.map(() => null),
      rows.length,
      1,
    );
    return `insert into scores (${SCORE_COLUMNS.join(', ')}) values ${values}
      on conflict (run_id, item_id, repetition, scorer_id) do update set ${updated.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  });
  return CompiledQuery.raw(text, rows.flat());
}
