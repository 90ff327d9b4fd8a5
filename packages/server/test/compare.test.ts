/**
 * The one comparison of two runs (core's compareRuns behind `POST /datasets/:id/compare`, used by
 * the UI and, through the SDK, by the CLI's gates) through the HTTP API: per-scorer paired
 * statistics and verdicts, item changes ranked by size and cut at `limit`, items only one run
 * has, the scorer kinds of the config deciding by default, and the refusals. The statistics
 * themselves are checked on both stores in packages/store/test/compare.contract.test.ts.
 */
import type { Comparison } from '@assay/core/api';
import { describe, expect, it } from 'vitest';
import { call, dataset, useAssay, waitRun } from './helpers.js';

const start = useAssay();

/** Item n scores `a` under target A and `b` under target B; B fails an item with `failB`. */
const ITEMS = [
  { input: { n: 0, a: 1, b: 1 } }, // unchanged
  { input: { n: 1, a: 1, b: 0.9 } }, // −0.1
  { input: { n: 2, a: 1, b: 0.5 } }, // −0.5
  { input: { n: 3, a: 0.2, b: 0.8 } }, // +0.6
  { input: { n: 4, a: 0.5, b: 0.6 } }, // +0.1
  { input: { n: 5, a: 1, b: 1, failB: true } }, // succeeded → failed
];
type In = { n: number; a: number; b: number; failB?: boolean };

async function setup() {
  const assay = await start({
    targets: [
      { id: 'A', type: 'function', run: (i: In) => ({ n: i.n, s: i.a }) },
      {
        id: 'B',
        type: 'function',
        run: (i: In) => {
          if (i.failB) throw new Error('B cannot');
          return { n: i.n, s: i.b };
        },
      },
    ],
    scorers: [
      { id: 'graded', score: ({ output }) => ({ score: (output as { s: number }).s }) },
      { id: 'quick', use: 'latency-under', options: { ms: 60_000 } },
      { id: 'cheap', kind: 'cost', score: () => 1 },
    ],
  });
  const ds = await dataset(assay, ITEMS);
  const trigger = async (targetId: string, scorerIds = ['graded']) => {
    const t = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId, scorerIds, maxRetries: 0 });
    return (await waitRun(assay, ds, t.json.runId)).id as string;
  };
  const a = await trigger('A');
  const b = await trigger('B');
  const compare = async (body: Record<string, unknown>) => call(assay, 'POST', `/datasets/${ds}/compare`, body);
  return { assay, ds, a, b, trigger, compare };
}

const n = (c: Comparison) =>
  c.items.map((i) => [(i.b.output as { n?: number } | null)?.n ?? (i.a.output as { n: number }).n, i.change]);

describe('compareRuns', () => {
  it('ranks changed items by size at threshold 0, regressions first; per-scorer paired statistics and a verdict', async () => {
    const { a, b, compare } = await setup();
    const r = await compare({ runIdA: a, runIdB: b });
    expect(r.status).toBe(200);
    const c = r.json as Comparison;
    expect(c.counts).toEqual({ matched: 6, regressed: 3, improved: 2, unchanged: 1, onlyInA: 0, onlyInB: 0 });
    expect(n(c)).toEqual([
      [5, 'regression'],
      [2, 'regression'],
      [1, 'regression'],
      [3, 'improvement'],
      [4, 'improvement'],
    ]);
    expect(c.items[0]).toMatchObject({
      delta: -1,
      externalId: null,
      a: { status: 'succeeded' },
      b: { status: 'failed', output: null },
      scores: [{ scorerId: 'graded', deciding: true, a: 1, b: null, delta: null }],
    });
    expect(c.items[1]!.delta).toBeCloseTo(-0.5);
    // Unchanged scores are not listed: item 0 is not among the changes at all.
    expect(c.items.every((i) => i.scores.every((s) => s.a !== s.b))).toBe(true);
    expect(c).toMatchObject({ verdict: 'no significant change', decidingScorerIds: ['graded'], alpha: 0.05 });
    const [s] = c.scorers;
    expect(s).toMatchObject({
      scorerId: 'graded',
      kind: 'quality',
      deciding: true,
      a: { count: 6 },
      b: { count: 5 },
      paired: 5,
      missing: { a: 0, b: 1, both: 0 },
      test: 'paired-t',
      ciMethod: 'bootstrap',
      threshold: 0,
      verdict: 'no significant change',
      regressed: false,
    });
    expect(s!.a.mean).toBeCloseTo(4.7 / 6);
    expect(s!.b.mean).toBeCloseTo(3.8 / 5);
    // B − A over the five items both runs scored.
    expect(s!.delta).toBeCloseTo((3.8 - 3.7) / 5);
    expect(s!.ci!.lower).toBeLessThan(0);
    expect(s!.ci!.upper).toBeGreaterThan(0);
    expect(s!.pValue).toBeGreaterThan(0.05);
  });

  it('thresholds: one number or per scorer; small changes are unchanged', async () => {
    const { a, b, compare } = await setup();
    for (const thresholds of [0.2, { graded: 0.2 }]) {
      const c = (await compare({ runIdA: a, runIdB: b, thresholds })).json as Comparison;
      expect(c.counts, JSON.stringify(thresholds)).toMatchObject({ regressed: 2, improved: 1, unchanged: 3 });
      expect(n(c)).toEqual([
        [5, 'regression'],
        [2, 'regression'],
        [3, 'improvement'],
      ]);
      expect(c.scorers[0]).toMatchObject({ threshold: 0.2, regressed: false });
    }
    // Another scorer's threshold leaves this one at 0.
    const other = (await compare({ runIdA: a, runIdB: b, thresholds: { other: 0.2 } })).json as Comparison;
    expect(other.scorers[0]).toMatchObject({ threshold: 0 });
    expect(other.counts.regressed).toBe(3);
  });

  it("the config's kinds: latency and cost scorers are reported beside, unless chosen; unknown choices are refused", async () => {
    const { a, compare, trigger } = await setup();
    const all = ['graded', 'quick', 'cheap'];
    const [x, y] = [await trigger('A', all), await trigger('B', all)];
    const c = (await compare({ runIdA: x, runIdB: y })).json as Comparison;
    expect(c.decidingScorerIds).toEqual(['graded']);
    expect(c.scorers.map((s) => [s.scorerId, s.kind, s.deciding])).toEqual([
      ['cheap', 'cost', false],
      ['graded', 'quality', true],
      ['quick', 'latency', false],
    ]);
    const chosen = (await compare({ runIdA: x, runIdB: y, scorerIds: ['quick', 'graded'] })).json as Comparison;
    expect(chosen.decidingScorerIds).toEqual(['graded', 'quick']);
    // A scorer of neither run: 400, naming the ones there are.
    const bad = await compare({ runIdA: a, runIdB: y, scorerIds: ['nope'] });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { unknown: ['nope'], available: ['cheap', 'graded', 'quick'] },
    });
    for (const body of [{ alpha: 0 }, { alpha: 1 }, { minEffect: -1 }, { scorerIds: [] }]) {
      const r = await compare({ runIdA: x, runIdB: y, ...body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('limit keeps the largest changes (regressions first) and exact counts; 0 returns none', async () => {
    const { a, b, compare } = await setup();
    const two = (await compare({ runIdA: a, runIdB: b, limit: 2 })).json as Comparison;
    expect(n(two)).toEqual([
      [5, 'regression'],
      [2, 'regression'],
    ]);
    expect(two.counts.regressed).toBe(3);
    const none = (await compare({ runIdA: a, runIdB: b, limit: 0 })).json as Comparison;
    expect(none.items).toEqual([]);
    expect(none.counts.improved).toBe(2);
    // Swapped, the improvements are the other way round.
    const back = (await compare({ runIdA: b, runIdB: a })).json as Comparison;
    expect(back.counts).toMatchObject({ regressed: 2, improved: 3 });
  });

  it('results only one run has; refuses the same run twice, a run of another dataset, an unknown dataset', async () => {
    const { assay, ds, a, trigger, compare } = await setup();
    await call(assay, 'POST', `/datasets/${ds}/items`, { input: { n: 6, a: 1, b: 1 } });
    const later = await trigger('A');
    const c = (await compare({ runIdA: a, runIdB: later })).json as Comparison;
    expect(c.counts).toEqual({ matched: 6, regressed: 0, improved: 0, unchanged: 6, onlyInA: 0, onlyInB: 1 });
    expect((await compare({ runIdA: later, runIdB: a })).json.counts).toMatchObject({ onlyInA: 1, onlyInB: 0 });

    const same = await compare({ runIdA: a, runIdB: a });
    expect(same.status).toBe(400);
    expect(same.json.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      message: 'runIdA and runIdB must be two different runs',
    });
    const other = await dataset(assay, [{ input: { n: 0, a: 1, b: 1 } }]);
    const elsewhere = await call(assay, 'POST', `/datasets/${other}/compare`, { runIdA: a, runIdB: later });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json.error.code).toBe('NOT_FOUND');
    const gone = await call(assay, 'POST', '/datasets/ds_nope/compare', { runIdA: a, runIdB: later });
    expect(gone.status).toBe(404);
    expect(gone.json.error.message).toContain('ds_nope');
  });
});
