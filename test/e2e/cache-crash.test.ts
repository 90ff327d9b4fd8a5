/**
 * The target output cache under `kill -9` of the real `assay serve`: a cache entry is written in
 * the transaction of its result, so whenever the process dies, every entry has its stored result
 * and every stored result has its entry. After the run completes, an identical run calls the
 * target zero times (counted by the target, in a file its worker threads append to).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINAL_RUN_STATUSES } from '@assay/core';
import {
  Driver,
  doneCount,
  freePort,
  isFinal,
  SLEEP_SOURCE,
  startServer,
  tempDir,
  waitExit,
  waitFor,
  withDb,
  writeFile,
} from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { describe, expect, it } from 'vitest';

cleanUpProcesses({ afterEach: true });

const ITEMS = 240;

/** A versioned target that sleeps 20 ms and appends one line per call to `calls.log`. */
function countingConfig(dir: string): string {
  const log = JSON.stringify(join(dir, 'calls.log'));
  return writeFile(
    dir,
    'assay.config.mjs',
    `import { appendFileSync } from 'node:fs';
${SLEEP_SOURCE}export default {
  targets: [
    {
      id: 'sleepy', type: 'function', version: '1',
      run: async (input, ctx) => { appendFileSync(${log}, ctx.item.id + '\\n'); await sleep(20, ctx.signal); return input.answer; },
    },
  ],
  scorers: [{ id: 'exact', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) }],
};
`,
  );
}

const callCount = (dir: string) => {
  try {
    return readFileSync(join(dir, 'calls.log'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

/**
 * The cache and the results of `runId` agree, read straight from the file: each entry the run
 * wrote has a succeeded result with the same output, and each succeeded result whose target was
 * called has its entry. Returns the number of entries.
 */
function checkConsistent(dataDir: string, runId: string): number {
  return withDb(dataDir, (db) => {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const count = (sql: string) => Number(db.prepare(sql).pluck().get(runId));
    const entries = count('SELECT count(*) FROM target_cache WHERE run_id = ?');
    const orphans = count(`SELECT count(*) FROM target_cache c WHERE c.run_id = ? AND NOT EXISTS (
      SELECT 1 FROM run_items ri WHERE ri.run_id = c.run_id AND ri.item_id = c.item_id AND ri.repetition = c.repetition
        AND ri.status = 'succeeded' AND ri.cached_from IS NULL AND ri.output = c.output)`);
    const uncached = count(`SELECT count(*) FROM run_items ri WHERE ri.run_id = ? AND ri.status = 'succeeded'
      AND ri.cached_from IS NULL AND NOT EXISTS (SELECT 1 FROM target_cache c
        WHERE c.run_id = ri.run_id AND c.item_id = ri.item_id AND c.repetition = ri.repetition)`);
    expect({ orphans, uncached }).toEqual({ orphans: 0, uncached: 0 });
    expect(count(`SELECT count(*) FROM run_items WHERE run_id = ? AND status = 'failed'`)).toBe(0);
    return entries;
  });
}

describe('assay serve: the output cache survives kill -9', () => {
  it('kill -9 mid-run leaves results and cache consistent; the rerun calls the target zero times', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const args = ['--config', countingConfig(dir), '--data-dir', dataDir, '--host', '127.0.0.1'];
    const start = () => startServer(port, args, { cwd: dir });
    let server = await start();
    const d = new Driver(server);
    const ds = await d.seedDataset(
      'cached-crash',
      Array.from({ length: ITEMS }, (_, i) => ({ input: { answer: `answer ${i}` }, groundTruth: `answer ${i}` })),
    );
    const body = { targetId: 'sleepy', scorerIds: ['exact'], maxConcurrency: 8, cache: 'readwrite' as const };
    const runId = (await d.startRun(ds.id, body)).runId;

    let entriesBefore = 0;
    for (const threshold of [40, 140]) {
      const seen = await waitFor(
        () => d.getRun(ds.id, runId),
        (r) => doneCount(r) >= threshold || isFinal(r),
        { ms: 25_000, every: 10, what: `run ${runId} to reach ${threshold} done items` },
      );
      expect(FINAL_RUN_STATUSES, 'the run finished before it could be killed').not.toContain(seen.status);
      server.killGroup('SIGKILL');
      expect((await waitExit(server, 10_000)).signal).toBe('SIGKILL');
      const entries = checkConsistent(dataDir, runId);
      expect(entries).toBeGreaterThanOrEqual(threshold);
      expect(entries).toBeLessThan(ITEMS);
      expect(entries).toBeGreaterThanOrEqual(entriesBefore);
      entriesBefore = entries;
      server = await start();
    }

    const done = await d.waitRunFinal(ds.id, runId, 30_000);
    expect(done).toMatchObject({ status: 'completed', succeededCount: ITEMS, failedCount: 0 });
    expect(checkConsistent(dataDir, runId)).toBe(ITEMS);
    // Items in flight at a kill were called again after it: at least once each, never stored twice.
    const calls = callCount(dir);
    expect(calls).toBeGreaterThanOrEqual(ITEMS);

    const rerun = await d.startRun(ds.id, body);
    const second = await d.waitRunFinal(ds.id, rerun.runId, 30_000);
    expect(second).toMatchObject({ status: 'completed', succeededCount: ITEMS, failedCount: 0 });
    expect(second.summary?.cache).toMatchObject({ hits: ITEMS, misses: 0, stored: 0, costSpentUsd: 0 });
    expect(callCount(dir)).toBe(calls); // the target was not called once
    const results = await d.allResults(ds.id, rerun.runId);
    expect(results).toHaveLength(ITEMS);
    expect(new Set(results.map((r) => r.itemId)).size).toBe(ITEMS);
    for (const r of results) {
      expect(r).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: runId });
      expect(r.output).toBe(r.groundTruth);
      expect(r.scores).toEqual([expect.objectContaining({ scorerId: 'exact', score: 1 })]);
    }
    server.killGroup('SIGTERM');
    expect((await waitExit(server, 20_000)).code).toBe(0);
  }, 120_000);
});
