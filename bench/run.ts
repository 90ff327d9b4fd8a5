/**
 * Assay benchmarks: workloads W1–W3 of ARCHITECTURE.md "Benchmark workloads" and the issue
 * workloads. Results and how to read them: docs/benchmarks.md.
 *
 *   npm run bench                        the default set (W1, W1M, W2, W2M, W3), 3 runs each, medians
 *   npm run bench -- --only W1,W3        a subset
 *   npm run bench -- --quick             1 run each
 *   npm run bench -- --json out.json     also write every run's numbers as JSON
 *   npm run bench -- --profile           also CPU-profile the timed phase of each W1/W2 run (trigger →
 *                                        completed) into bench/.tmp/profiles; summarize them with
 *                                        bench/cpuprofile-top.ts. The profiler slows the run down.
 *   npm run bench -- --only W1,W1M,W2,W2M
 *                                        isolation cost (issue 10): W1 and W2 load their config from a
 *                                        module file with `configPath`, as `assay serve --config` does,
 *                                        so targets run in worker threads; W1M / W2M are the same with
 *                                        the config as objects, on the main thread. The report ends with
 *                                        the threads / main-thread ratios.
 *   npm run bench -- --only T1           targets and scorers (issue 5): code vs http target, 1 vs 7 scorers
 *   npm run bench -- --only R1,R2 --quick
 *                                        the reliability workloads (issue 3, bench/reliability.ts): recovery
 *                                        after kill -9 and cancel → cancelled, each a median of 10 samples
 *                                        on real `assay serve` child processes.
 *   npm run bench -- --only H1 --quick   responsiveness (issue 10, bench/responsive.ts): /api/health
 *                                        latency every 50 ms on a real `assay serve` during a 1,000,000-item
 *                                        run, a scorer spinning 60 s and a ReDoS regex item.
 *                                        R1, R2 and H1 take minutes, so they run only when named in --only.
 *
 * Every run of a workload is a fresh child process started with this process's Node flags (so
 * `node --cpu-prof --import tsx bench/run.ts --only W1 --quick` profiles the W1 child) on a fresh
 * SQLite data dir under bench/.tmp that is deleted afterwards: no run sees another run's heap, JIT
 * state or database, and a child's peak RSS is its own. With several workloads and runs, the runs
 * go round-robin (W1 run 1, W1M run 1, W1 run 2, …).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { AssayConfig } from '@assay/core';
import { type Assay, createAssay } from '@assay/server';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import {
  answer,
  configModule,
  fmt,
  type Metrics,
  maxRssMB,
  median,
  percentile,
  type Question,
  ROOT,
  type Row,
  type RowOf,
  rssMB,
  seed,
  setProfileFile,
  TMP,
  timedRun,
  verifyResults,
  withRssSampler,
} from './lib.js';
import { R_SAMPLES, r1, r1Rows, r2, r2Rows } from './reliability.js';
import { H1_TITLE, h1, h1Rows } from './responsive.js';

const SCRIPT = fileURLToPath(import.meta.url);
const RESULT_PREFIX = '@@bench-result ';

// ── workloads (each runs inside a child process) ─────────────────────────────────────────────

/**
 * How W1 and W2 get their config. `threads`: as `assay serve --config FILE` does, the config is a
 * module file (in the run's data dir) passed as `config` and `configPath`, so targets and scorers
 * run in worker threads (what users get). `main`: the same config as objects, no `configPath`, so
 * they run on the main thread (no isolation; the W1M / W2M comparison).
 */
type Placement = 'threads' | 'main';

const W1_CONFIG = `export default {
  targets: [{ id: 'instant', type: 'function', run: (input) => String(2 * input.n) }],
};
`;
const W2_CONFIG = `import { setTimeout as sleep } from 'node:timers/promises';
export default {
  targets: [
    {
      id: 'sleepy',
      type: 'function',
      run: async (input, ctx) => {
        await sleep(50, undefined, { signal: ctx.signal });
        return String(2 * input.n);
      },
    },
  ],
};
`;

async function configFor(placement: Placement, dataDir: string, source: string, inline: AssayConfig) {
  if (placement === 'main') return { config: inline };
  return configModule(join(dataDir, 'config'), source);
}

/**
 * A 1-item run before the timed one, in W1/W2 and W1M/W2M alike: the timed run then sees a
 * server that is up (worker threads started, config loaded in them), as a run triggered on a
 * running `assay serve` does. Returns its wall time (ms): with threads, what is left of their
 * start-up after seeding.
 */
async function warmUp(assay: Assay, targetId: string): Promise<number> {
  const datasetId = await seed(assay, 'warm-up', 1);
  const t0 = performance.now();
  await timedRun(assay, datasetId, targetId, 1, ['exact-match'], false);
  return performance.now() - t0;
}

/** W1 overhead: 10 000 items, a target that answers at once, exact-match, maxConcurrency 50. */
async function w1(dataDir: string, placement: Placement): Promise<Metrics> {
  const N = 10_000;
  const baseRssMB = rssMB();
  const inline: AssayConfig = {
    targets: [{ id: 'instant', type: 'function', run: (input: Question) => answer(input) }],
  };
  const options = await configFor(placement, dataDir, W1_CONFIG, inline);
  const assay = await createAssay({ ...options, dataDir, worker: true });
  const datasetId = await seed(assay, 'w1', N);
  const warmUpMs = await warmUp(assay, 'instant');
  const { value, peakSampledMB } = await withRssSampler(() => timedRun(assay, datasetId, 'instant', N));
  const peakRssMB = maxRssMB();
  await assay.close();
  // Durability: reopen the database file in a new instance and read every result back.
  const reopened = await createAssay({ config: options.config, dataDir, worker: false });
  const stored = await verifyResults(reopened, value.run.id, N);
  await reopened.close();
  return {
    items: N,
    seconds: value.seconds,
    itemsPerSec: N / value.seconds,
    cpuUsPerItem: (value.cost.cpuMs * 1000) / N,
    mainBusyUsPerItem: (value.cost.mainBusyMs * 1000) / N,
    storedResults: stored,
    warmUpMs,
    ...value.phases,
    baseRssMB,
    peakRssSampledMB: peakSampledMB,
    peakRssMB,
  };
}

/** W2 latency-bound: 2 000 items, a target that sleeps 50 ms (honouring its signal), maxConcurrency 50. */
async function w2(dataDir: string, placement: Placement): Promise<Metrics> {
  const N = 2_000;
  const SLEEP_MS = 50;
  const inline: AssayConfig = {
    targets: [
      {
        id: 'sleepy',
        type: 'function',
        run: async (input: Question, ctx) => {
          await sleep(SLEEP_MS, undefined, { signal: ctx.signal });
          return answer(input);
        },
      },
    ],
  };
  const options = await configFor(placement, dataDir, W2_CONFIG, inline);
  const assay = await createAssay({ ...options, dataDir, worker: true });
  const datasetId = await seed(assay, 'w2', N);
  const warmUpMs = await warmUp(assay, 'sleepy');
  const { value, peakSampledMB } = await withRssSampler(() => timedRun(assay, datasetId, 'sleepy', N));
  const peakRssMB = maxRssMB();
  await assay.close();
  const ideal = ((N / 50) * SLEEP_MS) / 1000;
  return {
    items: N,
    seconds: value.seconds,
    idealSeconds: ideal,
    efficiency: ideal / value.seconds,
    cpuUsPerItem: (value.cost.cpuMs * 1000) / N,
    mainBusyUsPerItem: (value.cost.mainBusyMs * 1000) / N,
    warmUpMs,
    ...value.phases,
    peakRssSampledMB: peakSampledMB,
    peakRssMB,
  };
}

/** The answering service of T1: POST a question's input as JSON → `{ "answer": "2n" }`, at once. */
const ANSWER_SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const n = JSON.parse(body).n;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: String(2 * n), usage: { in: 12, out: 3 } }));
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/**
 * T1 targets and scorers (issue 5): 5,000 items, maxConcurrency 50, three runs on one dataset —
 * the instant code target with exact-match (the baseline), the same answers from an `http` target
 * (a node:http server in its own process, JSON Pointer output and usage), and the code target
 * with seven cheap built-in scorers. The ratios say what an HTTP hop and a scorer mix cost.
 */
async function t1(dataDir: string): Promise<Metrics> {
  const N = 5_000;
  const server = spawn(process.execPath, ['-e', ANSWER_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((ok, fail) => {
      server.stdout.once('data', (d) => ok(Number(String(d).trim())));
      server.once('exit', (code) => fail(new Error(`answer server exited ${code}`)));
    });
    const config: AssayConfig = {
      targets: [
        { id: 'instant', type: 'function', run: (input: Question) => answer(input) },
        {
          id: 'http',
          type: 'http',
          url: `http://127.0.0.1:${port}/answer`,
          output: '/answer',
          usage: { inputTokens: '/usage/in', outputTokens: '/usage/out' },
        },
      ],
      scorers: [{ id: 'close', use: 'levenshtein', options: { ignoreCase: true } }],
    };
    const scorers = ['exact-match', 'contains', 'contains-all', 'regex', 'numeric-close', 'json-valid', 'close'];
    const assay = await createAssay({ config, dataDir, worker: true });
    const datasetId = await seed(assay, 't1', N);
    const base = await timedRun(assay, datasetId, 'instant', N);
    const http = await timedRun(assay, datasetId, 'http', N);
    const mix = await timedRun(assay, datasetId, 'instant', N, scorers);
    if (http.run.summary?.usage?.inputTokens !== 12 * N) throw new Error('http usage was not recorded');
    await assay.close();
    return {
      items: N,
      functionItemsPerSec: N / base.seconds,
      httpItemsPerSec: N / http.seconds,
      httpRatio: base.seconds / http.seconds,
      sevenScorersItemsPerSec: N / mix.seconds,
      scorersRatio: base.seconds / mix.seconds,
      peakRssMB: maxRssMB(),
    };
  } finally {
    server.kill('SIGKILL');
  }
}

/**
 * W3 trigger latency over real HTTP: `POST /api/datasets/:id/runs` against the app served by
 * @hono/node-server on loopback, for a 10-item and a 100 000-item dataset in the same database.
 * The worker is off (as `assay serve --no-worker`), so what is measured is the trigger itself,
 * not the trigger competing with 200 runs being executed. Triggers alternate between the two
 * datasets, one at a time, so both sizes see the same database state and the same warm-up.
 */
async function w3(dataDir: string): Promise<Metrics> {
  const TRIGGERS = 200;
  const WARMUP = 20;
  const config: AssayConfig = {
    targets: [{ id: 'instant', type: 'function', run: (input: Question) => answer(input) }],
  };
  const assay = await createAssay({ config, dataDir, worker: false });
  const sizes = { small: 10, large: 100_000 } as const;
  const ids = { small: await seed(assay, 'w3-small', sizes.small), large: await seed(assay, 'w3-large', sizes.large) };
  const server = serve({ fetch: assay.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((ok, fail) => {
    if (server.listening) ok();
    server.once('listening', () => ok());
    server.once('error', fail);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  const body = JSON.stringify({ targetId: 'instant', scorerIds: ['exact-match'], maxConcurrency: 50 });
  const trigger = async (size: keyof typeof sizes): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${base}/datasets/${ids[size]}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const json = (await res.json()) as { totalItems?: number };
    const ms = performance.now() - t0;
    if (res.status !== 202 || json.totalItems !== sizes[size]) {
      throw new Error(`trigger on the ${size} dataset answered ${res.status}: ${JSON.stringify(json)}`);
    }
    return ms;
  };
  const samples = { small: [] as number[], large: [] as number[] };
  try {
    for (let i = 0; i < WARMUP; i++) {
      await trigger('small');
      await trigger('large');
    }
    for (let i = 0; i < TRIGGERS; i++) {
      // Alternate which size goes first, so neither always follows the other.
      const order: (keyof typeof sizes)[] = i % 2 ? ['large', 'small'] : ['small', 'large'];
      for (const size of order) samples[size].push(await trigger(size));
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  for (const size of ['small', 'large'] as const) {
    const page = await assay.storage.listRuns(ids[size], { page: 0, perPage: 1 });
    if (page.pagination.total !== WARMUP + TRIGGERS) {
      throw new Error(`${size} dataset has ${page.pagination.total} runs, expected ${WARMUP + TRIGGERS}`);
    }
  }
  const peakRssMB = maxRssMB();
  await assay.close();
  const out: Metrics = { triggersPerSize: TRIGGERS, peakRssMB };
  for (const size of ['small', 'large'] as const) {
    const s = [...samples[size]].sort((a, b) => a - b);
    out[`${size}P50Ms`] = percentile(s, 0.5);
    out[`${size}P99Ms`] = percentile(s, 0.99);
    out[`${size}MaxMs`] = s[s.length - 1];
    out[`${size}MeanMs`] = s.reduce((a, b) => a + b, 0) / s.length;
  }
  return out;
}

const W1_ROWS = (row: RowOf) => [
  row('items/s (trigger → completed)', 'itemsPerSec', 0, '≥ 5,000', (v) => v >= 5000),
  row('wall time (s)', 'seconds', 2),
  row('stored results verified', 'storedResults', 0, '= 10,000', (v) => v === 10_000),
  row('CPU per item, whole process, all threads (µs)', 'cpuUsPerItem', 0),
  row('main thread busy per item (µs)', 'mainBusyUsPerItem', 0),
  row('  of which: trigger → worker picks the run up (ms)', 'pickupMs', 0),
  row('  of which: planning 10,000 run items (ms)', 'planMs', 0),
  row('  of which: executing + storing + summary (ms)', 'executeMs', 0),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
  row('RSS before createAssay (MB)', 'baseRssMB', 0),
];
const W2_ROWS = (row: RowOf) => [
  row('efficiency (2.0 s ideal / actual)', 'efficiency', 3, '≥ 0.95', (v) => v >= 0.95),
  row('wall time (s)', 'seconds', 3),
  row('CPU per item, whole process, all threads (µs)', 'cpuUsPerItem', 0),
  row('main thread busy per item (µs)', 'mainBusyUsPerItem', 0),
  row('  of which: trigger → worker picks the run up (ms)', 'pickupMs', 0),
  row('  of which: planning 2,000 run items (ms)', 'planMs', 0),
  row('  of which: executing + storing + summary (ms)', 'executeMs', 0),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
  row('1-item warm-up run right after seeding, not timed above (ms)', 'warmUpMs', 0),
];

const WORKLOADS = {
  W1: {
    title: 'overhead: 10,000 items, instant target, exact-match, maxConcurrency 50; targets in worker threads',
    run: (dir: string) => w1(dir, 'threads'),
    rows: W1_ROWS,
  },
  W1M: {
    title: 'W1 with targets on the main thread (no isolation)',
    run: (dir: string) => w1(dir, 'main'),
    rows: W1_ROWS,
  },
  W2: {
    title: 'latency-bound: 2,000 items, 50 ms target, maxConcurrency 50; targets in worker threads',
    run: (dir: string) => w2(dir, 'threads'),
    rows: W2_ROWS,
  },
  W2M: {
    title: 'W2 with targets on the main thread (no isolation)',
    run: (dir: string) => w2(dir, 'main'),
    rows: W2_ROWS,
  },
  W3: {
    title: 'trigger latency over HTTP, 10 vs 100,000 items, worker off',
    run: w3,
    rows: (row: RowOf) => [
      row('trigger p50, 10 items (ms)', 'smallP50Ms', 2),
      row('trigger p99, 10 items (ms)', 'smallP99Ms', 2, '< 25', (v) => v < 25),
      row('trigger p50, 100,000 items (ms)', 'largeP50Ms', 2),
      row('trigger p99, 100,000 items (ms)', 'largeP99Ms', 2, '< 25', (v) => v < 25),
      row('trigger max, 10 items (ms)', 'smallMaxMs', 2),
      row('trigger max, 100,000 items (ms)', 'largeMaxMs', 2),
    ],
  },
  T1: {
    title: 'targets and scorers: 5,000 items, code vs http target, 1 vs 7 built-in scorers, maxConcurrency 50',
    run: t1,
    rows: (row: RowOf) => [
      row('code target + exact-match: items/s (trigger → completed)', 'functionItemsPerSec', 0),
      row('http target (own process) + exact-match: items/s', 'httpItemsPerSec', 0),
      row('  http / code throughput', 'httpRatio', 2),
      row('code target + 7 built-in scorers: items/s', 'sevenScorersItemsPerSec', 0),
      row('  7 scorers / 1 scorer throughput', 'scorersRatio', 2),
      row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
    ],
  },
  R1: {
    title: `recovery after kill -9 of a real assay serve, default lease and --lease-ms 2000, ${R_SAMPLES} samples each`,
    run: r1,
    rows: r1Rows,
  },
  R2: {
    title: `cancel → cancelled on a real assay serve, 50 ms target, maxConcurrency 50, ${R_SAMPLES} samples`,
    run: r2,
    rows: r2Rows,
  },
  H1: { title: H1_TITLE, run: h1, rows: h1Rows },
} as const;
type WorkloadId = keyof typeof WORKLOADS;
/** What `npm run bench` runs without --only: the R and H workloads take minutes and run only when named. */
const DEFAULT_WORKLOADS: WorkloadId[] = ['W1', 'W1M', 'W2', 'W2M', 'W3'];

/** Isolation cost: a workload in worker threads against the same on the main thread (both run). */
const COMPARISONS = [
  { what: 'W1 items/s, threads / main thread', a: 'W1', b: 'W1M', key: 'itemsPerSec' },
  { what: 'W1 CPU per item, threads / main thread', a: 'W1', b: 'W1M', key: 'cpuUsPerItem' },
  { what: 'W1 main thread busy per item, threads / main thread', a: 'W1', b: 'W1M', key: 'mainBusyUsPerItem' },
  { what: 'W2 efficiency, threads / main thread', a: 'W2', b: 'W2M', key: 'efficiency' },
] as const;

// ── child: one run of one workload ───────────────────────────────────────────────────────────

/**
 * The disk's commit latency right now: 50 one-row transactions on a scratch SQLite file in WAL mode
 * with synchronous=FULL (Assay's default), i.e. one fsync each. Every run reports it, because W1
 * and W3 wait on fsync and a shared machine's disk can be 10x slower from one minute to the next.
 */
function probeCommitMs(dir: string): { p50: number; p90: number } {
  const file = join(dir, 'fsync-probe.db');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table t (id integer primary key, v text)');
    const insert = db.prepare('insert into t (v) values (?)');
    const ms: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      insert.run('x'.repeat(200));
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { p50: percentile(ms, 0.5), p90: percentile(ms, 0.9) };
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }
}

async function child(id: WorkloadId, dataDir: string): Promise<void> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  try {
    const probe = probeCommitMs(dataDir);
    const metrics = { ...(await WORKLOADS[id].run(dataDir)), commitP50Ms: probe.p50, commitP90Ms: probe.p90 };
    await new Promise<void>((r) => process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(metrics)}\n`, () => r()));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ── parent: orchestration and the report ─────────────────────────────────────────────────────

function runChild(id: WorkloadId, iteration: number, profile: boolean): Promise<Metrics> {
  const dataDir = join(TMP, `${id}-${iteration}-${process.pid}`);
  const args = [...process.execArgv, SCRIPT, '--child', id, '--data-dir', dataDir];
  if (profile) args.push('--profile-file', join(TMP, 'profiles', `${id}-run${iteration}.cpuprofile`));
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: Metrics | null = null;
    let buffered = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length));
        else console.log(`  [${id}] ${line}`);
        nl = buffered.indexOf('\n');
      }
    });
    const killer = setTimeout(() => proc.kill('SIGKILL'), (id === 'H1' ? 90 : 15) * 60_000);
    proc.on('error', fail);
    proc.on('close', (code, signal) => {
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
      if (code === 0 && result) ok(result);
      else fail(new Error(`${id} run ${iteration} exited with ${signal ?? code} and no result`));
    });
  });
}

/** The report's rows for one workload: median, every run, the target and whether it was met. */
function rowsOf(id: WorkloadId, runs: Metrics[]): Row[] {
  const all = (key: string, digits: number) => runs.map((r) => fmt(r[key], digits)).join(' / ');
  const row: RowOf = (metric, key, digits, target = '', ok) => {
    const m = median(runs.map((r) => r[key]));
    return {
      workload: id,
      metric,
      median: fmt(m, digits),
      runs: all(key, digits),
      target,
      met: ok ? (ok(m) ? 'yes' : '**no**') : '',
    };
  };
  // Context for every workload: how busy the machine and its disk were.
  const context = [
    row('machine: 1-min load average before the run', 'loadBefore', 2),
    row('machine: SQLite FULL commit (fsync) p50 before the run (ms)', 'commitP50Ms', 2),
  ];
  return [...WORKLOADS[id].rows(row), ...context];
}

function environment(): string[] {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--', 'packages');
  return [
    `node ${process.version}, ${availableParallelism()} CPUs, ${fmt(totalmem() / 1024 ** 3, 1)} GiB RAM`,
    `git ${git('rev-parse', '--short', 'HEAD')}${dirty && dirty !== '?' ? ` + uncommitted changes in packages/:\n${dirty.replace(/^/gm, '    ')}` : ''}`,
  ];
}

function parseArgs(argv: string[]) {
  const opts = {
    only: DEFAULT_WORKLOADS,
    quick: false,
    json: '',
    child: '',
    dataDir: '',
    profile: false,
    profileFile: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const list = (a === '--only' ? value() : a.slice('--only='.length)).split(',').map((s) => s.trim().toUpperCase());
      const unknown = list.filter((w) => !(w in WORKLOADS));
      if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; known: ${Object.keys(WORKLOADS)}`);
      opts.only = list as WorkloadId[];
    } else if (a === '--json') opts.json = value();
    else if (a === '--child') opts.child = value();
    else if (a === '--profile') opts.profile = true;
    else if (a === '--profile-file') opts.profileFile = value();
    else if (a === '--data-dir') opts.dataDir = value();
    else
      throw new Error(
        `unknown argument ${a}; usage: bench/run.ts [--only W1,W1M,W2,W2M,W3,T1,R1,R2,H1] [--quick] [--json file] [--profile]`,
      );
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    setProfileFile(opts.profileFile);
    return child(opts.child as WorkloadId, opts.dataDir);
  }

  const iterations = opts.quick ? 1 : 3;
  console.log(`# Assay benchmarks (${iterations} run${iterations > 1 ? 's' : ''} per workload, medians)`);
  for (const line of environment()) console.log(line);
  mkdirSync(TMP, { recursive: true });
  const results: Partial<Record<WorkloadId, Metrics[]>> = Object.fromEntries(opts.only.map((id) => [id, []]));
  // Round-robin (W1 run 1, W1M run 1, W1 run 2, …): a noisy minute hits the workloads compared alike.
  for (let i = 1; i <= iterations; i++) {
    for (const id of opts.only) {
      if (i === 1) console.log(`\n${id} ${WORKLOADS[id].title}`);
      const load = loadavg()[0];
      const m = { ...(await runChild(id, i, opts.profile)), loadBefore: load };
      results[id]!.push(m);
      console.log(
        `  ${id} run ${i} (load avg before ${load.toFixed(2)}): ${Object.entries(m).map(([k, v]) => `${k}=${fmt(v, Number.isInteger(v) ? 0 : 2)}`)}`,
      );
    }
  }

  const rows = opts.only.flatMap((id) => rowsOf(id, results[id]!));
  const header = ['workload', 'metric', 'median', `runs (${iterations})`, 'target', 'met'];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${[r.workload, r.metric, r.median, r.runs, r.target, r.met].join(' | ')} |`);
  for (const c of COMPARISONS) {
    const [a, b] = [results[c.a], results[c.b]];
    if (!a || !b) continue;
    const per = a.map((r, i) => fmt(r[c.key] / b[i][c.key], 2)).join(' / ');
    const ratio = median(a.map((r) => r[c.key])) / median(b.map((r) => r[c.key]));
    console.log(`${c.what}: ${fmt(ratio, 2)} (ratio of medians; per run pair ${per})`);
  }
  if (opts.json) {
    writeFileSync(resolve(opts.json), `${JSON.stringify({ environment: environment(), results }, null, 2)}\n`);
    console.log(`\nwrote ${resolve(opts.json)}`);
  }
}

await main();
