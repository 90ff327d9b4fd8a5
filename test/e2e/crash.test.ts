/**
 * Crash and shutdown behaviour of the real `assay serve`, with real processes and real signals:
 * a run survives `kill -9` at several moments and a graceful SIGTERM, and ends with exactly one
 * stored result per (item, repetition).
 */
import { join } from 'node:path';
import { FINAL_RUN_STATUSES } from '@assay/core';
import {
  Driver,
  doneCount,
  FINAL_ITEM_STATUSES,
  finalItems,
  freePort,
  isFinal,
  itemStatusCounts,
  type Server,
  SLEEPY_RUN,
  sleepyConfig,
  startServer,
  tempDir,
  waitExit,
  waitFor,
  withDb,
} from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { describe, expect, it } from 'vitest';

cleanUpProcesses({ afterEach: true });

const ITEMS = 300;
const itemsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ input: { n: i, answer: `answer ${i}` }, groundTruth: `answer ${i}` }));

/** Polls the run quickly until at least `threshold` items are done; fails if it finishes first. */
async function waitProgress(d: Driver, datasetId: string, runId: string, threshold: number) {
  const run = await waitFor(
    () => d.getRun(datasetId, runId),
    (r) => doneCount(r) >= threshold || isFinal(r),
    { ms: 25_000, every: 10, what: `run ${runId} to reach ${threshold} done items` },
  );
  expect(FINAL_RUN_STATUSES, `run finished before ${threshold} items could be observed`).not.toContain(run.status);
  return run;
}

/** Checks a finished run's database rows: file intact, one final row per (item, repetition). */
function checkDatabase(dataDir: string, runId: string, expected: number) {
  withDb(dataDir, (db) => {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const count = (sql: string, ...args: unknown[]) =>
      Number(
        db
          .prepare(sql)
          .pluck()
          .get(...args),
      );
    expect(count('SELECT count(*) FROM run_items WHERE run_id = ?', runId)).toBe(expected);
    const placeholders = FINAL_ITEM_STATUSES.map(() => '?').join(', ');
    expect(
      count(
        `SELECT count(*) FROM run_items WHERE run_id = ? AND status NOT IN (${placeholders})`,
        runId,
        ...FINAL_ITEM_STATUSES,
      ),
    ).toBe(0);
    expect(count(`SELECT count(*) FROM run_items WHERE run_id = ? AND status = 'succeeded'`, runId)).toBe(expected);
    // One score per item for the one scorer, none duplicated.
    expect(count(`SELECT count(*) FROM scores WHERE run_id = ? AND scorer_id = 'exact'`, runId)).toBe(expected);
    expect(count(`SELECT count(*) FROM runs WHERE id = ? AND status = 'completed'`, runId)).toBe(1);
  });
}

/** Asserts the results endpoint has exactly one correct result per (item, repetition). */
async function checkResults(
  d: Driver,
  datasetId: string,
  runId: string,
  items: { id: string; input: any }[],
  repetitions: number,
) {
  const results = await d.allResults(datasetId, runId);
  const keys = results.map((r) => `${r.itemId}#${r.repetition}`);
  expect(results.length).toBe(items.length * repetitions);
  expect(new Set(keys).size).toBe(items.length * repetitions);
  const byItem = new Map<string, any[]>();
  for (const r of results) byItem.set(r.itemId, [...(byItem.get(r.itemId) ?? []), r]);
  const missing = items.filter((i) => (byItem.get(i.id)?.length ?? 0) !== repetitions).map((i) => i.id);
  expect(missing, 'items without exactly one result per repetition').toEqual([]);
  expect(byItem.size).toBe(items.length);
  for (const item of items) {
    const rs = byItem.get(item.id)!;
    expect(new Set(rs.map((r) => r.repetition)).size).toBe(repetitions);
    for (const r of rs) {
      expect(r.status).toBe('succeeded');
      expect(r.output).toBe(item.input.answer);
      expect(r.scores).toEqual([expect.objectContaining({ scorerId: 'exact', score: 1 })]);
    }
  }
}

/**
 * The run completes with all ITEMS run items succeeded and one correct result each; then a graceful
 * stop (SIGTERM, exit 0 within `exitMs`) and the file itself is checked.
 */
async function finishAndCheck(o: {
  d: Driver;
  server: Server;
  dataDir: string;
  ds: { id: string; items: { id: string; input: any }[] };
  runId: string;
  repetitions: number;
  exitMs: number;
}) {
  const run = await o.d.waitRunFinal(o.ds.id, o.runId, 30_000);
  expect(run.status).toBe('completed');
  expect(run.totalItems).toBe(ITEMS);
  expect(run.succeededCount).toBe(ITEMS);
  expect(run.failedCount).toBe(0);
  await checkResults(o.d, o.ds.id, o.runId, o.ds.items, o.repetitions);
  o.server.killGroup('SIGTERM');
  expect((await waitExit(o.server, o.exitMs)).code).toBe(0);
  checkDatabase(o.dataDir, o.runId, ITEMS);
}

/**
 * A fresh folder with the sleepy config (20 ms) and `assay serve` on it; `start()` starts it again
 * on the same port and data dir (so the driver keeps working across restarts).
 */
async function serveFresh(extra: string[] = []) {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const args = ['--config', sleepyConfig(dir, 20), '--data-dir', dataDir, '--host', '127.0.0.1', ...extra];
  const start = () => startServer(port, args, { cwd: dir });
  const server = await start();
  return { dataDir, server, start, d: new Driver(server) };
}

describe('assay serve: crash and shutdown', () => {
  it('a run survives kill -9 at several moments and ends with exactly one result per item', async () => {
    const { dataDir, start, d, ...first } = await serveFresh();
    let server = first.server;

    const ds = await d.seedDataset('crash', itemsOf(ITEMS));
    expect(ds.items).toHaveLength(ITEMS);
    const trig = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 8 });
    expect(trig.status).toBe('pending');
    const runId: string = trig.runId;

    const kill9 = async () => {
      server.killGroup('SIGKILL');
      const exit = await waitExit(server, 10_000);
      expect(exit.signal).toBe('SIGKILL');
    };

    // Moment 1: right after the trigger answered (the run is pending or being planned).
    await kill9();
    server = await start();

    // Moments 2..4: with a growing share of the items done.
    let doneBefore = 0;
    for (const threshold of [25, 100, 175]) {
      const seen = await waitProgress(d, ds.id, runId, threshold);
      expect(seen.status).toBe('running');
      await kill9();
      // What the killed process left behind: some but not all items done, never fewer than before.
      const counts = itemStatusCounts(dataDir, runId);
      const done = finalItems(counts);
      expect(done, `done items at kill (threshold ${threshold}): ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(
        threshold,
      );
      expect(done).toBeLessThan(ITEMS);
      expect(done).toBeGreaterThanOrEqual(doneBefore);
      expect(counts.failed ?? 0).toBe(0);
      doneBefore = done;
      server = await start();
    }

    await finishAndCheck({ d, server, dataDir, ds, runId, repetitions: 1, exitMs: 20_000 });
  }, 90_000);

  it('SIGTERM mid-run exits 0, hands the run back, and a restart completes it exactly once', async () => {
    const shutdownTimeout = 5_000;
    const { dataDir, start, d, ...first } = await serveFresh(['--shutdown-timeout', String(shutdownTimeout)]);
    let server = first.server;

    // 150 items × 2 repetitions = 300 run items.
    const ds = await d.seedDataset('sigterm', itemsOf(ITEMS / 2));
    const trig = await d.startRun(ds.id, {
      ...SLEEPY_RUN,
      maxConcurrency: 8,
      repetitions: 2,
    });
    const runId: string = trig.runId;

    await waitProgress(d, ds.id, runId, 60);
    server.killGroup('SIGTERM');
    // Deadline: the shutdown timeout plus the hard-stop grace and process teardown.
    const exit = await waitExit(server, shutdownTimeout + 8_000);
    expect(exit, server.output().slice(-2000)).toEqual({ code: 0, signal: null });

    // The drained process stored what it finished and left the rest for the next start.
    const counts = itemStatusCounts(dataDir, runId);
    expect(finalItems(counts), JSON.stringify(counts)).toBeGreaterThanOrEqual(60);
    expect(finalItems(counts), JSON.stringify(counts)).toBeLessThan(ITEMS);
    expect(counts.failed ?? 0).toBe(0);
    expect(counts.cancelled ?? 0).toBe(0);
    withDb(dataDir, (db) => {
      expect(db.prepare('SELECT status FROM runs WHERE id = ?').pluck().get(runId)).toBe('running');
    });

    server = await start();
    await finishAndCheck({ d, server, dataDir, ds, runId, repetitions: 2, exitMs: shutdownTimeout + 8_000 });
  }, 90_000);

  it('a run whose server is killed again and again still ends in a final state', async () => {
    // The run's queue job allows 10 deliveries; every kill -9 after a claim uses one up. After
    // the 10th crash the run must still end (failed with a reason, or completed), never stay
    // `running` with no job left to finish it.
    const { dataDir, start, d, ...first } = await serveFresh();
    let server = first.server;
    const ds = await d.seedDataset('crash-loop', itemsOf(ITEMS));
    const { runId } = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 2 });

    let done = 0;
    for (let kill = 1; kill <= 10; kill++) {
      // Kill as soon as this process has claimed the run and stored something.
      const seen = await waitProgress(d, ds.id, runId, done + 1);
      done = doneCount(seen);
      server.killGroup('SIGKILL');
      expect((await waitExit(server, 10_000)).signal).toBe('SIGKILL');
      server = await start();
    }

    // Waits for a final state. Shortcut: when the embedded queue holds no live job for the run for
    // 2 s while the run is not final, nothing will ever finish it; stop waiting and say so.
    const liveJobs = () => {
      try {
        return withDb(dataDir, (db) =>
          Number(
            db
              .prepare(`SELECT count(*) FROM assay_jobs WHERE status IN ('queued', 'active') AND payload LIKE ?`)
              .pluck()
              .get(`%${runId}%`),
          ),
        );
      } catch {
        return null; // another queue layout: rely on the deadline alone
      }
    };
    let orphanedSince: number | null = null;
    const run = await waitFor(
      async () => {
        const r = await d.getRun(ds.id, runId);
        if (isFinal(r) || liveJobs() !== 0) orphanedSince = null;
        else orphanedSince ??= Date.now();
        return { ...r, orphaned: orphanedSince !== null && Date.now() - orphanedSince > 2_000 };
      },
      (r) => isFinal(r) || r.orphaned,
      { ms: 10_000, every: 100, what: `run ${runId} to reach a final state after 10 crashes` },
    );
    const outcome = run.orphaned
      ? `still '${run.status}' (${doneCount(run)}/${run.totalItems} done) with no queued or active job left to finish it`
      : run.status;
    expect(outcome).toMatch(/^(completed|failed)$/);
    if (run.status === 'failed') expect(run.error).toEqual(expect.any(String));
  }, 120_000);
});
