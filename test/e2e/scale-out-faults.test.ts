/**
 * Infrastructure faults under a scaled-out run: Redis killed and restarted empty (no
 * persistence: every queued job is gone), then PostgreSQL refusing and dropping connections for
 * a few seconds. The processes are never restarted; the run must still complete with exactly one
 * result per item. Uses a private redis-server on its own port, so other suites are unaffected.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { doneCount, freePort, pgAdmin, SLEEPY_RUN, sleep, waitFor } from '@assay/testkit';
import { describe, expect, it } from 'vitest';
import { deployment, scaleOutSuite } from './deployment.js';

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** A throwaway redis-server without persistence on `port`; `kill()` is a SIGKILL. */
async function startRedis(port: number) {
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => proc.once('exit', r));
  await waitFor(() => listening(port), Boolean, { what: `redis-server on port ${port}`, ms: 10_000 });
  return {
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
const {
  up,
  db: DB,
  freshDatabase,
} = await scaleOutSuite('scale-out fault e2e', 'faults', async () => {
  await redis?.kill();
});

describe.skipIf(!up)('scale-out faults (real processes, never restarted)', () => {
  it('Redis restarted empty mid-run, then PostgreSQL dropping connections for 3 s: the run completes exactly once', async () => {
    const databaseUrl = await freshDatabase();
    const redisPort = await freePort();
    redis = await startRedis(redisPort);
    const { server, d, workers } = await deployment({
      ASSAY_DATABASE_URL: databaseUrl,
      ASSAY_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    }).start(2, ['--lease-ms', '2000', '--reconcile-ms', '500']);

    const ITEMS = 3_000;
    const ds = await d.seedAnswers('faults', ITEMS);
    const { runId } = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 8 });
    const progress = (n: number, what: string) =>
      waitFor(
        () => d.getRun(ds.id, runId),
        (r) => doneCount(r) >= n,
        { what, ms: 60_000, every: 50 },
      );

    // 1. Redis dies and comes back empty: every job is lost; the reconciler re-enqueues the run.
    await progress(ITEMS * 0.15, 'the run to get going');
    await redis.kill();
    // A trigger while Redis is down still answers 202 pending: the run row is durable in
    // PostgreSQL, and its job is enqueued when Redis is back (or by the reconciler).
    const small = await d.seedDataset(
      'during-outage',
      Array.from({ length: 20 }, (_, i) => ({ input: { answer: `b${i}` }, groundTruth: `b${i}` })),
    );
    const duringOutage = await d.startRun(small.id, {
      ...SLEEPY_RUN,
    });
    expect(duringOutage.status).toBe('pending');
    await sleep(1_000);
    redis = await startRedis(redisPort);
    const before = doneCount(await d.getRun(ds.id, runId));
    expect(before).toBeLessThan(ITEMS); // the PostgreSQL fault below must hit a live run
    await progress(Math.min(ITEMS, before + 100), 'progress after the Redis restart');

    // 2. PostgreSQL refuses new connections and drops the open ones for 3 s.
    await pgAdmin(async (c) => {
      await c.query(`ALTER DATABASE ${DB} WITH ALLOW_CONNECTIONS false`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [DB]);
    });
    await sleep(3_000);
    await pgAdmin((c) => c.query(`ALTER DATABASE ${DB} WITH ALLOW_CONNECTIONS true`));

    const run = await d.waitRunFinal(ds.id, runId, 60_000).catch((e) => {
      const logs = workers.map((w, i) => `--- worker ${i} ---\n${w.output().slice(-4000)}`).join('\n');
      throw new Error(`${e.message}\n${logs}`);
    });
    expect(run.status).toBe('completed');
    expect(run.succeededCount).toBe(ITEMS);
    const results = await d.allResults(ds.id, runId);
    expect(results).toHaveLength(ITEMS);
    expect(new Set(results.map((r) => r.itemId)).size).toBe(ITEMS);
    expect(results.every((r) => r.status === 'succeeded')).toBe(true);
    const other = await d.waitRunFinal(small.id, duringOutage.runId, 60_000);
    expect(other.status).toBe('completed');
    expect(other.succeededCount).toBe(20);
    // Nobody was restarted: the same processes reconnected.
    expect(server.isRunning()).toBe(true);
    expect(workers.every((w) => w.isRunning())).toBe(true);
  }, 240_000);
});
