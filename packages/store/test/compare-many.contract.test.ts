/**
 * Core's compareMany (the engine behind `POST /datasets/:id/compare/many`) on every storage
 * adapter, a real SQLite file and PostgreSQL: several candidates against one baseline, each
 * comparison the same as the two-run compareRuns of that pair (statistics, Holm within the
 * candidate's own scorers, verdicts, items), in the order asked; and the refusals, each a 400
 * naming what is wrong before any run is read.
 */
import { readFileSync } from 'node:fs';
import { AssayError, compareMany, compareRuns, holm, MAX_COMPARED_RUNS } from '@assay/core';
import { expect, it } from 'vitest';
import { dataset, storedRun } from './compare-runs.js';
import { describeStorage } from './contract.js';

const fx = JSON.parse(readFileSync(new URL('../../core/test/stats/fixtures.json', import.meta.url), 'utf8')) as {
  paired: { name: string; a?: number[]; b?: number[]; mcnemar?: { down: number; up: number; p: number } }[];
};
const binary = fx.paired.find((c) => c.name === 'binary, 12 fixed 2 broken of 64')!;

await describeStorage('Compare many', (f) => {
  /** A baseline (the fixture's run a) and three candidates: one better, one worse, one the same. */
  async function runs() {
    const { ds, ids, version } = await dataset(f, 64);
    const a = binary.a!;
    // The first twelve items the baseline got right, broken.
    const broken = new Set(a.flatMap((x, i) => (x === 1 ? [i] : [])).slice(0, 12));
    const graded = (i: number, exact: number) => 0.5 * exact + (i % 5) / 10;
    const run = (exact: (i: number) => number) =>
      storedRun(f, ds.id, version, ids, ['exact', 'graded'], (i) => ({ exact: exact(i), graded: graded(i, exact(i)) }));
    const baseline = await run((i) => a[i]!);
    const better = await run((i) => binary.b![i]!);
    const worse = await run((i) => (broken.has(i) ? 0 : a[i]!));
    const same = await run((i) => a[i]!);
    return { ds, ids, version, baseline, better, worse, same };
  }

  it('each candidate as compareRuns compares it with the baseline, in the order asked; Holm within each candidate', async () => {
    const { ds, baseline, better, worse, same } = await runs();
    const m = await compareMany(f.storage, ds.id, { baselineRunId: baseline, runIds: [worse, better, same] });
    expect(m.baseline.id).toBe(baseline);
    expect(m).toMatchObject({ alpha: 0.05, confidence: 0.95 });
    expect(m.comparisons.map((c) => [c.run.id, c.verdict])).toEqual([
      [worse, 'regressed'],
      [better, 'improved'],
      [same, 'no significant change'],
    ]);
    for (const c of m.comparisons) {
      // The one comparison of two runs, with the many-run default of 10 items.
      const pair = await compareRuns(f.storage, ds.id, { runIdA: baseline, runIdB: c.run.id, limit: 10 });
      const { runA, runB, alpha: _alpha, confidence: _c, ...rest } = pair;
      expect(runA.id).toBe(baseline);
      expect(c).toEqual({ run: runB, ...rest });
      // Both scorers decide; the family of Holm's correction is this candidate's two p-values.
      expect(c.decidingScorerIds).toEqual(['exact', 'graded']);
      expect(c.scorers.map((s) => s.pAdjusted)).toEqual(holm(c.scorers.map((s) => s.pValue!)));
    }
    const [w, b, s] = m.comparisons;
    // Better: statsmodels' exact McNemar of the fixture's 2 down, 12 up.
    expect(b!.scorers[0]).toMatchObject({ scorerId: 'exact', flips: { down: 2, up: 12 }, verdict: 'improved' });
    expect(Math.abs(b!.scorers[0]!.pValue! - binary.mcnemar!.p)).toBeLessThan(1e-8 * binary.mcnemar!.p);
    // Worse: twelve answers broken, none fixed: p = 2 · 2⁻¹².
    expect(w!.scorers[0]).toMatchObject({ flips: { down: 12, up: 0 }, delta: -12 / 64, regressed: true });
    expect(w!.scorers[0]!.pValue).toBeCloseTo(2 * 0.5 ** 12, 12);
    expect(w!.counts).toMatchObject({ matched: 64, regressed: 12, improved: 0 });
    expect(w!.items).toHaveLength(10);
    expect(w!.items.every((i) => i.change === 'regression')).toBe(true);
    // The same answers: nothing moved.
    expect(s!.scorers.map((x) => [x.delta, x.pValue, x.verdict])).toEqual([
      [0, 1, 'no significant change'],
      [0, 1, 'no significant change'],
    ]);
    expect(s!.items).toEqual([]);
  });

  it('the options apply to every candidate: scorerIds, alpha, minEffect, thresholds, limit', async () => {
    const { ds, baseline, better, worse } = await runs();
    const m = await compareMany(f.storage, ds.id, {
      baselineRunId: baseline,
      runIds: [better, worse],
      scorerIds: ['exact'],
      alpha: 0.01,
      minEffect: { exact: 0.1 },
      thresholds: 0.5,
      limit: 3,
    });
    expect(m.alpha).toBe(0.01);
    for (const c of m.comparisons) {
      expect(c.decidingScorerIds).toEqual(['exact']);
      // One deciding scorer: a family of one, its p-value unadjusted.
      const exact = c.scorers.find((s) => s.scorerId === 'exact')!;
      expect(exact).toMatchObject({ deciding: true, minEffect: 0.1, threshold: 0.5 });
      expect(exact.pAdjusted).toBe(exact.pValue);
      expect(c.scorers.find((s) => s.scorerId === 'graded')).toMatchObject({ deciding: false, minEffect: 0 });
      expect(c.items.length).toBeLessThanOrEqual(3);
    }
    // Better by 10/64 ≈ 0.156 ≥ 0.1, but p ≈ 0.013 is not below alpha 0.01; worse: p ≈ 0.0005 and −0.19.
    expect(m.comparisons.map((c) => c.verdict)).toEqual(['no significant change', 'regressed']);
    // An exact change of 1 is past a threshold of 0.5: the 12 broken items; 3 shown.
    expect(m.comparisons[1]!.counts.regressed).toBe(12);
    expect(m.comparisons[1]!.items).toHaveLength(3);
    const none = await compareMany(f.storage, ds.id, { baselineRunId: baseline, runIds: [worse], limit: 0 });
    expect(none.comparisons[0]!.items).toEqual([]);
    expect(none.comparisons[0]!.counts.regressed).toBe(12);
  });

  it('refuses more than 10 runs, unknown runs, runs of another dataset, the baseline or a run twice, a scorer the baseline lacks', async () => {
    const { ds, baseline, better, worse } = await runs();
    const refusal = (input: Parameters<typeof compareMany>[2], datasetId = ds.id) =>
      compareMany(f.storage, datasetId, input).then(
        () => {
          throw new Error('compareMany accepted a bad request');
        },
        (e: unknown) => {
          expect(e).toBeInstanceOf(AssayError);
          expect(e).toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
          return e as AssayError;
        },
      );
    const many = Array.from({ length: MAX_COMPARED_RUNS + 1 }, (_, i) => `run_${i}`);
    const tooMany = await refusal({ baselineRunId: baseline, runIds: many });
    expect(tooMany.details).toEqual({ max: 10, got: 11 });

    const unknown = await refusal({ baselineRunId: 'run_nope', runIds: [better, 'run_gone'] });
    expect(unknown.details).toEqual({ unknown: ['run_nope', 'run_gone'], otherDataset: [] });
    expect(unknown.message).toBe(`not runs of dataset ${ds.id}: run_nope (no such run), run_gone (no such run)`);

    const other = await dataset(f, 2);
    const elsewhere = await storedRun(f, other.ds.id, other.version, other.ids, ['exact'], () => ({ exact: 1 }));
    const mixed = await refusal({ baselineRunId: baseline, runIds: [better, elsewhere, 'run_gone'] });
    expect(mixed.details).toEqual({
      unknown: ['run_gone'],
      otherDataset: [{ runId: elsewhere, datasetId: other.ds.id }],
    });
    expect(mixed.message).toContain(`${elsewhere} (a run of ${other.ds.id})`);
    // Asked on the other dataset, every run of this one is the stranger.
    const wrongDataset = await refusal({ baselineRunId: baseline, runIds: [better] }, other.ds.id);
    expect((wrongDataset.details as { otherDataset: unknown[] }).otherDataset).toHaveLength(2);

    expect((await refusal({ baselineRunId: baseline, runIds: [better, baseline] })).details).toEqual({
      repeated: [baseline],
    });
    expect((await refusal({ baselineRunId: baseline, runIds: [worse, better, worse] })).details).toEqual({
      repeated: [worse],
    });
    const scorer = await refusal({ baselineRunId: baseline, runIds: [better], scorerIds: ['exact', 'nope'] });
    expect(scorer.details).toEqual({ unknown: ['nope'], available: ['exact', 'graded'] });
    expect(scorer.message).toContain("'nope' is not a scorer of the baseline (it has exact, graded)");
  });
});
