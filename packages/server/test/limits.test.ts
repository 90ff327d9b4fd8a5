import { describe, expect, it } from 'vitest';
import { gaugedTarget } from './gauge.js';
import { call, dataset, getRun, results, until, useAssay, waitRun } from './helpers.js';

const start = useAssay();

describe('target maxConcurrency shared by concurrent runs (HTTP level)', () => {
  it('a target with maxConcurrency 2 never has more than 2 calls in flight, and both runs progress together', async () => {
    /** The run of every call, in the order the calls started. */
    const started: string[] = [];
    const narrow = gaugedTarget('narrow', 2, 3, (ctx) => started.push(ctx.runId));
    const assay = await start({ targets: [narrow.target] });
    const N = 80;
    const a = await dataset(
      assay,
      Array.from({ length: N }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const b = await dataset(
      assay,
      Array.from({ length: N }, (_, n) => ({ input: n, groundTruth: n })),
    );
    // Each run asks for 20 at once; the target allows 2 across both.
    const body = { targetId: 'narrow', scorerIds: ['exact-match'], maxConcurrency: 20 };
    const [ta, tb] = await Promise.all([
      call(assay, 'POST', `/datasets/${a}/runs`, body),
      call(assay, 'POST', `/datasets/${b}/runs`, body),
    ]);
    expect([ta.status, tb.status]).toEqual([202, 202]);
    const [ra, rb] = await Promise.all([waitRun(assay, a, ta.json.runId), waitRun(assay, b, tb.json.runId)]);
    expect(ra).toMatchObject({ status: 'completed', succeededCount: N, failedCount: 0 });
    expect(rb).toMatchObject({ status: 'completed', succeededCount: N, failedCount: 0 });

    expect(narrow.peak).toBeLessThanOrEqual(2);
    expect(narrow.peak).toBe(2); // the limit was in use, not merely never reached
    expect(started).toHaveLength(2 * N);
    // Both runs progressed side by side: before the first of them had started its last call, each
    // had already had a good share of its calls (one run never waited for the other to finish).
    const lastA = started.lastIndexOf(ta.json.runId);
    const lastB = started.lastIndexOf(tb.json.runId);
    const before = started.slice(0, Math.min(lastA, lastB));
    const share = (runId: string) => before.filter((r) => r === runId).length;
    expect(share(ta.json.runId), started.join(',')).toBeGreaterThanOrEqual(N / 4);
    expect(share(tb.json.runId), started.join(',')).toBeGreaterThanOrEqual(N / 4);
    expect(await results(assay, a, ta.json.runId)).toHaveLength(N);
    expect(await results(assay, b, tb.json.runId)).toHaveLength(N);
  });

  it('the limit holds while one of the runs is cancelled and the other goes on', async () => {
    const narrow = gaugedTarget('narrow', 2, 5);
    const assay = await start({ targets: [narrow.target] });
    const big = await dataset(
      assay,
      Array.from({ length: 2_000 }, (_, n) => ({ input: n })),
    );
    const small = await dataset(
      assay,
      Array.from({ length: 40 }, (_, n) => ({ input: n })),
    );
    const body = { targetId: 'narrow', maxConcurrency: 20 };
    const tBig = await call(assay, 'POST', `/datasets/${big}/runs`, body);
    const tSmall = await call(assay, 'POST', `/datasets/${small}/runs`, body);
    await until(
      () => getRun(assay, small, tSmall.json.runId),
      (r) => r.succeededCount >= 5,
    );
    // Cancelling the big run frees its waiters; the small one finishes, still within the limit.
    expect((await call(assay, 'POST', `/datasets/${big}/runs/${tBig.json.runId}/cancel`)).status).toBe(202);
    expect((await waitRun(assay, big, tBig.json.runId)).status).toBe('cancelled');
    const done = await waitRun(assay, small, tSmall.json.runId);
    expect(done).toMatchObject({ status: 'completed', succeededCount: 40 });
    expect(narrow.peak).toBeLessThanOrEqual(2);
    expect(narrow.inFlight).toBe(0);
  });
});
