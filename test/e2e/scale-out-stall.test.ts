/**
 * A worker that hangs while alive: one of three `assay worker`s (PostgreSQL + BullMQ/Redis) is
 * stopped with SIGSTOP mid-run for much longer than its lease. Whatever it was doing — a
 * transaction half done, a row lock granted while it was stopped — it must not hold up the
 * others: the run keeps making progress and completes while the worker is still stopped, and
 * once it resumes, its late writes change nothing (exactly one result per item).
 */

import { doneCount, REDIS_URL, SLEEPY_RUN, sleep, waitFor } from '@assay/testkit';
import { describe, expect, it } from 'vitest';
import { deployment, expectOneAnswerPerItem, producingWorker, scaleOutSuite } from './deployment.js';

const { up, freshDatabase } = await scaleOutSuite('scale-out stall e2e', 'stall');

/** How long the victim stays stopped: many leases (2 s), and far longer than the rest of the run takes. */
const PAUSE_MS = 20_000;

describe.skipIf(!up)('scale-out: a worker stopped with SIGSTOP for 10 leases', () => {
  it('the other workers finish the run while it is stopped; after SIGCONT, still one result per item', async () => {
    const { d, workers } = await deployment({
      ASSAY_DATABASE_URL: await freshDatabase(),
      ASSAY_REDIS_URL: REDIS_URL,
      ASSAY_REDIS_PREFIX: `assay-e2e-stall-${process.pid}-${Date.now()}`,
    }).start(3, ['--lease-ms', '2000', '--reconcile-ms', '1000']);
    const logs = () =>
      workers.map((w, i) => `--- worker ${i} (pid ${w.pid}) ---\n${w.output().slice(-4000)}`).join('\n');

    const ITEMS = 1_000;
    const ds = await d.seedAnswers('stall', ITEMS);
    const { runId } = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 16 });

    // Stop, mid-run, a worker that is producing results (so it holds claims and writes outcomes).
    const victim = await producingWorker(d, ds.id, runId, workers, ITEMS / 10); // a tenth of the run
    victim.killGroup('SIGSTOP');
    const stoppedAt = Date.now();
    const atStop = doneCount(await d.getRun(ds.id, runId));
    expect(atStop).toBeLessThan(ITEMS); // the pause must hit a live run

    let run: any;
    try {
      // Progress during the pause: more results stored after a few leases…
      await waitFor(
        () => d.getRun(ds.id, runId),
        (r) => doneCount(r) >= Math.min(ITEMS, atStop + 100),
        { what: 'progress while a worker is stopped', ms: PAUSE_MS / 2, every: 100 },
      );
      // …and the whole run completed, all before the stopped worker is resumed.
      run = await d.waitRunFinal(ds.id, runId, Math.max(1_000, stoppedAt + PAUSE_MS - Date.now()));
      expect(victim.isRunning()).toBe(true); // still stopped, not dead
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs()}`);
    } finally {
      const left = stoppedAt + PAUSE_MS - Date.now();
      if (left > 0) await sleep(left); // a full pause, so every lease and lock of the victim has lapsed
      victim.killGroup('SIGCONT');
    }
    expect(run.status).toBe('completed');
    expect(run.succeededCount).toBe(ITEMS);
    expect(run.failedCount).toBe(0);

    // The resumed worker finds its claims taken over: whatever it writes now must change nothing.
    await sleep(5_000);
    expect(victim.isRunning(), logs()).toBe(true);
    const after = await d.getRun(ds.id, runId);
    expect(after.status).toBe('completed');
    expect(after.succeededCount).toBe(ITEMS);
    expect(after.failedCount).toBe(0);
    const results = await d.allResults(ds.id, runId);
    expectOneAnswerPerItem(results, ITEMS);
  }, 180_000);
});
