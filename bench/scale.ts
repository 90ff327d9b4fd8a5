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
 * prefix. The clock runs from the trigger request to the first poll (every 10 ms) that reads
 * `completed`. Flags: `--runs N` (default 3), `--only W2-scale,W1-pg`, `--json FILE`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isFinal } from '@assay/testkit/driver';
import pg from 'pg';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'packages/cli/bin/assay.js');
const PG_URL = process.env.ASSAY_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.ASSAY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(flag('--runs') ?? 3);
const ONLY = flag('--only')?.split(',');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => ok(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

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

interface Proc {
  child: ChildProcess;
  out: () => string;
}

const procs = new Set<Proc>();
function assay(argv: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(process.execPath, [BIN, ...argv], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const p = { child, out: () => out };
  procs.add(p);
  return p;
}

async function stopAll() {
  const all = [...procs];
  procs.clear();
  await Promise.all(
    all.map(
      (p) =>
        new Promise<void>((r) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return r();
          p.child.once('exit', () => r());
          p.child.kill('SIGKILL');
        }),
    ),
  );
}

async function waitUntil(what: string, fn: () => Promise<boolean> | boolean, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (
      await Promise.resolve()
        .then(fn)
        .catch(() => false)
    )
      return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function http(base: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}/api${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `assay_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const u = new URL(PG_URL);
    u.pathname = `/${name}`;
    return await fn(u.toString());
  } finally {
    await stopAll();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
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
  const dir = mkdtempSync(join(tmpdir(), 'assay-bench-scale-'));
  writeFileSync(join(dir, 'assay.config.mjs'), CONFIG);
  const env: Record<string, string> = opts.databaseUrl
    ? {
        ASSAY_DATABASE_URL: opts.databaseUrl,
        ASSAY_REDIS_URL: REDIS_URL,
        ASSAY_REDIS_PREFIX: `assay-bench-${process.pid}-${Date.now()}`,
      }
    : {};
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const common = ['--config', 'assay.config.mjs', '--data-dir', join(dir, 'data')];
    const serveArgs = ['serve', '--port', String(port), ...common];
    if (opts.workers > 0) serveArgs.push('--no-worker');
    else serveArgs.push('--concurrency', String(opts.workerConcurrency));
    const server = assay(serveArgs, env, dir);
    const workers = Array.from({ length: opts.workers }, () =>
      assay(['worker', ...common, '--concurrency', String(opts.workerConcurrency)], env, dir),
    );
    await waitUntil('the API', async () => (await fetch(`${base}/api/health`)).ok);
    for (const w of workers) await waitUntil('a worker', () => w.out().includes('running up to'));

    const ds = await http(base, 'POST', '/datasets', { name: 'bench' });
    for (let i = 0; i < opts.items; i += 1000) {
      const items = Array.from({ length: Math.min(1000, opts.items - i) }, (_, k) => ({
        input: { n: i + k },
        groundTruth: String(2 * (i + k)),
      }));
      await http(base, 'POST', `/datasets/${ds.id}/items/batch`, { items });
    }
    const load = loadavg()[0];
    const t0 = performance.now();
    const run = await http(base, 'POST', `/datasets/${ds.id}/runs`, {
      targetId: opts.target,
      scorerIds: ['exact-match'],
      maxConcurrency: opts.maxConcurrency,
    });
    let final: { status: string; succeededCount: number };
    for (;;) {
      final = await http(base, 'GET', `/datasets/${ds.id}/runs/${run.runId}`);
      if (isFinal(final)) break;
      await sleep(10);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (final.status !== 'completed' || final.succeededCount !== opts.items)
      throw new Error(
        `run ended ${final.status} with ${final.succeededCount}/${opts.items}; ${server.out().slice(-500)}`,
      );
    // Which worker slots produced the results (read after the clock stopped).
    const spread: Record<string, number> = {};
    for (let page = 0; ; page++) {
      const r = await http(base, 'GET', `/datasets/${ds.id}/runs/${run.runId}/results?page=${page}&perPage=1000`);
      for (const x of r.results as { workerId: string }[]) {
        const key = x.workerId.split(':').slice(1).join(':');
        spread[key] = (spread[key] ?? 0) + 1;
      }
      if (!r.pagination.hasMore) break;
    }
    const f = final as unknown as { createdAt: string; startedAt: string; completedAt: string };
    const at = (x: string) => new Date(x).getTime() - new Date(f.createdAt).getTime();
    const phases = { startedMs: at(f.startedAt), completedMs: at(f.completedAt) };
    return { seconds, itemsPerSec: opts.items / seconds, load, spread, phases };
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
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
