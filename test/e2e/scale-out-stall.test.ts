/**
 * A worker that hangs while alive: one of three `assay worker`s (PostgreSQL + BullMQ/Redis) is
 * stopped with SIGSTOP mid-run for much longer than its lease. Whatever it was doing — a
 * transaction half done, a row lock granted while it was stopped — it must not hold up the
 * others: the run keeps making progress and completes while the worker is still stopped, and
 * once it resumes, its late writes change nothing (exactly one result per item).
 */

import {
  Driver,
  doneCount,
  dropDatabase,
  freePort,
  freshDatabase,
  killAllChildren,
  REDIS_URL,
  removeTempDirs,
  runAssay,
  servicesUp,
  sleep,
  sleepyConfig,
  startServer,
  startWorkers,
  tempDir,
  waitFor,
  workerPid,
} from '@assay/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const up = await servicesUp('scale-out stall e2e', { redis: true, postgres: true });
const DB = `assay_e2e_stall_${process.pid}`;

afterAll(async () => {
  await killAllChildren();
  removeTempDirs();
  if (up) await dropDatabase(DB);
});

/** How long the victim stays stopped: many leases (2 s), and far longer than the rest of the run takes. */
const PAUSE_MS = 20_000;

describe.skipIf(!up)('scale-out: a worker stopped with SIGSTOP for 10 leases', () => {
  it('the other workers finish the run while it is stopped; after SIGCONT, still one result per item', async () => {
    const databaseUrl = await freshDatabase(DB);
    const dir = tempDir();
    const config = sleepyConfig(dir, 20);
    const env = {
      ASSAY_DATABASE_URL: databaseUrl,
      ASSAY_REDIS_URL: REDIS_URL,
      ASSAY_REDIS_PREFIX: `assay-e2e-stall-${process.pid}-${Date.now()}`,
    };
    const migrated = await runAssay(['migrate'], { cwd: dir, env });
    expect(migrated.code, migrated.output).toBe(0);

    const port = await freePort();
    const server = await startServer(port, ['--no-worker', '--config', config], { cwd: dir, env });
    const d = new Driver(server);
    const workerArgs = ['worker', '--config', config, '--lease-ms', '2000', '--reconcile-ms', '1000'];
    const workers = await startWorkers(3, workerArgs, { cwd: dir, env });
    const logs = () =>
      workers.map((w, i) => `--- worker ${i} (pid ${w.pid}) ---\n${w.output().slice(-4000)}`).join('\n');

    const ITEMS = 1_000;
    const ds = await d.seedDataset(
      'stall',
      Array.from({ length: ITEMS }, (_, i) => ({ input: { answer: `a${i}` }, groundTruth: `a${i}` })),
    );
    const trig = await d.triggerRun(ds.id, {
      targetId: 'sleepy',
      scorerIds: ['exact'],
      maxConcurrency: 16,
    });
    expect(d.lastStatus).toBe(202);
    const runId: string = trig.runId;

    // Stop, mid-run, a worker that is producing results (so it holds claims and writes outcomes).
    await waitFor(
      () => d.getRun(ds.id, runId),
      (r) => doneCount(r) >= ITEMS / 10,
      { what: 'a tenth of the run', ms: 60_000, every: 25 },
    );
    const first = await d.listRunResults(ds.id, runId, { page: 0, perPage: 100 });
    const producing = new Set(first.results.map((r) => workerPid(r.workerId)));
    const victim = workers.find((w) => producing.has(w.pid)) ?? workers[0];
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
    expect(results).toHaveLength(ITEMS);
    expect(new Set(results.map((r) => `${r.itemId}:${r.repetition}`)).size).toBe(ITEMS);
    expect(
      results.every((r) => r.status === 'succeeded' && r.output === (r.input as { answer?: string } | null)?.answer),
    ).toBe(true);
  }, 180_000);
});
