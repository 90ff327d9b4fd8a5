import { type Clock, slotConcurrency, TargetError } from '@assay/core';
import { describe, expect, it } from 'vitest';
import { call, dataset, results, until, useAssay, waitRun } from './helpers.js';

const start = useAssay();

describe('run engine on the embedded deployment', () => {
  it('trigger returns 202 pending before the target is called; polling sees running with growing counts, then completed', async () => {
    let calls = 0;
    const gates: (() => void)[] = [];
    const assay = await start({
      targets: [
        {
          id: 'latched',
          type: 'agent',
          run: async (input: { n: number }) => {
            calls++;
            await new Promise<void>((r) => gates.push(r));
            return `answer ${input.n}`;
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 20 }, (_, n) => ({ input: { n }, groundTruth: `answer ${n}` })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'latched',
      scorerIds: ['exact-match'],
      maxConcurrency: 4,
    });
    expect(trig.status).toBe(202);
    expect(trig.json).toMatchObject({ status: 'pending', totalItems: 20, datasetVersion: 1 });
    expect(calls).toBe(0);
    const runId = trig.json.runId;
    const get = async () => (await call(assay, 'GET', `/datasets/${ds}/runs/${runId}`)).json;
    const running = await until(get, (r) => r.status === 'running' && gates.length === 4);
    expect(running.succeededCount).toBe(0);
    expect(calls).toBe(4); // bounded by maxConcurrency while the latch is closed
    const seen: number[] = [];
    while (seen.length === 0 || seen[seen.length - 1] < 20) {
      for (const open of gates.splice(0)) open();
      const r = await until(get, (x) => x.succeededCount > (seen[seen.length - 1] ?? 0));
      seen.push(r.succeededCount);
      if (r.succeededCount < 20) expect(r.status).toBe('running');
    }
    expect(seen.length).toBeGreaterThan(2); // counts grew in steps, observed while running
    const done = await waitRun(assay, ds, runId);
    expect(done).toMatchObject({
      status: 'completed',
      totalItems: 20,
      succeededCount: 20,
      failedCount: 0,
      error: null,
    });
    expect(done.startedAt).toBeTruthy();
    expect(done.completedAt).toBeTruthy();
    expect(done.summary.scorers).toEqual([
      { scorerId: 'exact-match', mean: 1, median: 1, passRate: 1, count: 20, errors: 0 },
    ]);
    expect(done.summary.latencyMs.p50).toBeGreaterThanOrEqual(0);
  });

  it('a throwing target fails its item only; a hung target times out with an aborted signal', async () => {
    let sawAbort = false;
    const assay = await start({
      targets: [
        {
          id: 't',
          type: 'function',
          run: async (input: { n: number }, ctx) => {
            if (input.n === 1) throw new TargetError('bad item', { retryable: false });
            if (input.n === 2)
              return new Promise((_, reject) =>
                ctx.signal.addEventListener('abort', () => {
                  sawAbort = true;
                  reject(new Error('aborted by signal'));
                }),
              );
            if (input.n === 3) return new Promise(() => {}); // ignores its signal entirely
            return input.n;
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 6 }, (_, n) => ({ input: { n } })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 't',
      itemTimeoutMs: 100,
      maxRetries: 0,
    });
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 3, failedCount: 3 });
    const rs = await results(assay, ds, trig.json.runId);
    const byN = new Map(rs.map((r) => [r.input.n, r]));
    expect(byN.get(1).error).toMatchObject({ message: 'bad item', retryable: false });
    expect(byN.get(2).error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(byN.get(3).error).toMatchObject({ code: 'TIMEOUT' });
    expect(sawAbort).toBe(true);
    expect(byN.get(0)).toMatchObject({ status: 'succeeded', output: 0, error: null });
  });

  it('retries retryable errors with exponential backoff (honouring Retry-After) and never retries the rest', async () => {
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    };
    const calls = new Map<string, number>();
    const assay = await start(
      {
        targets: [
          {
            id: 'flaky',
            type: 'function',
            run: async (input: { kind: string }, ctx) => {
              calls.set(input.kind, (calls.get(input.kind) ?? 0) + 1);
              if (input.kind === 'recovers' && ctx.attempt < 3)
                throw Object.assign(new Error('unavailable'), { status: 503 });
              if (input.kind === 'rate-limited' && ctx.attempt < 2)
                throw Object.assign(new Error('slow down'), { status: 429, headers: { 'retry-after': '7' } });
              if (input.kind === 'network' && ctx.attempt < 2)
                throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
              if (input.kind === 'bad-request') throw Object.assign(new Error('invalid'), { status: 400 });
              if (input.kind === 'always-503') throw Object.assign(new Error('down'), { status: 503 });
              return 'ok';
            },
          },
        ],
      },
      { clock, retryBaseMs: 100 },
    );
    const kinds = ['recovers', 'rate-limited', 'network', 'bad-request', 'always-503'];
    const ds = await dataset(
      assay,
      kinds.map((kind) => ({ input: { kind } })),
    );
    // maxConcurrency 1 keeps the recorded sleeps in item order
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'flaky',
      maxRetries: 2,
      maxConcurrency: 1,
    });
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 3, failedCount: 2 });
    expect(Object.fromEntries(calls)).toEqual({
      recovers: 3,
      'rate-limited': 2,
      network: 2,
      'bad-request': 1,
      'always-503': 3,
    });
    const rs = new Map((await results(assay, ds, trig.json.runId)).map((r) => [r.input.kind, r]));
    expect(rs.get('recovers')).toMatchObject({ status: 'succeeded', attempt: 3 });
    expect(rs.get('always-503')).toMatchObject({
      status: 'failed',
      attempt: 3,
      error: { code: 'HTTP_503', retryable: true },
    });
    expect(rs.get('bad-request')).toMatchObject({ status: 'failed', attempt: 1, error: { retryable: false } });
    // Equal-jitter backoff with random() = 0.5: 0.75 × base × 2^(try-1); Retry-After wins when longer.
    const itemSleeps = sleeps.filter((ms) => ms >= 50);
    expect(itemSleeps).toEqual(expect.arrayContaining([75, 150, 7000]));
    expect(itemSleeps.filter((ms) => ms === 7000)).toHaveLength(1);
  });

  it('isolates scorer errors to their own score', async () => {
    const assay = await start({
      targets: [{ id: 'echo', type: 'function', run: (input) => input }],
      scorers: [
        {
          id: 'throws',
          score: () => {
            throw new Error('scorer exploded');
          },
        },
        { id: 'out-of-range', score: () => 2 },
        { id: 'fine', score: ({ output }) => ({ score: output === 'a' ? 1 : 0, reason: 'compared' }) },
      ],
    });
    const ds = await dataset(assay, [
      { input: 'a', groundTruth: 'a' },
      { input: 'b', groundTruth: 'x' },
    ]);
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'echo',
      scorerIds: ['throws', 'out-of-range', 'fine', 'exact-match', 'contains'],
    });
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 2 });
    const rs = await results(assay, ds, trig.json.runId);
    const a = rs.find((r) => r.input === 'a');
    const scores = Object.fromEntries(a.scores.map((s: any) => [s.scorerId, s]));
    expect(scores.throws).toEqual({ scorerId: 'throws', score: null, reason: null, error: 'scorer exploded' });
    expect(scores['out-of-range'].error).toContain('expected a number in [0, 1]');
    expect(scores.fine).toEqual({ scorerId: 'fine', score: 1, reason: 'compared', error: null });
    expect(scores['exact-match'].score).toBe(1);
    const summary = Object.fromEntries(run.summary.scorers.map((s: any) => [s.scorerId, s]));
    expect(summary.throws).toMatchObject({ count: 0, errors: 2, mean: null });
    expect(summary.fine).toMatchObject({ count: 2, errors: 0, mean: 0.5, passRate: 0.5 });
    expect(summary['exact-match']).toMatchObject({ mean: 0.5 });
  });

  it('pins the dataset version: items changed mid-run do not change what the run sees', async () => {
    const gates: (() => void)[] = [];
    const seenInputs: unknown[] = [];
    const assay = await start({
      targets: [
        {
          id: 'slow',
          type: 'function',
          run: async (input) => {
            seenInputs.push(input);
            await new Promise<void>((r) => gates.push(r));
            return input;
          },
        },
      ],
    });
    const ds = await dataset(
      assay,
      Array.from({ length: 10 }, (_, n) => ({ input: `v1-${n}` })),
    );
    const items = (await call(assay, 'GET', `/datasets/${ds}/items?perPage=100`)).json.items as any[];
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'slow', maxConcurrency: 2 });
    expect(trig.json.datasetVersion).toBe(1);
    await until(
      async () => gates.length,
      (n) => n === 2,
    );
    // Mid-run: update one, delete one, add one.
    await call(assay, 'PATCH', `/datasets/${ds}/items/${items[9].id}`, { input: 'v2-changed' });
    await call(assay, 'DELETE', `/datasets/${ds}/items/${items[8].id}`);
    await call(assay, 'POST', `/datasets/${ds}/items`, { input: 'v4-new' });
    const release = setInterval(() => {
      for (const g of gates.splice(0)) g();
    }, 5);
    const run = await waitRun(assay, ds, trig.json.runId);
    clearInterval(release);
    expect(run).toMatchObject({ status: 'completed', totalItems: 10, succeededCount: 10, datasetVersion: 1 });
    expect(new Set(seenInputs)).toEqual(new Set(Array.from({ length: 10 }, (_, n) => `v1-${n}`)));
    const rs = await results(assay, ds, trig.json.runId);
    expect(rs.map((r) => r.output).sort()).toEqual(Array.from({ length: 10 }, (_, n) => `v1-${n}`).sort());
    // A new run of the latest version sees the changes.
    const latest = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'slow' });
    expect(latest.json).toMatchObject({ datasetVersion: 4, totalItems: 10 });
    const release2 = setInterval(() => {
      for (const g of gates.splice(0)) g();
    }, 5);
    await waitRun(assay, ds, latest.json.runId);
    clearInterval(release2);
    const outs = (await results(assay, ds, latest.json.runId)).map((r) => r.output);
    expect(outs).toContain('v2-changed');
    expect(outs).toContain('v4-new');
    expect(outs).not.toContain('v1-9');
    // An explicit older version can still be run.
    const old = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'slow', version: 1 });
    expect(old.json).toMatchObject({ status: 'pending', datasetVersion: 1, totalItems: 10 });
  });

  it('fails the run with a clear error when every item fails, or when it cannot start', async () => {
    const assay = await start({
      targets: [
        {
          id: 'broken',
          type: 'workflow',
          run: () => {
            throw new Error('always broken');
          },
        },
      ],
    });
    const ds = await dataset(assay, [{ input: 1 }, { input: 2 }]);
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'broken' });
    const run = await waitRun(assay, ds, trig.json.runId);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('all 2 items failed');
    expect(run.error).toContain('always broken');

    // A worker whose config lacks the run's target fails it at start with a reason.
    await assay.storage.transaction((tx) =>
      tx.createRun({
        id: 'run_orphan',
        datasetId: ds,
        datasetVersion: 1,
        name: null,
        targetType: 'agent',
        targetId: 'gone',
        scorerIds: [],
        options: { maxConcurrency: 1, itemTimeoutMs: 1000, maxRetries: 0, repetitions: 1, maxConsecutiveFailures: 0 },
        metadata: null,
        totalItems: 2,
      }),
    );
    await assay.queue.enqueue('run', { runId: 'run_orphan' });
    const orphan = await waitRun(assay, ds, 'run_orphan');
    expect(orphan.status).toBe('failed');
    expect(orphan.error).toContain("target 'gone' is not configured");
  });

  it('runs repetitions and streams progress over Server-Sent Events', async () => {
    const assay = await start({ targets: [{ id: 'echo', type: 'function', run: (i) => i }] });
    const ds = await dataset(
      assay,
      Array.from({ length: 5 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'echo',
      repetitions: 3,
      scorerIds: ['exact-match'],
    });
    expect(trig.json.totalItems).toBe(15);
    const res = await assay.app.request(`/api/datasets/${ds}/runs/${trig.json.runId}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text(); // the stream ends when the run reaches a final state
    expect(text).toContain('event: run\n');
    expect(text).toMatch(/"status":"completed"/);
    const rs = await results(assay, ds, trig.json.runId);
    expect(rs).toHaveLength(15);
    expect(new Set(rs.map((r) => `${r.itemId}:${r.repetition}`)).size).toBe(15);
    expect(new Set(rs.map((r) => r.repetition))).toEqual(new Set([0, 1, 2]));
  });

  it('a run split into several slots never has more than maxConcurrency items in flight', async () => {
    expect([0, 1, 2, 3].map((slot) => slotConcurrency(10, 4, slot))).toEqual([3, 3, 2, 2]);
    expect([0, 1, 2, 3].map((slot) => slotConcurrency(200, 4, slot))).toEqual([50, 50, 50, 50]);
    expect(slotConcurrency(1, 4, 0)).toBe(1);
    let inFlight = 0;
    let peak = 0;
    const assay = await start(
      {
        targets: [
          {
            id: 'counted',
            type: 'function',
            run: async (input: { n: number }) => {
              peak = Math.max(peak, ++inFlight);
              await new Promise((r) => setTimeout(r, 5));
              inFlight--;
              return input.n;
            },
          },
        ],
      },
      { slotsPerRun: 4, workerConcurrency: 8 },
    );
    const ds = await dataset(
      assay,
      Array.from({ length: 60 }, (_, n) => ({ input: { n } })),
    );
    for (const maxConcurrency of [1, 3, 6]) {
      peak = 0;
      const t = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'counted', maxConcurrency });
      const done = await waitRun(assay, ds, t.json.runId);
      expect(done).toMatchObject({ status: 'completed', succeededCount: 60 });
      expect(peak, `maxConcurrency ${maxConcurrency}`).toBeLessThanOrEqual(maxConcurrency);
    }
    expect(peak).toBeGreaterThan(1); // the slots did share the run
  });
});
