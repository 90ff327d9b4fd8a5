/**
 * The target output cache on the scale-out deployment (PostgreSQL + BullMQ on Redis), as real
 * processes: a worker killed with SIGKILL mid-run leaves every cache entry with its stored result
 * and every stored result with its entry, and an identical rerun calls the target zero times
 * (counted by the target, in a file every worker process appends to).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Driver,
  doneCount,
  freePort,
  REDIS_URL,
  runAssay,
  SLEEP_SOURCE,
  startServer,
  startWorkers,
  tempDir,
  waitExit,
  writeFile,
} from '@assay/testkit';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { producingWorker, scaleOutSuite } from './deployment.js';

const { up, freshDatabase } = await scaleOutSuite('cache kill -9 scale-out e2e', 'cache');
const ITEMS = 600;

/** The cache and the results of `runId` in PostgreSQL agree (see cache-crash.test.ts). */
async function checkConsistent(url: string, runId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const count = async (text: string) => Number((await client.query(text, [runId])).rows[0].n);
    const orphans = await count(`SELECT count(*) AS n FROM target_cache c WHERE c.run_id = $1 AND NOT EXISTS (
      SELECT 1 FROM run_items ri WHERE ri.run_id = c.run_id AND ri.item_id = c.item_id AND ri.repetition = c.repetition
        AND ri.status = 'succeeded' AND ri.cached_from IS NULL AND ri.output = c.output)`);
    const uncached = await count(`SELECT count(*) AS n FROM run_items ri WHERE ri.run_id = $1
      AND ri.status = 'succeeded' AND ri.cached_from IS NULL AND NOT EXISTS (SELECT 1 FROM target_cache c
        WHERE c.run_id = ri.run_id AND c.item_id = ri.item_id AND c.repetition = ri.repetition)`);
    expect({ orphans, uncached }).toEqual({ orphans: 0, uncached: 0 });
    return await count('SELECT count(*) AS n FROM target_cache WHERE run_id = $1');
  } finally {
    await client.end();
  }
}

describe.skipIf(!up)('scale-out: the output cache survives a worker killed with SIGKILL', () => {
  it('results and cache stay consistent; the rerun calls the target zero times', async () => {
    const dir = tempDir();
    const log = join(dir, 'calls.log');
    const config = writeFile(
      dir,
      'assay.config.mjs',
      `import { appendFileSync } from 'node:fs';
${SLEEP_SOURCE}export default {
  targets: [{ id: 'sleepy', type: 'function', version: '1', cache: 'readwrite',
    run: async (input, ctx) => { appendFileSync(${JSON.stringify(log)}, 'x\\n'); await sleep(20, ctx.signal); return input.answer; } }],
  scorers: [{ id: 'exact', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) }],
};
`,
    );
    const calls = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    const databaseUrl = await freshDatabase();
    const env = {
      ASSAY_DATABASE_URL: databaseUrl,
      ASSAY_REDIS_URL: REDIS_URL,
      ASSAY_REDIS_PREFIX: `assay-e2e-cache-${process.pid}-${Date.now()}`,
    };
    expect((await runAssay(['migrate'], { cwd: dir, env })).code).toBe(0);
    const server = await startServer(await freePort(), ['--no-worker', '--config', config], { cwd: dir, env });
    const workerArgs = ['worker', '--config', config, '--lease-ms', '2000', '--concurrency', '4'];
    const workers = await startWorkers(2, workerArgs, { cwd: dir, env });
    const d = new Driver(server);
    const ds = await d.seedDataset(
      'cached-scale',
      Array.from({ length: ITEMS }, (_, i) => ({ input: { answer: `a${i}` }, groundTruth: `a${i}` })),
    );
    // The target's own default (cache: 'readwrite') applies: the trigger does not say.
    const { runId } = await d.startRun(ds.id, { targetId: 'sleepy', scorerIds: ['exact'], maxConcurrency: 16 });

    const victim = await producingWorker(d, ds.id, runId, workers, ITEMS / 4);
    expect(doneCount(await d.getRun(ds.id, runId))).toBeLessThan(ITEMS);
    victim.killGroup('SIGKILL');
    expect((await waitExit(victim, 10_000)).signal).toBe('SIGKILL');
    const atKill = await checkConsistent(databaseUrl, runId);
    expect(atKill).toBeGreaterThanOrEqual(ITEMS / 4);
    expect(atKill).toBeLessThan(ITEMS);

    const done = await d.waitRunFinal(ds.id, runId, 90_000);
    expect(done).toMatchObject({ status: 'completed', succeededCount: ITEMS, failedCount: 0 });
    expect(done.options.cache).toBe('readwrite');
    expect(await checkConsistent(databaseUrl, runId)).toBe(ITEMS);
    const before = calls();
    expect(before).toBeGreaterThanOrEqual(ITEMS);

    const rerun = await d.startRun(ds.id, { targetId: 'sleepy', scorerIds: ['exact'], maxConcurrency: 16 });
    const second = await d.waitRunFinal(ds.id, rerun.runId, 60_000);
    expect(second).toMatchObject({ status: 'completed', succeededCount: ITEMS });
    expect(second.summary?.cache).toMatchObject({ hits: ITEMS, misses: 0, stored: 0 });
    expect(calls()).toBe(before);
    const results = await d.allResults(ds.id, rerun.runId);
    expect(new Set(results.map((r) => r.itemId)).size).toBe(ITEMS);
    expect(results.every((r) => r.cached && r.cachedFrom === runId && r.output === r.groundTruth)).toBe(true);
  }, 180_000);
});
