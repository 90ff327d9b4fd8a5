/**
 * Faults on a real `assay serve` child process: cancel under heavy load, retrying the failed items
 * of a finished run, a target error marked non-retryable, and a flaky target answering 429 with
 * `Retry-After`. The targets write one JSON line per call to a log file, so the test can count the
 * calls made inside the server process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TriggerRunInput } from '@assay/client';
import {
  Driver,
  doneCount,
  freePort,
  isFinal,
  itemStatusCounts,
  killAllChildren,
  REPO_ROOT,
  removeTempDirs,
  type Server,
  sleep,
  startServer,
  tempDir,
  waitExit,
  waitFor,
  withDb,
  writeFile,
} from '@assay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Call {
  target: string;
  n: number;
  t: number;
  attempt: number;
  outcome?: string;
}

let dir = '';
let dataDir = '';
let server: Server;
let d: Driver;
/** The `n` of an item's input (`itemsOf`). */
const nOf = (r: { input: unknown }) => (r.input as { n: number }).n;
const logOf = (target: string) => join(dir, `calls-${target}.log`);
/** Every call a target made so far, in the order they started. */
const calls = (target: string): Call[] =>
  existsSync(logOf(target))
    ? readFileSync(logOf(target), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
const callsPerN = (target: string) => {
  const m = new Map<number, number>();
  for (const c of calls(target)) m.set(c.n, (m.get(c.n) ?? 0) + 1);
  return m;
};

function faultsConfig(): string {
  // The built core, as an installed config would import it (the binary loads TypeScript only for a .ts config).
  const core = pathToFileURL(join(REPO_ROOT, 'packages/core/dist/index.js')).href;
  return writeFile(
    dir,
    'assay.config.mjs',
    `
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { nonRetryable } from ${JSON.stringify(core)};
const DIR = ${JSON.stringify(dir)};
const log = (target, n, ctx, outcome) =>
  appendFileSync(DIR + '/calls-' + target + '.log', JSON.stringify({ target, n, t: Date.now(), attempt: ctx.attempt, outcome }) + '\\n');
const sleep = (ms, signal) => new Promise((res, rej) => {
  if (signal.aborted) return rej(signal.reason);
  const onAbort = () => { clearTimeout(t); rej(signal.reason); };
  const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); res(); }, ms);
  signal.addEventListener('abort', onAbort, { once: true });
});
export default {
  targets: [
    { id: 'slow', type: 'function', run: async (input, ctx) => { log('slow', input.n, ctx); await sleep(50, ctx.signal); return input.answer; } },
    {
      id: 'fragile',
      type: 'function',
      run: (input, ctx) => {
        const broken = input.n % 7 === 0 && !existsSync(DIR + '/fixed');
        log('fragile', input.n, ctx, broken ? 'error' : 'ok');
        if (broken) throw new Error('fragile broke on item ' + input.n);
        return input.answer;
      },
    },
    {
      id: 'strict',
      type: 'function',
      run: (input, ctx) => {
        log('strict', input.n, ctx);
        // A 503 is retryable by itself; nonRetryable() marks this one as permanent.
        if (input.n % 3 === 0) throw nonRetryable(Object.assign(new Error('bad input ' + input.n), { status: 503 }));
        if (input.n % 3 === 1) throw Object.assign(new Error('upstream down ' + input.n), { status: 503 });
        return input.answer;
      },
    },
    {
      id: 'flaky',
      type: 'function',
      run: (input, ctx) => {
        // Targets run in worker threads, each with its own copy of this module: state shared by
        // the calls of one item lives outside it (here a marker file, written atomically).
        const marker = DIR + '/first-' + ctx.runId + '-' + input.n;
        let first = true;
        try { writeFileSync(marker, '', { flag: 'wx' }); } catch { first = false; }
        // 30 % of the items answer 429 with Retry-After: 1 on their first call.
        if (first && input.n % 10 < 3) {
          log('flaky', input.n, ctx, '429');
          throw Object.assign(new Error('rate limited'), { status: 429, headers: { 'retry-after': '1' } });
        }
        log('flaky', input.n, ctx, 'ok');
        return input.answer;
      },
    },
  ],
  scorers: [{ id: 'exact', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) }],
};
`,
  );
}

const itemsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ input: { n: i, answer: `answer ${i}` }, groundTruth: `answer ${i}` }));

const count = (sql: string, ...args: unknown[]) =>
  withDb(dataDir, (db) =>
    Number(
      db
        .prepare(sql)
        .pluck()
        .get(...args),
    ),
  );

beforeAll(async () => {
  dir = tempDir();
  dataDir = join(dir, 'data');
  const port = await freePort();
  server = await startServer(port, ['--config', faultsConfig(), '--data-dir', dataDir, '--host', '127.0.0.1'], {
    cwd: dir,
  });
  d = new Driver(server);
});

afterAll(async () => {
  if (server?.isRunning()) {
    server.killGroup('SIGTERM');
    const exit = await waitExit(server, 20_000);
    expect(exit.code, server.output().slice(-2000)).toBe(0);
    expect(withDb(dataDir, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
  }
  await killAllChildren();
  removeTempDirs();
});

/** Seeds `n` items as dataset `name` and starts a run with the `exact` scorer (202 required). */
async function start(name: string, n: number, options: Omit<TriggerRunInput, 'scorerIds'>) {
  const ds = await d.seedDataset(name, itemsOf(n));
  const { runId } = await d.startRun(ds.id, { scorerIds: ['exact'], ...options });
  return { ds, runId };
}

describe('assay serve: faults', () => {
  it('cancel under heavy load (5,000 items, concurrency 50): cancelled, nothing left, finished results kept', async () => {
    const N = 5_000;
    const { ds, runId } = await start('heavy', N, { targetId: 'slow', maxConcurrency: 50 });
    const before = await waitFor(
      () => d.getRun(ds.id, runId),
      (r) => doneCount(r) >= 500 || isFinal(r),
      { ms: 30_000, every: 20, what: 'the heavy run to reach 500 done items' },
    );
    expect(before.status).toBe('running');

    await d.cancelRun(ds.id, runId);
    expect(d.lastStatus).toBe(202);
    const run = await d.waitRunFinal(ds.id, runId, 20_000);
    expect(run.status).toBe('cancelled');
    const callsAtCancelled = calls('slow').length;

    // Straight from the file: no item left queued or running; every item final.
    const counts = itemStatusCounts(dataDir, runId);
    expect(counts.queued ?? 0).toBe(0);
    expect(counts.running ?? 0).toBe(0);
    expect(counts.failed ?? 0).toBe(0);
    const succeeded = counts.succeeded ?? 0;
    expect(succeeded).toBeGreaterThanOrEqual(doneCount(before));
    expect(succeeded).toBeLessThan(N);
    expect(succeeded + (counts.cancelled ?? 0)).toBe(N);
    // Finished results kept, with their scores; the summary covers exactly them.
    expect(count(`SELECT count(*) FROM scores WHERE run_id = ? AND score = 1`, runId)).toBe(succeeded);
    expect(
      count(`SELECT count(*) FROM run_items WHERE run_id = ? AND status = 'succeeded' AND output IS NULL`, runId),
    ).toBe(0);
    expect(run.succeededCount).toBe(succeeded);
    expect(run.summary).toMatchObject({ total: N, succeeded, failed: 0, cancelled: N - succeeded });
    expect(run.summary?.scorers).toEqual([expect.objectContaining({ scorerId: 'exact', count: succeeded, mean: 1 })]);
    const page = await d.listRunResults(ds.id, runId, { status: 'succeeded', perPage: 1 });
    expect(page.pagination.total).toBe(succeeded);

    // Every call the target saw is a stored result or one of the ≤ 50 in flight that were aborted.
    expect(callsAtCancelled).toBeGreaterThanOrEqual(succeeded);
    expect(callsAtCancelled - succeeded).toBeLessThanOrEqual(50);
    // And nothing starts after the run is cancelled.
    await sleep(1_000);
    expect(calls('slow').length).toBe(callsAtCancelled);
    expect(itemStatusCounts(dataDir, runId)).toEqual(counts);
    // Cancelling again is harmless; the run stays as it is.
    await d.cancelRun(ds.id, runId);
    expect(d.lastStatus).toBe(202);
    expect(await d.getRun(ds.id, runId)).toMatchObject({ status: 'cancelled', succeededCount: succeeded });
  }, 60_000);

  it('retry after failures re-executes only the failed items; the attempts endpoint shows both attempts', async () => {
    const N = 60;
    const { ds, runId } = await start('fragile', N, { targetId: 'fragile', maxConcurrency: 8, maxRetries: 0 });
    const broken = Array.from({ length: N }, (_, n) => n).filter((n) => n % 7 === 0);
    const first = await d.waitRunFinal(ds.id, runId);
    expect(first).toMatchObject({ status: 'completed', succeededCount: N - broken.length, failedCount: broken.length });
    expect(first.summary).toMatchObject({ total: N, succeeded: N - broken.length, failed: broken.length });

    writeFileSync(join(dir, 'fixed'), 'the provider is back');
    await d.retryRun(ds.id, runId);
    expect(d.lastStatus).toBe(202);
    const second = await waitFor(
      () => d.getRun(ds.id, runId),
      (r) => isFinal(r) && r.succeededCount === N,
      { ms: 20_000, every: 50, what: 'the retried run to finish' },
    );
    expect(second).toMatchObject({ status: 'completed', totalItems: N, succeededCount: N, failedCount: 0 });
    expect(second.summary).toMatchObject({ total: N, succeeded: N, failed: 0 });
    expect(second.summary?.scorers[0]).toMatchObject({ scorerId: 'exact', count: N, mean: 1 });

    // Only the failed items ran again.
    const per = callsPerN('fragile');
    expect(per.size).toBe(N);
    for (let n = 0; n < N; n++) expect(per.get(n), `calls of item ${n}`).toBe(n % 7 === 0 ? 2 : 1);

    const results = await d.allResults(ds.id, runId);
    expect(results).toHaveLength(N);
    const byN = new Map(results.map((r) => [nOf(r), r]));
    const retried = byN.get(7);
    expect(retried).toMatchObject({ status: 'succeeded', output: 'answer 7', attempt: 2 });
    const hist = await d.listItemAttempts(ds.id, runId, retried!.itemId);
    expect(d.lastStatus).toBe(200);
    expect(hist.attempts.map((a: any) => [a.attempt, a.status, a.current])).toEqual([
      [1, 'failed', false],
      [2, 'succeeded', true],
    ]);
    expect(hist.attempts[0].error?.message).toBe('fragile broke on item 7');
    const untouched = byN.get(1);
    expect(untouched).toMatchObject({ status: 'succeeded', attempt: 1 });
    const once = await d.listItemAttempts(ds.id, runId, untouched!.itemId);
    expect(once.attempts.map((a: any) => [a.attempt, a.status, a.current])).toEqual([[1, 'succeeded', true]]);
    // Archived attempts in the file: exactly the failed first attempts.
    expect(count('SELECT count(*) FROM run_item_attempts WHERE run_id = ?', runId)).toBe(broken.length);
    // Nothing left to retry; a finished run cannot be cancelled.
    await expect(d.retryRun(ds.id, runId)).rejects.toMatchObject({ status: 409 });
    await expect(d.cancelRun(ds.id, runId)).rejects.toMatchObject({
      status: 409,
      code: 'CONFLICT',
      message: expect.any(String),
    });
    expect(await d.getRun(ds.id, runId)).toMatchObject({ status: 'completed', succeededCount: N });
  }, 40_000);

  it('an error marked nonRetryable() fails its item at once; a plain 503 is retried up to maxRetries', async () => {
    const N = 30;
    const { ds, runId } = await start('strict', N, {
      targetId: 'strict',
      maxConcurrency: 10,
      maxRetries: 2,
      maxConsecutiveFailures: 0,
    });
    const run = await d.waitRunFinal(ds.id, runId, 30_000);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 10, failedCount: 20 });

    const per = callsPerN('strict');
    for (let n = 0; n < N; n++) expect(per.get(n), `calls of item ${n}`).toBe(n % 3 === 1 ? 3 : 1);
    const results = await d.allResults(ds.id, runId);
    for (const r of results) {
      const n = nOf(r);
      if (n % 3 === 0) {
        expect(r).toMatchObject({ status: 'failed', error: { message: `bad input ${n}`, retryable: false } });
      } else if (n % 3 === 1) {
        expect(r).toMatchObject({ status: 'failed', error: { message: `upstream down ${n}`, retryable: true } });
      } else {
        expect(r).toMatchObject({ status: 'succeeded', output: `answer ${n}` });
      }
    }
  }, 40_000);

  it('a flaky target (30% answer 429 with Retry-After: 1) completes every item and waits as asked', async () => {
    const N = 50;
    const { ds, runId } = await start('flaky', N, { targetId: 'flaky', maxConcurrency: 10, maxRetries: 3 });
    const run = await d.waitRunFinal(ds.id, runId, 30_000);
    expect(run).toMatchObject({ status: 'completed', succeededCount: N, failedCount: 0 });
    expect(run.summary?.scorers[0]).toMatchObject({ count: N, mean: 1 });

    const log = calls('flaky');
    const limited = log.filter((c) => c.outcome === '429');
    expect(limited.map((c) => c.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: N }, (_, n) => n).filter((n) => n % 10 < 3),
    );
    for (const c of limited) {
      const next = log.find((x) => x.n === c.n && x.outcome === 'ok');
      expect(next, `item ${c.n} was never retried`).toBeDefined();
      // The retry came no sooner than Retry-After asked (the backoff alone would be 250–500 ms).
      expect(next!.t - c.t, `item ${c.n}`).toBeGreaterThanOrEqual(950);
    }
  }, 40_000);
});
