import {
  type AnalysisStore,
  buildRunSummary,
  DEFAULT_PASS_THRESHOLD,
  histogramBins,
  type MeanSums,
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
import { dec, num } from './rows.js';

/** A nullable aggregate as a number (drivers may return numeric text). */
/** Adds nullable partial sums: null only when every part is null. */
const addNullable = (a: number | null, b: unknown): number | null => (num(b) === null ? a : (a ?? 0) + num(b)!);

/** Run-item rows per statement of a whole-run aggregate by default (see `itemRanges`). */
const RANGE_ROWS = 50_000;

/** Per scorer, over a range of items: the sum of scores, how many pass `threshold`, how many have a value, errors. */
const scorerSums = (threshold: number) =>
  [
    sql<number | null>`sum(score)`.as('sum'),
    sql<number>`sum(case when score >= ${threshold} then 1 else 0 end)`.as('passed'),
    sql<number>`count(score)`.as('n'),
    sql<number>`sum(case when error is not null then 1 else 0 end)`.as('errors'),
  ] as const;

/** A key range of a run's items: `item_id > after` (unless null) and `item_id <= upTo` (unless null). */
interface ItemRange {
  after: string | null;
  upTo: string | null;
}

/**
 * Analysis on SQL: the store reads aggregates, and the values at a few ranks through ordered,
 * indexed reads; the statistics themselves are core's pure functions (`@assay/core` analysis).
 * A run of any size is summarized in flat memory, range by range of its items (one short statement
 * per aggregate and range), yielding to the event loop between them (SQLite answers synchronously).
 */
export function createAnalysisStore(ctx: SqlContext, opts: { rangeRows?: number } = {}): AnalysisStore {
  const rangeRows = Math.max(1, opts.rangeRows ?? RANGE_ROWS);
  /**
   * Splits a run's items into key ranges of about {@link RANGE_ROWS} rows (one primary-key walk
   * each), so that an aggregate over a 1,000,000-item run is ~20 short statements with the event
   * loop free between them, not one that holds it for 200–400 ms (SQLite answers synchronously).
   * A run under RANGE_ROWS rows is one range: the same single statement as before.
   */
  async function itemRanges(runId: string): Promise<ItemRange[]> {
    const ranges: ItemRange[] = [];
    let after: string | null = null;
    for (;;) {
      const from: string | null = after;
      const bound = await ctx.db
        .selectFrom('run_items')
        .select('item_id')
        .where('run_id', '=', runId)
        .$if(from !== null, (qb) => qb.where('item_id', '>', from!))
        .orderBy('item_id')
        .limit(1)
        .offset(rangeRows - 1)
        .executeTakeFirst();
      ranges.push({ after: from, upTo: bound?.item_id ?? null });
      if (!bound) return ranges;
      after = bound.item_id;
      await breathe();
    }
  }
  /** Restricts a query on run_items or scores (both keyed by run_id, item_id, …) to range `r`. */
  const within =
    (r: ItemRange) =>
    <Q extends { where(...args: any[]): Q }>(qb: Q): Q => {
      let q = qb;
      if (r.after !== null) q = q.where('item_id', '>', r.after);
      if (r.upTo !== null) q = q.where('item_id', '<=', r.upTo);
      return q;
    };

  async function summarizeRun(runId: string): Promise<RunSummary> {
    const runRow = await ctx.db.selectFrom('runs').select('options').where('id', '=', runId).executeTakeFirst();
    const threshold = passThresholdOf(dec<{ passThreshold?: number } | null>(runRow?.options ?? null));
    // Counts and sums range by range (see itemRanges), added up here.
    const statusCounts = new Map<string, number>();
    type Spent = { inputTokens: number | null; outputTokens: number | null; costUsd: number | null };
    const byScorer = new Map<string, { sum: number | null; passed: number; n: number; errors: number; usage: Spent }>();
    const byRep = new Map<string, { scorerId: string; repetition: number; sum: number | null; n: number }>();
    const lat = {
      n: 0,
      sum: null as number | null,
      max: null as number | null,
      usageItems: 0,
      inputTokens: null as number | null,
      outputTokens: null as number | null,
      costUsd: null as number | null,
    };
    for (const range of await itemRanges(runId)) {
      // Through the primary key's range, by name: without statistics SQLite would count each range
      // on the (run_id, status, …) claim index, which cannot seek by item, and so walk the whole
      // run once per range. (A WITHOUT ROWID table's primary key is sqlite_autoindex_<table>_1.)
      const { rows: statuses } = await sql<{ status: string; n: number }>`select status, count(*) as n
        from ${ctx.adapter.indexed('run_items', 'sqlite_autoindex_run_items_1')}
        where run_id = ${runId}
          ${range.after === null ? sql`` : sql`and item_id > ${range.after}`}
          ${range.upTo === null ? sql`` : sql`and item_id <= ${range.upTo}`}
        group by status`.execute(ctx.db);
      for (const r of statuses) statusCounts.set(r.status, (statusCounts.get(r.status) ?? 0) + Number(r.n));
      await breathe();
      const scorerRows = await ctx.db
        .selectFrom('scores')
        .select([
          'scorer_id',
          ...scorerSums(threshold),
          sql<number | null>`sum(input_tokens)`.as('input_tokens'),
          sql<number | null>`sum(output_tokens)`.as('output_tokens'),
          sql<number | null>`sum(cost_usd)`.as('cost_usd'),
        ])
        .where('run_id', '=', runId)
        .$call(within(range))
        .groupBy('scorer_id')
        .execute();
      for (const r of scorerRows) {
        const acc = byScorer.get(r.scorer_id) ?? {
          sum: null,
          passed: 0,
          n: 0,
          errors: 0,
          usage: { inputTokens: null, outputTokens: null, costUsd: null },
        };
        acc.sum = addNullable(acc.sum, r.sum);
        acc.passed += Number(r.passed);
        acc.n += Number(r.n);
        acc.errors += Number(r.errors);
        acc.usage.inputTokens = addNullable(acc.usage.inputTokens, r.input_tokens);
        acc.usage.outputTokens = addNullable(acc.usage.outputTokens, r.output_tokens);
        acc.usage.costUsd = addNullable(acc.usage.costUsd, r.cost_usd);
        byScorer.set(r.scorer_id, acc);
      }
      await breathe();
      const l = await ctx.db
        .selectFrom('run_items')
        .select([
          sql<number>`count(latency_ms)`.as('n'),
          sql<number | null>`sum(latency_ms)`.as('sum'),
          sql<number | null>`max(latency_ms)`.as('max'),
          sql<number>`count(coalesce(input_tokens, output_tokens, cost_usd))`.as('usage_items'),
          sql<number | null>`sum(input_tokens)`.as('input_tokens'),
          sql<number | null>`sum(output_tokens)`.as('output_tokens'),
          sql<number | null>`sum(cost_usd)`.as('cost_usd'),
        ])
        .where('run_id', '=', runId)
        .$call(within(range))
        .executeTakeFirstOrThrow();
      lat.n += Number(l.n);
      lat.sum = addNullable(lat.sum, l.sum);
      lat.max = num(l.max) === null ? lat.max : Math.max(lat.max ?? Number.NEGATIVE_INFINITY, num(l.max)!);
      lat.usageItems += Number(l.usage_items);
      lat.inputTokens = addNullable(lat.inputTokens, l.input_tokens);
      lat.outputTokens = addNullable(lat.outputTokens, l.output_tokens);
      lat.costUsd = addNullable(lat.costUsd, l.cost_usd);
      await breathe();
      // Spread across repetitions: the mean of each repetition, per scorer.
      const reps = await ctx.db
        .selectFrom('scores')
        .select([
          'scorer_id',
          'repetition',
          sql<number | null>`sum(score)`.as('sum'),
          sql<number>`count(score)`.as('n'),
        ])
        .where('run_id', '=', runId)
        .$call(within(range))
        .groupBy(['scorer_id', 'repetition'])
        .execute();
      for (const r of reps) {
        const k = `${r.scorer_id}\u0000${r.repetition}`;
        const acc = byRep.get(k) ?? { scorerId: r.scorer_id, repetition: Number(r.repetition), sum: null, n: 0 };
        acc.sum = addNullable(acc.sum, r.sum);
        acc.n += Number(r.n);
        byRep.set(k, acc);
      }
      await breathe();
    }
    const mean = (sum: number | null, n: number) => (sum === null || n === 0 ? null : sum / n);
    const perRep = [...byRep.values()]
      .sort((a, b) => a.repetition - b.repetition)
      .map((r) => ({ scorer_id: r.scorerId, mean: mean(r.sum, r.n) }));
    const scorerRows = [...byScorer.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([scorer_id, a]) => ({
        scorer_id,
        mean: mean(a.sum, a.n),
        passed: a.passed,
        n: a.n,
        errors: a.errors,
        usage: a.usage,
      }));
    const byStatus = [...statusCounts.entries()].map(([status, n]) => ({ status, n }));
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
        usage: r.usage,
      });
      await breathe();
    }
    // Latency percentiles: the value at a rank, read through the (run_id, latency_ms) index.
    const n = lat.n;
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
        mean: mean(lat.sum, lat.n),
        max: lat.max,
        p50: await latencyAt(0.5),
        p95: await latencyAt(0.95),
      },
      usage: {
        items: lat.usageItems,
        inputTokens: lat.inputTokens,
        outputTokens: lat.outputTokens,
        costUsd: lat.costUsd,
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
    const acc = new Map<string, { sum: number | null; passed: number; n: number; errors: number; bins: number[] }>();
    const perItem = new Map<string, MeanSums & { passed: number }>();
    for (const range of await itemRanges(runId)) {
      // Each item's mean over its repetitions, summed per scorer: the intervals' input. A range
      // holds whole items (it is cut by item id), so the per-range sums add up.
      const { rows: items } = await sql<{
        scorer_id: string;
        n: number;
        sum: number | null;
        squares: number | null;
        fractional: number;
        passed: number;
      }>`select scorer_id, count(m) as n, sum(m) as sum, sum(m * m) as squares,
          sum(case when m <> 0 and m <> 1 then 1 else 0 end) as fractional,
          sum(case when m >= ${passThreshold} then 1 else 0 end) as passed
        from (select scorer_id, item_id, avg(score) as m from scores
          where run_id = ${runId}
            ${range.after === null ? sql`` : sql`and item_id > ${range.after}`}
            ${range.upTo === null ? sql`` : sql`and item_id <= ${range.upTo}`}
          group by scorer_id, item_id) per_item
        where m is not null
        group by scorer_id`.execute(ctx.db);
      for (const r of items) {
        const a = perItem.get(r.scorer_id) ?? { n: 0, sum: 0, sumSquares: 0, binary: true, passed: 0 };
        a.n += Number(r.n);
        a.sum += num(r.sum) ?? 0;
        a.sumSquares += num(r.squares) ?? 0;
        a.binary &&= Number(r.fractional) === 0;
        a.passed += Number(r.passed);
        perItem.set(r.scorer_id, a);
      }
      await breathe();
      const rows = await ctx.db
        .selectFrom('scores')
        .select(['scorer_id', ...scorerSums(passThreshold), ...binCols])
        .where('run_id', '=', runId)
        .$call(within(range))
        .groupBy('scorer_id')
        .execute();
      for (const r of rows) {
        const rec = r as unknown as Record<string, unknown>;
        const a = acc.get(r.scorer_id) ?? { sum: null, passed: 0, n: 0, errors: 0, bins: new Array(bins).fill(0) };
        a.sum = addNullable(a.sum, r.sum);
        a.passed += Number(r.passed);
        a.n += Number(r.n);
        a.errors += Number(r.errors ?? 0);
        for (let i = 0; i < bins; i++) a.bins[i] += Number(rec[`b${i}`] ?? 0);
        acc.set(r.scorer_id, a);
      }
      await breathe();
    }
    return [...acc.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([scorerId, a]) =>
        scorerStats({
          scorerId,
          count: a.n,
          mean: a.sum === null || a.n === 0 ? null : a.sum / a.n,
          passed: a.passed,
          errors: a.errors,
          binCounts: a.bins,
          items: perItem.get(scorerId) ?? { n: 0, sum: 0, sumSquares: 0, binary: true, passed: 0 },
        }),
      );
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
      // A row value: both SQLite and PostgreSQL seek the primary key to the page and read it in
      // order (an OR of the two cases walked the run from its first item on every page).
      .$if(after !== null, (qb) =>
        qb.where(sql<boolean>`(item_id, repetition) > (${after!.itemId}, ${after!.repetition})`),
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
