/**
 * Core's compareRuns (the engine behind `POST /datasets/:id/compare`) on every storage adapter: a
 * real SQLite file and PostgreSQL. Paired statistics on matched items, against the scipy and
 * statsmodels reference values of packages/core/test/stats/fixtures.json (the same tolerances as
 * stats.test.ts); repetitions averaged per item; missing scores counted; two dataset versions
 * compared on their shared items; the deciding scorers and the order of the changed items.
 */
import { readFileSync } from 'node:fs';
import { AssayError, compareRuns, holm, pairedDifference, type ScorerKind, wilson } from '@assay/core';
import { expect, it } from 'vitest';
import { type Cell, dataset, type Scores, storedRun } from './compare-runs.js';
import { describeStorage } from './contract.js';

interface PairedCase {
  name: string;
  a?: number[];
  b?: number[];
  meanDiff: number;
  t?: { p: number; lower: number; upper: number };
  bootstrap?: { lower: number; upper: number; standardError: number };
  mcnemar?: { down: number; up: number; p: number };
}
const fx = JSON.parse(readFileSync(new URL('../../core/test/stats/fixtures.json', import.meta.url), 'utf8')) as {
  paired: PairedCase[];
};
const fixture = (name: string) => fx.paired.find((c) => c.name === name)!;
const close = (actual: number | null | undefined, expected: number, rel = 1e-9) =>
  expect(Math.abs((actual ?? Number.NaN) - expected)).toBeLessThanOrEqual(
    rel * Math.max(1e-12, Math.abs(expected)) + 1e-15,
  );

const kinds = new Map<string, ScorerKind>([['fast', 'latency']]);

await describeStorage('Compare', (f) => {
  it('v2 fixes 12 answers and breaks 2 of 64: McNemar and Wilson as statsmodels; latency reported beside; the two regressions first', async () => {
    const { ds, ids, version } = await dataset(f, 64);
    const binary = fixture('binary, 12 fixed 2 broken of 64');
    // Item i: exact as the fixture's a[i] / b[i]; v2 is slower on every item (fast 1 → 0).
    const a = await storedRun(f, ds.id, version, ids, ['exact', 'fast'], (i) => ({ exact: binary.a![i]!, fast: 1 }));
    const b = await storedRun(f, ds.id, version, ids, ['exact', 'fast'], (i) => ({ exact: binary.b![i]!, fast: 0 }));
    const c = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b }, { scorerKinds: kinds });
    expect(c.decidingScorerIds).toEqual(['exact']);
    expect(c.verdict).toBe('improved');
    expect(c.counts).toEqual({ matched: 64, regressed: 2, improved: 12, unchanged: 50, onlyInA: 0, onlyInB: 0 });
    const [exact, fast] = c.scorers;
    expect(exact).toMatchObject({
      scorerId: 'exact',
      kind: 'quality',
      deciding: true,
      paired: 64,
      missing: { a: 0, b: 0, both: 0 },
      test: 'mcnemar',
      flips: { down: binary.mcnemar!.down, up: binary.mcnemar!.up },
      ciMethod: 'bootstrap',
      verdict: 'improved',
      regressed: false,
    });
    close(exact!.delta, binary.meanDiff);
    close(exact!.pValue, binary.mcnemar!.p, 1e-8);
    close(exact!.flipsPValue, binary.mcnemar!.p, 1e-8);
    close(exact!.pAdjusted, binary.mcnemar!.p, 1e-8); // a family of one
    const tol = 0.1 * binary.bootstrap!.standardError;
    expect(Math.abs(exact!.ci!.lower - binary.bootstrap!.lower)).toBeLessThanOrEqual(tol);
    expect(Math.abs(exact!.ci!.upper - binary.bootstrap!.upper)).toBeLessThanOrEqual(tol);
    const passedA = binary.a!.filter((x) => x === 1).length;
    expect(exact!.a).toEqual({
      mean: passedA / 64,
      passRate: passedA / 64,
      passInterval: wilson(passedA, 64),
      count: 64,
    });
    // The latency scorer regressed on every item, significantly, but does not decide.
    expect(fast).toMatchObject({
      scorerId: 'fast',
      kind: 'latency',
      deciding: false,
      delta: -1,
      verdict: 'regressed',
      regressed: false,
    });
    // Items: the two broken answers first, then the fixed ones; each row lists only what changed.
    expect(c.items.map((i) => i.change)).toEqual([...Array(2).fill('regression'), ...Array(12).fill('improvement')]);
    const broken = binary.a!.flatMap((x, i) => (x === 1 && binary.b![i] === 0 ? [`q${i}`] : []));
    expect(
      c.items
        .slice(0, 2)
        .map((i) => i.externalId)
        .sort(),
    ).toEqual(broken.sort());
    expect(c.items[0]).toMatchObject({
      delta: -1,
      repetitions: { a: 1, b: 1 },
      a: { status: 'succeeded' },
      scores: [
        { scorerId: 'exact', deciding: true, a: 1, b: 0, delta: -1 },
        { scorerId: 'fast', deciding: false, a: 1, b: 0, delta: -1 },
      ],
    });

    // Choosing the latency scorer: every item regressed, and so does the verdict.
    const byFast = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b, scorerIds: ['fast'], limit: 3 });
    expect(byFast).toMatchObject({ verdict: 'regressed', decidingScorerIds: ['fast'] });
    expect(byFast.counts).toMatchObject({ regressed: 64, improved: 0 });
    expect(byFast.scorers.map((s) => [s.scorerId, s.deciding, s.regressed])).toEqual([
      ['exact', false, false],
      ['fast', true, true],
    ]);
    // Only the latency scorer counts: each item dropped by 1.
    expect(byFast.items.map((i) => i.delta)).toEqual([-1, -1, -1]);

    // Without kinds every scorer decides; Holm corrects across both.
    const both = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b });
    expect(both.decidingScorerIds).toEqual(['exact', 'fast']);
    expect(both.verdict).toBe('regressed');
    const adjusted = holm(both.scorers.map((s) => s.pValue!));
    expect(both.scorers.map((s) => s.pAdjusted)).toEqual(adjusted);
    // The regressions now rank by total drop over both scorers: the broken answers (−2) first.
    expect(both.items[0]!.delta).toBe(-2);
    expect(both.items[1]!.delta).toBe(-2);
  });

  it('alpha and minEffect: a significant but small change is no significant change', async () => {
    const { ds, ids, version } = await dataset(f, 64);
    const binary = fixture('binary, 12 fixed 2 broken of 64');
    const a = await storedRun(f, ds.id, version, ids, ['exact'], (i) => ({ exact: binary.a![i]! }));
    const b = await storedRun(f, ds.id, version, ids, ['exact'], (i) => ({ exact: binary.b![i]! }));
    const cmp = (extra: object) => compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b, ...extra });
    expect((await cmp({ minEffect: 0.2 })).scorers[0]).toMatchObject({
      verdict: 'no significant change',
      minEffect: 0.2,
    });
    expect((await cmp({ minEffect: { exact: 0.15 } })).verdict).toBe('improved'); // 10/64 ≥ 0.15
    expect((await cmp({ minEffect: { other: 1 } })).scorers[0]!.minEffect).toBe(0);
    expect((await cmp({ alpha: 0.01 })).verdict).toBe('no significant change'); // p ≈ 0.013
    // Swapped, the same evidence is a regression.
    const back = await compareRuns(f.storage, ds.id, { runIdA: b, runIdB: a });
    expect(back.verdict).toBe('regressed');
    expect(back.scorers[0]).toMatchObject({ regressed: true, flips: { down: 12, up: 2 } });
    expect(back.items.slice(0, 12).every((i) => i.change === 'regression')).toBe(true);
  });

  it('continuous scores: paired t p-value as scipy, the bootstrap interval of the items in id order', async () => {
    const cont = fixture('continuous, 64 items');
    const { ds, ids, version } = await dataset(f, cont.a!.length);
    const a = await storedRun(f, ds.id, version, ids, ['similar'], (i) => ({ similar: cont.a![i]! }));
    const b = await storedRun(f, ds.id, version, ids, ['similar'], (i) => ({ similar: cont.b![i]! }));
    const c = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b });
    const [s] = c.scorers;
    expect(s).toMatchObject({ test: 'paired-t', ciMethod: 'bootstrap', paired: cont.a!.length });
    close(s!.delta, cont.meanDiff, 1e-9);
    close(s!.pValue, cont.t!.p, 1e-6);
    // The bootstrap resamples the items in item id order, with its fixed seed: the same interval every time.
    const order = ids.map((id, i) => [id, i] as const).sort(([x], [y]) => (x < y ? -1 : 1));
    const ref = await pairedDifference(
      order.map(([, i]) => cont.a![i]!),
      order.map(([, i]) => cont.b![i]!),
    );
    expect(s!.ci).toEqual(ref.ci);
    const tol = 0.1 * cont.bootstrap!.standardError;
    expect(Math.abs(s!.ci!.lower - cont.bootstrap!.lower)).toBeLessThanOrEqual(tol);
    expect((await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b })).scorers[0]!.ci).toEqual(s!.ci);
  });

  it('repetitions: each item is its mean over its repetitions (pages split items); resampling is over items', async () => {
    // 400 items × 3 repetitions: the 1,000-row pages of result keys end inside an item.
    const { ds, ids, version } = await dataset(f, 400);
    const a = await storedRun(f, ds.id, version, ids, ['q'], (i, rep) => ({ q: (i % 4) / 4 + rep * 0.1 }), 3);
    const b = await storedRun(
      f,
      ds.id,
      version,
      ids,
      ['q'],
      (i, rep) => ({ q: i < 100 ? 0.1 * rep : (i % 4) / 4 + rep * 0.1 }),
      3,
    );
    const c = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b, limit: 500 });
    const [s] = c.scorers;
    expect(s!.paired).toBe(400);
    expect(c.counts).toMatchObject({ matched: 400, regressed: 75, improved: 0, unchanged: 325 });
    // A's item means are (i % 4) / 4 + 0.1; B lost (i % 4) / 4 on the first 100 items.
    const lost = Array.from({ length: 100 }, (_, i) => (i % 4) / 4).reduce((x, y) => x + y, 0);
    close(s!.delta, -lost / 400, 1e-9);
    expect(c.items).toHaveLength(75);
    expect(c.items[0]).toMatchObject({ repetitions: { a: 3, b: 3 }, repetition: 0 });
    close(c.items[0]!.delta, -0.75, 1e-9);
    close(c.items[0]!.scores[0]!.a, 0.85, 1e-9);
    close(c.items[0]!.scores[0]!.b, 0.1, 1e-9);
  });

  it('missing scores are counted, not guessed: a failed item, an errored scorer, neither run scored', async () => {
    const { ds, ids, version } = await dataset(f, 6);
    const cell =
      (run: 'a' | 'b') =>
      (i: number): Scores | 'failed' => {
        const plan: [Cell, Cell][] = [
          [1, 1],
          [1, 'failed'], // B failed: missing in B
          [null, 1], // A's scorer threw: missing in A
          [null, null], // neither
          [0, 1],
          [1, 0],
        ];
        const v = plan[i]![run === 'a' ? 0 : 1];
        return v === 'failed' ? 'failed' : { s: v };
      };
    const a = await storedRun(f, ds.id, version, ids, ['s'], cell('a'));
    const b = await storedRun(f, ds.id, version, ids, ['s'], cell('b'));
    const c = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b });
    const [s] = c.scorers;
    expect(s).toMatchObject({
      paired: 3,
      missing: { a: 1, b: 1, both: 1 },
      flips: { down: 1, up: 1 },
      a: { count: 4 },
      b: { count: 4 },
      verdict: 'no significant change',
    });
    close(s!.delta, 0);
    // Item changes: the failure is a regression; a score that appeared is an improvement.
    expect(c.counts).toMatchObject({ matched: 6, regressed: 2, improved: 2, unchanged: 2 });
    const failedRow = c.items.find((i) => i.b.status === 'failed')!;
    expect(failedRow).toMatchObject({
      change: 'regression',
      delta: -1,
      scores: [{ scorerId: 's', a: 1, b: null, delta: null }],
    });
  });

  it('two dataset versions compare on their shared items, and say how many; one-item and all-equal runs', async () => {
    const { ds, ids, version } = await dataset(f, 10);
    const a = await storedRun(f, ds.id, version, ids, ['s'], () => ({ s: 1 }));
    const { items: added } = await f.storage.addItems(ds.id, [{ input: { i: 10 } }, { input: { i: 11 } }]);
    const { version: v2 } = await f.storage.deleteItems(ds.id, [ids[0]!]);
    const later = [...ids.slice(1), ...added.map((x) => x.id)];
    const b = await storedRun(f, ds.id, v2, later, ['s'], () => ({ s: 1 }));
    const c = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b });
    expect(c.runA.datasetVersion).not.toBe(c.runB.datasetVersion);
    expect(c.counts).toEqual({ matched: 9, regressed: 0, improved: 0, unchanged: 9, onlyInA: 1, onlyInB: 2 });
    expect(c.scorers[0]).toMatchObject({
      paired: 9,
      delta: 0,
      ci: { lower: 0, upper: 0 },
      pValue: 1,
      verdict: 'no significant change',
    });

    const one = await dataset(f, 1);
    const oa = await storedRun(f, one.ds.id, one.version, one.ids, ['s'], () => ({ s: 0.2 }));
    const ob = await storedRun(f, one.ds.id, one.version, one.ids, ['s'], () => ({ s: 0.9 }));
    const o = await compareRuns(f.storage, one.ds.id, { runIdA: oa, runIdB: ob });
    expect(o.scorers[0]).toMatchObject({ paired: 1, ci: null, verdict: 'no significant change' });
    close(o.scorers[0]!.delta, 0.7);
    expect(o.counts.improved).toBe(1);
  });

  it('refuses an unknown deciding scorer (listing the runs’ scorers), the same run twice, a run of another dataset', async () => {
    const { ds, ids, version } = await dataset(f, 2);
    const a = await storedRun(f, ds.id, version, ids, ['s', 't'], () => ({ s: 1, t: 1 }));
    const b = await storedRun(f, ds.id, version, ids, ['s'], () => ({ s: 1 }));
    const err = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b, scorerIds: ['s', 'nope'] }).catch((e) => e);
    expect(err).toBeInstanceOf(AssayError);
    expect(err).toMatchObject({
      code: 'VALIDATION_ERROR',
      status: 400,
      details: { unknown: ['nope'], available: ['s', 't'] },
    });
    expect(err.message).toContain("'nope' is not a scorer of either run (they have s, t)");
    // A scorer only one run has is reported, but never decides by default.
    const c = await compareRuns(f.storage, ds.id, { runIdA: a, runIdB: b });
    expect(c.decidingScorerIds).toEqual(['s']);
    expect(c.scorers.find((s) => s.scorerId === 't')).toMatchObject({
      paired: 0,
      missing: { b: 2 },
      delta: null,
      pValue: null,
    });
    await expect(compareRuns(f.storage, ds.id, { runIdA: a, runIdB: a })).rejects.toMatchObject({ status: 400 });
    const other = await dataset(f, 1);
    await expect(compareRuns(f.storage, other.ds.id, { runIdA: a, runIdB: b })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
