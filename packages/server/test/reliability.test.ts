import { describe, expect, it } from 'vitest';
import { gaugedTarget } from './gauge.js';
import { call, dataset, getRun, results, until, useAssay, waitRun } from './helpers.js';

const start = useAssay();

describe('runs that can be steered (HTTP level)', () => {
  it('cancel: in-flight targets see an aborted signal, queued items are cancelled, finished results kept', async () => {
    let aborted = 0;
    const assay = await start({
      targets: [
        {
          id: 'slow',
          type: 'agent',
          run: async (input: number, ctx) => {
            if (input < 5) return input; // a few finish at once
            await new Promise((_, reject) =>
              ctx.signal.addEventListener('abort', () => {
                aborted++;
                reject(ctx.signal.reason);
              }),
            );
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 200 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'slow',
      maxConcurrency: 5,
      scorerIds: ['exact-match'],
    });
    const runId = trig.json.runId;
    await until(
      () => getRun(assay, ds, runId),
      (r) => r.succeededCount === 5,
    );
    const c = await call(assay, 'POST', `/datasets/${ds}/runs/${runId}/cancel`);
    expect(c.status).toBe(202);
    const run = await waitRun(assay, ds, runId, 2000);
    expect(run.status).toBe('cancelled');
    expect(aborted).toBe(5); // the five in flight
    expect(run.succeededCount).toBe(5);
    expect(run.summary).toMatchObject({ total: 200, succeeded: 5, cancelled: 195 });
    expect(run.summary.scorers[0]).toMatchObject({ scorerId: 'exact-match', count: 5, mean: 1 });
    expect(await results(assay, ds, runId, '&status=cancelled')).toHaveLength(195);
    expect(await results(assay, ds, runId, '&status=queued')).toHaveLength(0);
    // Twice is harmless; a finished run is a 409.
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/${runId}/cancel`)).status).toBe(202);
    const other = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'slow',
      version: 1,
      maxConcurrency: 1,
    });
    const small = await dataset(assay, [{ input: 1 }]);
    const done = await call(assay, 'POST', `/datasets/${small}/runs`, { targetId: 'slow' });
    await waitRun(assay, small, done.json.runId);
    const late = await call(assay, 'POST', `/datasets/${small}/runs/${done.json.runId}/cancel`);
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('CONFLICT');
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/run_nope/cancel`)).status).toBe(404);
    await call(assay, 'POST', `/datasets/${ds}/runs/${other.json.runId}/cancel`);
    expect((await waitRun(assay, ds, other.json.runId)).status).toBe('cancelled');
  });

  it('cancel of a pending run (no worker yet) is immediate', async () => {
    const assay = await start({ targets: [{ id: 't', type: 'function', run: (i) => i }] }, { worker: false });
    const ds = await dataset(assay, [{ input: 1 }, { input: 2 }]);
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 't' });
    const c = await call(assay, 'POST', `/datasets/${ds}/runs/${trig.json.runId}/cancel`);
    expect(c.status).toBe(202);
    expect(c.json.status).toBe('cancelled');
  });

  it('retry re-executes only failed items as a new attempt; earlier attempts stay visible', async () => {
    let healthy = false;
    const calls = new Map<number, number>();
    const assay = await start({
      targets: [
        {
          id: 'sometimes',
          type: 'workflow',
          run: async (input: number) => {
            calls.set(input, (calls.get(input) ?? 0) + 1);
            if (input % 3 === 0 && !healthy) throw new Error(`item ${input} broke`);
            return input;
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 30 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'sometimes',
      scorerIds: ['exact-match'],
      maxRetries: 0,
    });
    const runId = trig.json.runId;
    const first = await waitRun(assay, ds, runId);
    expect(first).toMatchObject({ status: 'completed', succeededCount: 20, failedCount: 10 });
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/${runId}/retry`)).status).toBe(202);
    // retrying while running is a conflict (the run may also have finished already: then nothing to retry)
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/${runId}/retry`)).status).toBe(409);
    const second = await waitRun(assay, ds, runId);
    expect(second).toMatchObject({ status: 'completed', succeededCount: 20, failedCount: 10 });
    healthy = true;
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/${runId}/retry`)).status).toBe(202);
    const third = await waitRun(assay, ds, runId);
    expect(third).toMatchObject({ status: 'completed', totalItems: 30, succeededCount: 30, failedCount: 0 });
    expect(third.summary.scorers[0]).toMatchObject({ count: 30, mean: 1 });
    // each good item ran once, each bad item three times
    for (const [n, k] of calls) expect(k).toBe(n % 3 === 0 ? 3 : 1);
    const rs = await results(assay, ds, runId);
    expect(rs).toHaveLength(30);
    const broken = rs.find((r) => r.input === 3);
    expect(broken).toMatchObject({ status: 'succeeded', attempt: 3 });
    const hist = await call(assay, 'GET', `/datasets/${ds}/runs/${runId}/items/${broken.itemId}/attempts`);
    expect(hist.json.attempts.map((a: any) => [a.attempt, a.status, a.current])).toEqual([
      [1, 'failed', false],
      [2, 'failed', false],
      [3, 'succeeded', true],
    ]);
    expect(hist.json.attempts[0].error.message).toBe('item 3 broke');
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/${runId}/retry`)).status).toBe(409); // nothing left
    expect((await call(assay, 'GET', `/datasets/${ds}/runs/${runId}/items/item_nope/attempts`)).status).toBe(404);
  });

  it('repetitions: each item runs N times and the summary reports the spread across repetitions', async () => {
    let k = 0;
    const assay = await start({
      targets: [{ id: 'coin', type: 'function', run: () => k++ % 2 }],
      scorers: [{ id: 'value', score: ({ output }) => output }],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 10 }, (_, n) => ({ input: n })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'coin',
      scorerIds: ['value'],
      repetitions: 4,
      maxConcurrency: 1,
    });
    expect(trig.json.totalItems).toBe(40);
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 40 });
    const s = run.summary.scorers[0];
    expect(s.mean).toBe(0.5);
    expect(s.repetitions.means).toHaveLength(4);
    expect(s.repetitions.stddev).toBeGreaterThanOrEqual(0);
    const rs = await results(assay, ds, trig.json.runId);
    expect(new Set(rs.map((r) => `${r.itemId}:${r.repetition}`)).size).toBe(40);
    expect((await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'coin', repetitions: 101 })).status).toBe(
      400,
    );
    expect((await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'coin', repetitions: 0 })).status).toBe(400);
  });

  it('Idempotency-Key returns the same run for the same body and 409 for another body', async () => {
    const assay = await start({ targets: [{ id: 't', type: 'function', run: (i) => i }] }, { worker: false });
    const ds = await dataset(assay, [{ input: 1 }]);
    const body = { targetId: 't', maxConcurrency: 3, metadata: { a: 1, b: 2 } };
    const h = { 'idempotency-key': 'deploy-42' };
    const one = await call(assay, 'POST', `/datasets/${ds}/runs`, body, h);
    const two = await call(
      assay,
      'POST',
      `/datasets/${ds}/runs`,
      { metadata: { b: 2, a: 1 }, maxConcurrency: 3, targetId: 't' },
      h,
    );
    expect(one.status).toBe(202);
    expect(two.status).toBe(202);
    expect(two.json.runId).toBe(one.json.runId);
    const diff = await call(assay, 'POST', `/datasets/${ds}/runs`, { ...body, maxConcurrency: 4 }, h);
    expect(diff.status).toBe(409);
    expect(diff.json.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => call(assay, 'POST', `/datasets/${ds}/runs`, body, { 'idempotency-key': 'race' })),
    );
    expect(new Set(concurrent.map((r) => r.json.runId)).size).toBe(1);
    const list = await call(assay, 'GET', `/datasets/${ds}/runs`);
    expect(list.json.pagination.total).toBe(2);
  });

  it('a flaky target (30% 429 with Retry-After) still completes every item', async () => {
    let n = 0;
    const assay = await start({
      targets: [
        {
          id: 'flaky',
          type: 'function',
          run: (input: number) => {
            if (n++ % 10 < 3)
              throw Object.assign(new Error('rate limited'), { status: 429, headers: { 'retry-after': '0' } });
            return input;
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 100 }, (_, i) => ({ input: i })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'flaky',
      maxRetries: 10,
      maxConcurrency: 10,
    });
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 100, failedCount: 0 });
  });

  it('circuit breaker: after maxConsecutiveFailures failures in a row the run fails and the rest is skipped', async () => {
    let calls = 0;
    const assay = await start({
      targets: [
        {
          id: 'down',
          type: 'agent',
          run: () => {
            calls++;
            throw new Error('provider outage');
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 500 }, (_, i) => ({ input: i })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'down',
      maxConsecutiveFailures: 10,
      maxRetries: 0,
      maxConcurrency: 2,
    });
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run.status).toBe('failed');
    expect(run.error).toContain("target 'down'");
    expect(run.error).toContain('provider outage');
    expect(run.failedCount).toBeGreaterThanOrEqual(10);
    expect(run.failedCount + run.skippedCount).toBe(500);
    expect(run.skippedCount).toBeGreaterThan(400);
    expect(calls).toBeLessThan(20);
    // 0 disables the breaker
    const off = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'down',
      maxConsecutiveFailures: 0,
      maxRetries: 0,
      maxConcurrency: 50,
    });
    const offRun = await waitRun(assay, ds, off.json.runId);
    expect(offRun).toMatchObject({ status: 'failed', failedCount: 500, skippedCount: 0 });
    // retry runs the skipped items too
    expect((await call(assay, 'POST', `/datasets/${ds}/runs/${trig.json.runId}/retry`)).status).toBe(202);
  });

  it('fair sharing: a 10-item run triggered after a big run finishes while the big one is still running', async () => {
    const limited = gaugedTarget('limited', 6, 5);
    const assay = await start({ targets: [limited.target] });
    const big = await dataset(
      assay,
      Array.from({ length: 20_000 }, (_, i) => ({ input: i })),
    );
    const small = await dataset(
      assay,
      Array.from({ length: 10 }, (_, i) => ({ input: i })),
    );
    const bigRun = await call(assay, 'POST', `/datasets/${big}/runs`, { targetId: 'limited', maxConcurrency: 50 });
    await until(
      () => getRun(assay, big, bigRun.json.runId),
      (r) => r.succeededCount > 100,
    );
    const smallRun = await call(assay, 'POST', `/datasets/${small}/runs`, { targetId: 'limited', maxConcurrency: 50 });
    const done = await waitRun(assay, small, smallRun.json.runId, 30_000);
    expect(done.status).toBe('completed');
    const bigNow = await getRun(assay, big, bigRun.json.runId);
    expect(bigNow.status).toBe('running');
    expect(bigNow.succeededCount).toBeLessThan(20_000);
    expect(limited.peak).toBeLessThanOrEqual(6); // the target's limit holds across both runs
    await call(assay, 'POST', `/datasets/${big}/runs/${bigRun.json.runId}/cancel`);
    expect((await waitRun(assay, big, bigRun.json.runId)).status).toBe('cancelled');
  });
});
