/**
 * The liveness invariant (issue 10): every `pending` or `running` run reaches a final state in
 * bounded time, whatever happened to its jobs; and planning a big run never holds the event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunJobHandlers, RUN_JOB, systemClock } from '@assay/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { call, dataset, getRun, results, until, useAssay, waitRun } from './helpers.js';

const start = useAssay();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const echo = { targets: [{ id: 'echo', type: 'function' as const, run: async (input: unknown) => input }] };

describe('liveness', () => {
  it('a running run whose job is gone and whose item was lost three times is finished by the sweeper', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-liveness-'));
    dirs.push(dataDir);
    const assay = await start(echo, { reconcileMs: 200, dataDir });
    const ds = await dataset(assay, [{ input: 'x', groundTruth: 'x' }]);
    const run = (await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: ['exact-match'] }))
      .json;
    await waitRun(assay, ds, run.runId);
    // The state the issue found on main: run `running`, its only item `queued` with three lost
    // claims, and no job left in the queue table. Written by a second connection, as a crash would leave it.
    const db = new Database(join(dataDir, 'assay.db'));
    db.prepare(`update runs set status = 'running', completed_at = null, summary = null where id = ?`).run(run.runId);
    db.prepare(
      `update run_items set status = 'queued', lost_claims = 3, output = null, error = null, completed_at = null where run_id = ?`,
    ).run(run.runId);
    db.prepare(`delete from scores where run_id = ?`).run(run.runId);
    db.prepare(`delete from assay_jobs`).run();
    db.close();
    const final = await until(
      () => getRun(assay, ds, run.runId),
      (r) => r.status !== 'running',
      20_000,
    );
    expect(final.status).toBe('failed');
    const [r] = await results(assay, ds, run.runId);
    expect(r).toMatchObject({ status: 'failed', error: { code: 'WORKER_LOST' } });
  });

  it("a failed run's error quotes a huge item error cut short", async () => {
    const huge = {
      targets: [
        {
          id: 'huge',
          type: 'function' as const,
          run: async () => {
            throw new Error('x'.repeat(2_000_000));
          },
        },
      ],
    };
    const assay = await start(huge);
    const ds = await dataset(assay, [{ input: 1 }, { input: 2 }]);
    const run = (await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'huge', scorerIds: [], maxRetries: 0 }))
      .json;
    const final = await waitRun(assay, ds, run.runId);
    expect(final.status).toBe('failed');
    expect(final.error).toMatch(/^all 2 items failed; first error: x{500}/);
    expect(final.error.length).toBeLessThan(1_000);
  });

  it('the planner lets timers run between its pages', async () => {
    const assay = await start(echo, { worker: false });
    const ds = await dataset(
      assay,
      Array.from({ length: 3_000 }, (_, i) => ({ input: i })),
    );
    const run = (await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: [] })).json;
    const jobs = createRunJobHandlers({
      storage: assay.storage,
      queue: assay.queue,
      registry: assay.registry,
      events: assay.events,
      clock: systemClock,
      planPageSize: 100,
    });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await jobs.handlers[RUN_JOB]({
        id: 'job_test',
        name: RUN_JOB,
        payload: { runId: run.runId },
        attempt: 1,
        maxAttempts: 1,
        signal: new AbortController().signal,
        stopping: new AbortController().signal,
        heartbeat: async () => {},
      });
    } finally {
      clearInterval(timer);
    }
    expect((await getRun(assay, ds, run.runId)).totalItems).toBe(3_000);
    // 30 pages: on today's code the loop awaited only microtasks, and no timer ran until the end.
    expect(ticks).toBeGreaterThan(10);
  });
});
