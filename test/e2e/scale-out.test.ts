/**
 * The scale-out deployment as real processes: one `assay serve --no-worker` and three
 * `assay worker`s on PostgreSQL + BullMQ/Redis. One worker is killed with SIGKILL mid-run.
 */

import { doneCount, REDIS_URL, runAssay, SLEEPY_RUN, waitExit, waitFor, workerPid } from '@assay/testkit';
import { describe, expect, it } from 'vitest';
import { deployment, expectOneAnswerPerItem, producingWorker, scaleOutSuite } from './deployment.js';

const { up, freshDatabase } = await scaleOutSuite('scale-out e2e', 'scale');

describe.skipIf(!up)('scale-out: 1 API + 3 workers on PostgreSQL and Redis', () => {
  it('a worker killed with SIGKILL mid-run: the run completes, one result per item, several workers produced results', async () => {
    const dep = deployment({
      ASSAY_DATABASE_URL: await freshDatabase(),
      ASSAY_REDIS_URL: REDIS_URL,
      ASSAY_REDIS_PREFIX: `assay-e2e-${process.pid}-${Date.now()}`,
    });

    // PostgreSQL without Redis is refused with a message that says what to set.
    const half = await runAssay(['worker', '--config', dep.config], {
      cwd: dep.dir,
      env: { ASSAY_DATABASE_URL: dep.env.ASSAY_DATABASE_URL },
    });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('ASSAY_REDIS_URL');

    const { migrated, server, d, workers } = await dep.start(3, ['--lease-ms', '2000', '--concurrency', '4']);
    expect(migrated.stdout).toContain('postgres');

    const ITEMS = 2_000;
    const ds = await d.seedAnswers('scale', ITEMS);

    // Live progress through the API process, which runs no worker: the events come over Redis.
    const sse = new AbortController();
    let events = '';
    const trig = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 16 });
    expect(trig.status).toBe('pending');
    const runId: string = trig.runId;
    void fetch(`${server.base}/api/datasets/${ds.id}/runs/${runId}/events`, { signal: sse.signal })
      .then(async (r) => {
        for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) events += Buffer.from(chunk);
      })
      .catch(() => {});

    // Kill, mid-run, a worker that has produced results.
    const victim = await producingWorker(d, ds.id, runId, workers, ITEMS / 5); // a fifth of the run
    expect(doneCount(await d.getRun(ds.id, runId))).toBeLessThan(ITEMS);
    victim.killGroup('SIGKILL');
    expect((await waitExit(victim, 10_000)).signal).toBe('SIGKILL');

    const run = await d.waitRunFinal(ds.id, runId, 90_000);
    expect(run.status).toBe('completed');
    expect(run.succeededCount).toBe(ITEMS);
    expect(run.failedCount).toBe(0);

    const results = await d.allResults(ds.id, runId);
    expectOneAnswerPerItem(results, ITEMS);
    const byWorker = new Map<number, number>();
    for (const r of results) byWorker.set(workerPid(r.workerId), (byWorker.get(workerPid(r.workerId)) ?? 0) + 1);
    expect(byWorker.size).toBeGreaterThanOrEqual(2);
    for (const pid of byWorker.keys()) expect(workers.map((w) => w.pid)).toContain(pid);

    await waitFor(
      async () => events,
      (e) => e.includes('run.progress') && e.includes('completed'),
      { what: 'progress and the final status over SSE from the API process', ms: 10_000 },
    );
    sse.abort();
  }, 180_000);
});
