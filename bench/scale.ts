/**
 * Scale-out benchmarks with real processes (`npm run bench:scale`):
 *
 * - W2-scale: W2 (2,000 items, 50 ms target) on PostgreSQL + BullMQ with 1, 2 and 4 `assay worker`
 *   processes behind one `assay serve --no-worker`. Per-worker concurrency is fixed: each worker
 *   runs one run slot at a time (`--concurrency 1`) and a slot keeps 50 items in flight, so N
 *   workers keep N × 50 in flight. Reported as items/s and as the ratio to 1 worker.
 * - W1-pg: W1 (10,000 items, instant target) on PostgreSQL + BullMQ with one worker process, next
 *   to the same workload on the embedded default driven the same way (`assay serve` with its
 *   in-process worker on SQLite).
 *
 * Every measurement uses fresh processes, a fresh PostgreSQL database and a fresh Redis key
 * prefix (the testkit's services: `ASSAY_TEST_PG_URL`, `ASSAY_TEST_REDIS_URL`). The clock runs from the trigger request to the first poll (every 10 ms) that reads
 * `completed`. Flags: `--runs N` (default 3), `--only W2-scale,W1-pg`, `--json FILE`.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Driver, isFinal } from '@assay/testkit/driver';
import { removeTempDirs, tempDir, writeFile } from '@assay/testkit/files';
import { freePort, killAllChildren, sleep, startServer, startWorkers } from '@assay/testkit/process';
import { createTestDatabase, REDIS_URL } from '@assay/testkit/services';
import { median } from './harness/lib.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(flag('--runs') ?? 3);
const ONLY = flag('--only')?.split(',');

const CONFIG = `
const sleep = (ms, signal) => new Promise((res, rej) => {
  const t = setTimeout(res, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); rej(signal.reason); }, { once: true });
});
export default {
  targets: [
    { id: 'instant', type: 'function', run: async (input) => String(2 * input.n) },
    { id: 'sleep50', type: 'function', run: async (input, ctx) => { await sleep(50, ctx.signal); return String(2 * input.n); } },
  ],
};
`;

/** Runs `fn` with the URL of a fresh database on the testkit's PostgreSQL (`ASSAY_TEST_PG_URL`), dropped after. */
async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    return await fn(db.url);
  } finally {
    await killAllChildren();
    await db.drop();
  }
}

/**
 * Starts the processes, creates the dataset, triggers one run and times it.
 * `workers` = 0 means the embedded default: one `assay serve` with its worker on SQLite.
 */
async function measure(opts: {
  items: number;
  target: string;
  maxConcurrency: number;
  workers: number;
  workerConcurrency: number;
  databaseUrl?: string;
}) {
  const dir = tempDir('assay-bench-scale-');
  writeFile(dir, 'assay.config.mjs', CONFIG);
  const env: Record<string, string> = opts.databaseUrl
    ? {
        ASSAY_DATABASE_URL: opts.databaseUrl,
        ASSAY_REDIS_URL: REDIS_URL,
        ASSAY_REDIS_PREFIX: `assay-bench-${process.pid}-${Date.now()}`,
      }
    : {};
  try {
    const common = ['--config', 'assay.config.mjs', '--data-dir', 'data'];
    const serveArgs =
      opts.workers > 0 ? [...common, '--no-worker'] : [...common, '--concurrency', String(opts.workerConcurrency)];
    const server = await startServer(await freePort(), serveArgs, { cwd: dir, env, ms: 30_000 });
    const d = new Driver(server);
    const workerArgs = ['worker', ...common, '--concurrency', String(opts.workerConcurrency)];
    await startWorkers(opts.workers, workerArgs, { cwd: dir, env });

    const ds = await d.createDataset({ name: 'bench' });
    for (let i = 0; i < opts.items; i += 1000) {
      const items = Array.from({ length: Math.min(1000, opts.items - i) }, (_, k) => ({
        input: { n: i + k },
        groundTruth: String(2 * (i + k)),
      }));
      await d.addItems(ds.id, items);
    }
    const load = loadavg()[0];
    const t0 = performance.now();
    const { runId } = await d.startRun(ds.id, {
      targetId: opts.target,
      scorerIds: ['exact-match'],
      maxConcurrency: opts.maxConcurrency,
    });
    let final = await d.getRun(ds.id, runId);
    while (!isFinal(final)) {
      await sleep(10);
      final = await d.getRun(ds.id, runId);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (final.status !== 'completed' || final.succeededCount !== opts.items)
      throw new Error(
        `run ended ${final.status} with ${final.succeededCount}/${opts.items}; ${server.output().slice(-500)}`,
      );
    // Which worker slots produced the results (read after the clock stopped).
    const spread: Record<string, number> = {};
    for (let page = 0; ; page++) {
      const r = await d.listRunResults(ds.id, runId, { page, perPage: 1000 });
      for (const x of r.results) {
        const key = String(x.workerId).split(':').slice(1).join(':');
        spread[key] = (spread[key] ?? 0) + 1;
      }
      if (!r.pagination.hasMore) break;
    }
    const at = (x: string | null) => new Date(x ?? Number.NaN).getTime() - new Date(final.createdAt).getTime();
    const phases = { startedMs: at(final.startedAt), completedMs: at(final.completedAt) };
    return { seconds, itemsPerSec: opts.items / seconds, load, spread, phases };
  } finally {
    await killAllChildren();
    removeTempDirs();
  }
}

const report: Record<string, unknown> = {};
const rows: string[] = [];

if (!ONLY || ONLY.includes('W2-scale')) {
  const PER_WORKER = 50;
  const SLOTS = 4; // run slots per run when scaled out (runtime default)
  const base: number[] = [];
  for (const n of [1, 2, 4]) {
    const samples: Awaited<ReturnType<typeof measure>>[] = [];
    for (let r = 0; r < RUNS; r++) {
      const m = await withDatabase((url) =>
        measure({
          items: 2_000,
          target: 'sleep50',
          maxConcurrency: SLOTS * PER_WORKER,
          workers: n,
          workerConcurrency: 1,
          databaseUrl: url,
        }),
      );
      console.log(
        `W2-scale ${n} worker(s) run ${r + 1}: ${m.seconds.toFixed(3)} s, ${m.itemsPerSec.toFixed(0)} items/s (load ${m.load.toFixed(2)}); results per worker slot ${JSON.stringify(m.spread)} ${JSON.stringify(m.phases)}`,
      );
      samples.push(m);
    }
    const ips = median(samples.map((s) => s.itemsPerSec));
    if (n === 1) base.push(ips);
    const ideal = (2_000 * 0.05) / (n * PER_WORKER);
    const secs = median(samples.map((s) => s.seconds));
    report[`W2-scale-${n}`] = samples;
    rows.push(
      `| W2 on PostgreSQL + BullMQ, ${n} worker${n > 1 ? 's' : ''} | ${ips.toFixed(0)} | ${samples.map((s) => s.itemsPerSec.toFixed(0)).join(' / ')} | ${(ips / base[0]).toFixed(2)} × | ${secs.toFixed(2)} s (ideal ${ideal.toFixed(2)} s) |`,
    );
  }
}

if (!ONLY || ONLY.includes('W1-pg')) {
  for (const mode of ['embedded', 'pg'] as const) {
    const samples: Awaited<ReturnType<typeof measure>>[] = [];
    for (let r = 0; r < RUNS; r++) {
      const m =
        mode === 'pg'
          ? await withDatabase((url) =>
              measure({
                items: 10_000,
                target: 'instant',
                maxConcurrency: 50,
                workers: 1,
                workerConcurrency: 8,
                databaseUrl: url,
              }),
            )
          : await measure({ items: 10_000, target: 'instant', maxConcurrency: 50, workers: 0, workerConcurrency: 8 });
      console.log(
        `W1 ${mode} run ${r + 1}: ${m.seconds.toFixed(3)} s, ${m.itemsPerSec.toFixed(0)} items/s (load ${m.load.toFixed(2)})`,
      );
      samples.push(m);
    }
    report[`W1-${mode}`] = samples;
    const ips = median(samples.map((s) => s.itemsPerSec));
    rows.push(
      `| W1, ${mode === 'pg' ? 'PostgreSQL + BullMQ (API + 1 worker process)' : 'embedded SQLite (assay serve with its worker)'} | ${ips.toFixed(0)} | ${samples.map((s) => s.itemsPerSec.toFixed(0)).join(' / ')} | | ${median(samples.map((s) => s.seconds)).toFixed(2)} s |`,
    );
  }
}

console.log('\n| workload | items/s (median) | runs | vs 1 worker | wall time (median) |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(r);
const out = flag('--json');
if (out) writeFileSync(out, JSON.stringify(report, null, 2));
process.exit(0);
