/**
 * `POST /datasets/:id/compare/many` through the HTTP API: up to 10 runs against one baseline,
 * each candidate's comparison the same as `POST /datasets/:id/compare` answers for that pair, in
 * the order asked (every answer checked against the contract's schema by `call`); and the
 * refusals: more than 10 runs, unknown runs, runs of another dataset, a bad body, an unknown
 * dataset. The statistics are checked on both stores in packages/store/test/compare-many.contract.test.ts.
 */
import type { Comparison, ManyComparison } from '@assay/core/api';
import { describe, expect, it } from 'vitest';
import { call, dataset, useAssay, waitRun } from './helpers.js';

const start = useAssay();

type In = { n: number };
/** Twenty items; target `good` answers all of them, `worse` gets the first eight wrong, `half` every other. */
const ITEMS = Array.from({ length: 20 }, (_, n) => ({ input: { n } }));

async function setup() {
  const assay = await start({
    targets: [
      { id: 'good', type: 'function', run: (i: In) => ({ right: true, n: i.n }) },
      { id: 'worse', type: 'function', run: (i: In) => ({ right: i.n >= 8, n: i.n }) },
      { id: 'half', type: 'function', run: (i: In) => ({ right: i.n % 2 === 0, n: i.n }) },
    ],
    scorers: [
      { id: 'right', score: ({ output }) => ((output as { right: boolean }).right ? 1 : 0) },
      { id: 'quick', use: 'latency-under', options: { ms: 60_000 } },
    ],
  });
  const ds = await dataset(assay, ITEMS);
  const trigger = async (targetId: string) => {
    const t = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId, scorerIds: ['right', 'quick'] });
    return (await waitRun(assay, ds, t.json.runId)).id as string;
  };
  const many = (body: unknown, datasetId = ds) => call(assay, 'POST', `/datasets/${datasetId}/compare/many`, body);
  return { assay, ds, trigger, many };
}

describe('compareMany', () => {
  it('compares each run with the baseline as the two-run compare does, in the order asked', async () => {
    const { assay, ds, trigger, many } = await setup();
    const base = await trigger('good');
    const [worse, again, half] = [await trigger('worse'), await trigger('good'), await trigger('half')];
    const r = await many({ baselineRunId: base, runIds: [worse, again, half] });
    expect(r.status).toBe(200);
    const m = r.json as ManyComparison;
    expect(m.baseline.id).toBe(base);
    expect(m).toMatchObject({ alpha: 0.05, confidence: 0.95 });
    // 8 of 20 broken: McNemar p = 2⁻⁷; 10 of 20: 2⁻⁹; the latency scorer reported beside.
    expect(m.comparisons.map((c) => [c.run.id, c.verdict, c.decidingScorerIds])).toEqual([
      [worse, 'regressed', ['right']],
      [again, 'no significant change', ['right']],
      [half, 'regressed', ['right']],
    ]);
    expect(m.comparisons[0]!.counts).toMatchObject({ matched: 20, regressed: 8, improved: 0, unchanged: 12 });
    expect(m.comparisons[2]!.scorers.find((s) => s.scorerId === 'right')).toMatchObject({
      flips: { down: 10, up: 0 },
      delta: -0.5,
    });
    expect(m.comparisons[2]!.scorers.find((s) => s.scorerId === 'right')!.pValue).toBeCloseTo(2 * 0.5 ** 10, 12);
    // The default: 10 changed items per candidate.
    expect(m.comparisons.map((c) => c.items.length)).toEqual([8, 0, 10]);
    for (const c of m.comparisons) {
      const pair = (await call(assay, 'POST', `/datasets/${ds}/compare`, { runIdA: base, runIdB: c.run.id, limit: 10 }))
        .json as Comparison;
      const { runA: _a, runB, alpha: _alpha, confidence: _c, ...rest } = pair;
      expect(c).toEqual({ run: runB, ...rest });
    }
    // Options apply to every candidate.
    const chosen = (await many({ baselineRunId: base, runIds: [half, worse], scorerIds: ['quick'], limit: 0 }))
      .json as ManyComparison;
    expect(chosen.comparisons.map((c) => [c.run.id, c.decidingScorerIds, c.items])).toEqual([
      [half, ['quick'], []],
      [worse, ['quick'], []],
    ]);
  });

  it('400 with the error envelope: more than 10 runs, unknown runs, runs of another dataset, a bad body; 404 for an unknown dataset', async () => {
    const { assay, trigger, many } = await setup();
    const base = await trigger('good');
    const other = await trigger('worse');

    const eleven = Array.from({ length: 11 }, (_, i) => `run_${i}`);
    const tooMany = await many({ baselineRunId: base, runIds: eleven });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: {
        issues: [{ path: 'runIds', message: 'runIds: at most 10 runs are compared with one baseline per request' }],
      },
    });

    const unknown = await many({ baselineRunId: base, runIds: [other, 'run_gone'] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { unknown: ['run_gone'], otherDataset: [] },
    });
    expect(unknown.json.error.message).toContain('run_gone (no such run)');

    const ds2 = await dataset(assay, [{ input: { n: 0 } }]);
    const t = await call(assay, 'POST', `/datasets/${ds2}/runs`, { targetId: 'good', scorerIds: ['right'] });
    const stranger = (await waitRun(assay, ds2, t.json.runId)).id as string;
    const elsewhere = await many({ baselineRunId: base, runIds: [stranger] });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.json.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { unknown: [], otherDataset: [{ runId: stranger, datasetId: ds2 }] },
    });

    for (const body of [
      { baselineRunId: base },
      { baselineRunId: base, runIds: [] },
      { runIds: [other] },
      { baselineRunId: base, runIds: [other], limit: 101 },
      { baselineRunId: base, runIds: [other], alpha: 1 },
      { baselineRunId: base, runIds: [other], runIdB: other },
      { baselineRunId: base, runIds: [base] },
      { baselineRunId: base, runIds: [other], scorerIds: ['nope'] },
    ]) {
      const r = await many(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code, JSON.stringify(body)).toBe('VALIDATION_ERROR');
    }

    const gone = await many({ baselineRunId: base, runIds: [other] }, 'ds_nope');
    expect(gone.status).toBe(404);
    expect(gone.json.error).toMatchObject({ code: 'NOT_FOUND' });
  });
});
