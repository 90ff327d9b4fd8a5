import {
  type AnalysisStore,
  buildRunSummary,
  DEFAULT_PASS_THRESHOLD,
  histogramBins,
  medianWindow,
  nearestRankIndex,
  passThresholdOf,
  type ResultKey,
  type RunItemStatus,
  type RunSummary,
  type ScorerAggregate,
  type ScorerStats,
  scorerStats,
} from '@assay/core';
import { sql } from 'kysely';
import { breathe, type SqlContext } from './context.js';
import { dec } from './rows.js';

/** A nullable aggregate as a number (drivers may return numeric text). */
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Analysis on SQL: the store reads aggregates, and the values at a few ranks through ordered,
 * indexed reads; the statistics themselves are core's pure functions (`@assay/core` analysis).
 * A run of any size is summarized in a fixed number of queries and flat memory, yielding to the
 * event loop between them (SQLite answers synchronously).
 */
export function createAnalysisStore(ctx: SqlContext): AnalysisStore {
  async function summarizeRun(runId: string): Promise<RunSummary> {
    const byStatus = await ctx.db
      .selectFrom('run_items')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('run_id', '=', runId)
      .groupBy('status')
      .execute();
    await breathe();
    const runRow = await ctx.db.selectFrom('runs').select('options').where('id', '=', runId).executeTakeFirst();
    const threshold = passThresholdOf(dec<{ passThreshold?: number } | null>(runRow?.options ?? null));
    const scorerRows = await ctx.db
      .selectFrom('scores')
      .select([
        'scorer_id',
        sql<number | null>`avg(score)`.as('mean'),
        sql<number>`sum(case when score >= ${threshold} then 1 else 0 end)`.as('passed'),
        sql<number>`count(score)`.as('n'),
        sql<number>`sum(case when error is not null then 1 else 0 end)`.as('errors'),
      ])
      .where('run_id', '=', runId)
      .groupBy('scorer_id')
      .orderBy('scorer_id')
      .execute();
    await breathe();
    const lat = await ctx.db
      .selectFrom('run_items')
      .select([
        sql<number>`count(latency_ms)`.as('n'),
        sql<number | null>`avg(latency_ms)`.as('mean'),
        sql<number | null>`max(latency_ms)`.as('max'),
        sql<number>`count(coalesce(input_tokens, output_tokens, cost_usd))`.as('usage_items'),
        sql<number | null>`sum(input_tokens)`.as('input_tokens'),
        sql<number | null>`sum(output_tokens)`.as('output_tokens'),
        sql<number | null>`sum(cost_usd)`.as('cost_usd'),
      ])
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    await breathe();
    // The middle score(s) per scorer by an ordered offset: one indexed read per scorer.
    const middle = async (scorerId: string, n: number): Promise<number[]> => {
      const w = medianWindow(n);
      if (!w) return [];
      const rows = await ctx.db
        .selectFrom('scores')
        .select('score')
        .where('run_id', '=', runId)
        .where('scorer_id', '=', scorerId)
        .where('score', 'is not', null)
        .orderBy('score')
        .limit(w.limit)
        .offset(w.offset)
        .execute();
      return rows.map((r) => Number(r.score));
    };
    // Spread across repetitions: the mean of each repetition, per scorer.
    const perRep = await ctx.db
      .selectFrom('scores')
      .select(['scorer_id', 'repetition', sql<number | null>`avg(score)`.as('mean')])
      .where('run_id', '=', runId)
      .groupBy(['scorer_id', 'repetition'])
      .orderBy('repetition')
      .execute();
    await breathe();
    const scorers: ScorerAggregate[] = [];
    for (const r of scorerRows) {
      scorers.push({
        scorerId: r.scorer_id,
        count: Number(r.n),
        mean: num(r.mean),
        passed: Number(r.passed),
        errors: Number(r.errors),
        middle: await middle(r.scorer_id, Number(r.n)),
        repetitionMeans: perRep.filter((p) => p.scorer_id === r.scorer_id).map((p) => num(p.mean)),
      });
      await breathe();
    }
    // Latency percentiles: the value at a rank, read through the (run_id, latency_ms) index.
    const n = Number(lat.n);
    const latencyAt = async (p: number): Promise<number | null> => {
      const rank = nearestRankIndex(p, n);
      if (rank === null) return null;
      const r = await ctx.db
        .selectFrom('run_items')
        .select(['latency_ms'])
        .where('run_id', '=', runId)
        .where('latency_ms', 'is not', null)
        .orderBy('latency_ms')
        .limit(1)
        .offset(rank)
        .executeTakeFirst();
      await breathe();
      return num(r?.latency_ms);
    };
    return buildRunSummary({
      statusCounts: byStatus.map((r) => ({ status: r.status, count: Number(r.n) })),
      passThreshold: threshold,
      scorers,
      latency: {
        count: n,
        mean: num(lat.mean),
        max: num(lat.max),
        p50: await latencyAt(0.5),
        p95: await latencyAt(0.95),
      },
      usage: {
        items: Number(lat.usage_items),
        inputTokens: num(lat.input_tokens),
        outputTokens: num(lat.output_tokens),
        costUsd: num(lat.cost_usd),
      },
    });
  }

  async function scoreStats(
    runId: string,
    bins: number,
    passThreshold = DEFAULT_PASS_THRESHOLD,
  ): Promise<ScorerStats[]> {
    // One pass over the run's scores: a CASE per bin keeps it portable across SQLite and PostgreSQL.
    const binCols = histogramBins(bins).map(({ lo, hi }, i) => {
      const cond =
        lo === null && hi === null
          ? sql`score is not null`
          : lo === null
            ? sql`score < ${hi}`
            : hi === null
              ? sql`score >= ${lo}`
              : sql`score >= ${lo} and score < ${hi}`;
      return sql<number>`sum(case when ${cond} then 1 else 0 end)`.as(`b${i}`);
    });
    const rows = await ctx.db
      .selectFrom('scores')
      .select([
        'scorer_id',
        sql<number | null>`avg(score)`.as('mean'),
        sql<number>`sum(case when score >= ${passThreshold} then 1 else 0 end)`.as('passed'),
        sql<number>`count(score)`.as('n'),
        sql<number>`sum(case when error is not null then 1 else 0 end)`.as('errors'),
        ...binCols,
      ])
      .where('run_id', '=', runId)
      .groupBy('scorer_id')
      .orderBy('scorer_id')
      .execute();
    return rows.map((r) => {
      const rec = r as unknown as Record<string, unknown>;
      return scorerStats({
        scorerId: r.scorer_id,
        count: Number(r.n),
        mean: num(r.mean),
        passed: Number(r.passed),
        errors: Number(r.errors ?? 0),
        binCounts: Array.from({ length: bins }, (_, i) => Number(rec[`b${i}`] ?? 0)),
      });
    });
  }

  async function listResultKeys(
    runId: string,
    after: { itemId: string; repetition: number } | null,
    limit: number,
  ): Promise<ResultKey[]> {
    const rows = await ctx.db
      .selectFrom('run_items')
      .select(['item_id', 'repetition', 'status'])
      .where('run_id', '=', runId)
      .$if(after !== null, (qb) =>
        qb.where((eb) =>
          eb.or([
            eb('item_id', '>', after!.itemId),
            eb.and([eb('item_id', '=', after!.itemId), eb('repetition', '>', after!.repetition)]),
          ]),
        ),
      )
      .orderBy('item_id')
      .orderBy('repetition')
      .limit(limit)
      .execute();
    if (rows.length === 0) return [];
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    const scores = await ctx.db
      .selectFrom('scores')
      .select(['item_id', 'repetition', 'scorer_id', 'score'])
      .where('run_id', '=', runId)
      .where('item_id', '>=', first.item_id)
      .where('item_id', '<=', last.item_id)
      .orderBy('scorer_id')
      .execute();
    const key = (itemId: string, rep: number) => `${itemId}\u0000${rep}`;
    const byKey = new Map<string, ResultKey>();
    const out = rows.map((r) => {
      const k: ResultKey = {
        itemId: r.item_id,
        repetition: Number(r.repetition),
        status: r.status as RunItemStatus,
        scores: [],
      };
      byKey.set(key(k.itemId, k.repetition), k);
      return k;
    });
    for (const s of scores) {
      byKey.get(key(s.item_id, Number(s.repetition)))?.scores.push({
        scorerId: s.scorer_id,
        score: s.score === null ? null : Number(s.score),
      });
    }
    return out;
  }

  return { summarizeRun, scoreStats, listResultKeys };
}
