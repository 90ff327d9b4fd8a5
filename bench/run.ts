/**
 * Assay benchmarks: workloads W1–W3 of ARCHITECTURE.md "Benchmark workloads". Results and how to
 * read them: docs/benchmarks.md.
 *
 *   npm run bench                        every workload, 3 runs each, medians
 *   npm run bench -- --only W1,W3        a subset
 *   npm run bench -- --quick             1 run each
 *   npm run bench -- --json out.json     also write every run's numbers as JSON
 *   npm run bench -- --profile           also CPU-profile the timed phase of each W1/W2 run (trigger →
 *                                        completed) into bench/.tmp/profiles; summarize them with
 *                                        bench/cpuprofile-top.ts. The profiler slows the run down.
 *   npm run bench -- --only T1           targets and scorers (issue 5): code vs http target, 1 vs 7 scorers
 *   npm run bench -- --only R1,R2 --quick
 *                                        the reliability workloads (issue 3): recovery after kill -9 and
 *                                        cancel → cancelled, each a median of 10 samples on real
 *                                        `assay serve` child processes. They take minutes, so they run
 *                                        only when named in --only (the default stays W1–W3).
 *
 * Every run of a workload is a fresh child process started with this process's Node flags (so
 * `node --cpu-prof --import tsx bench/run.ts --only W1 --quick` profiles the W1 child) on a fresh
 * SQLite data dir under bench/.tmp that is deleted afterwards: no run sees another run's heap, JIT
 * state or database, and a child's peak RSS is its own.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { AssayConfig, ItemInput, Run } from '@assay/core';
import { type Assay, createAssay } from '@assay/server';
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import {
  type Server as AssayServer,
  api,
  createDataset,
  doneCount,
  FINAL_RUN_STATUSES,
  freePort,
  getRun,
  killAllChildren,
  sleepyConfig,
  startServer,
  waitExit,
  waitFor,
  waitRunFinal,
  withDb,
} from '../test/e2e/helpers.js';

const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = resolve(dirname(SCRIPT), '..');
const TMP = join(ROOT, 'bench', '.tmp');
const RESULT_PREFIX = '@@bench-result ';
const MB = 1024 * 1024;
const FINAL: Run['status'][] = ['completed', 'failed', 'cancelled'];

type Metrics = Record<string, number>;

// ── shared helpers ───────────────────────────────────────────────────────────────────────────

interface Question {
  n: number;
  question: string;
}
/** Item n of every dataset: a small JSON input and the answer an exact-match scorer expects. */
const itemOf = (n: number): ItemInput => ({
  input: { n, question: `what is ${n} + ${n}?` },
  groundTruth: String(2 * n),
});
const answer = (input: Question) => String(2 * input.n);

const rssMB = () => process.memoryUsage.rss() / MB;
/** The kernel's high-water mark of this process's RSS (catches spikes a sampler would miss). */
const maxRssMB = () => process.resourceUsage().maxRSS / 1024;

/** Samples RSS every 50 ms while `fn` runs; returns fn's value and the highest sample. */
async function withRssSampler<T>(fn: () => Promise<T>): Promise<{ value: T; peakSampledMB: number }> {
  let peak = rssMB();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMB());
  }, 50);
  try {
    const value = await fn();
    return { value, peakSampledMB: Math.max(peak, rssMB()) };
  } finally {
    clearInterval(timer);
  }
}

/** Creates a dataset of `count` items, added in batches of 10 000 (the API's batch limit). */
async function seed(assay: Assay, name: string, count: number): Promise<string> {
  const ds = await assay.storage.createDataset({ name });
  for (let start = 0; start < count; start += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, count - start) }, (_, i) => itemOf(start + i));
    await assay.storage.addItems(ds.id, batch);
  }
  return ds.id;
}

/**
 * Waits until the stored run row has a final status. Woken by the in-process `run.status` event
 * (published right after the status is committed), with a 100 ms poll as a fallback; the answer
 * always comes from storage, never from the event.
 */
async function waitForFinal(assay: Assay, runId: string): Promise<Run> {
  let signalled = false;
  let wake: (() => void) | null = null;
  const unsubscribe = assay.events.subscribe(runId, (e) => {
    if (e.type !== 'run.status') return;
    signalled = true;
    wake?.();
  });
  try {
    for (;;) {
      signalled = false;
      const run = await assay.storage.getRun(runId);
      if (run && FINAL.includes(run.status)) return run;
      if (signalled) continue;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, 100);
      });
      clearTimeout(timer);
      wake = null;
    }
  } finally {
    unsubscribe();
  }
}

/** Set in a child by `--profile <file>`: CPU-profile the timed phase only (trigger → final status). */
let profileFile = '';

async function startProfile(): Promise<(() => Promise<void>) | null> {
  if (!profileFile) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    // tsx runs transformed code; point each frame at its TypeScript source line instead.
    for (const { callFrame: f } of profile.nodes) {
      if (!f.url.startsWith('file://')) continue;
      const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber);
      if (entry && 'originalLine' in entry) {
        f.lineNumber = entry.originalLine;
        f.columnNumber = entry.originalColumn;
      }
    }
    mkdirSync(dirname(profileFile), { recursive: true });
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  };
}

/** Triggers a run and waits for it: seconds from just before the trigger to the stored final status. */
async function timedRun(
  assay: Assay,
  datasetId: string,
  targetId: string,
  expected: number,
  scorerIds: string[] = ['exact-match'],
) {
  const stopProfile = await startProfile();
  const t0 = performance.now();
  const triggered = await assay.runs.trigger(datasetId, { targetId, scorerIds, maxConcurrency: 50 });
  const run = await waitForFinal(assay, triggered.id);
  const seconds = (performance.now() - t0) / 1000;
  await stopProfile?.();
  if (run.status !== 'completed' || run.succeededCount !== expected) {
    throw new Error(
      `run ${run.id} ended ${run.status} with ${run.succeededCount}/${expected} succeeded: ${run.error ?? 'no error'}`,
    );
  }
  // Where the time went, from the run row's own timestamps (ms resolution): created → started
  // (the worker picked the job up) → planned (every run-item row exists) → completed.
  const at = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);
  const phases = {
    pickupMs: at(run.startedAt) - at(run.createdAt),
    planMs: at(run.plannedAt) - at(run.startedAt),
    executeMs: at(run.completedAt) - at(run.plannedAt),
  };
  return { run, seconds, phases };
}

/**
 * Reads every stored result of a run back (pages of 1 000) and checks each one: succeeded, the
 * target's output, and an exact-match score of 1. Returns how many results were stored.
 */
async function verifyResults(assay: Assay, runId: string, expected: number): Promise<number> {
  let stored = 0;
  for (let page = 0; ; page++) {
    const { rows, pagination } = await assay.storage.listResults(runId, { page, perPage: 1000 });
    for (const r of rows) {
      const want = answer(r.input as Question);
      const score = r.scores.find((s) => s.scorerId === 'exact-match')?.score;
      if (r.status !== 'succeeded' || r.output !== want || score !== 1) {
        throw new Error(`result of item ${r.itemId} is wrong: ${JSON.stringify(r)}`);
      }
      stored++;
    }
    if (!pagination.hasMore) break;
  }
  const succeeded = await assay.storage.listResults(runId, { page: 0, perPage: 1, status: 'succeeded' });
  if (stored !== expected || succeeded.pagination.total !== expected) {
    throw new Error(
      `expected ${expected} stored results, read ${stored} (${succeeded.pagination.total} marked succeeded)`,
    );
  }
  return stored;
}

const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];

// ── workloads (each runs inside a child process) ─────────────────────────────────────────────

/** W1 overhead: 10 000 items, a target that answers at once, exact-match, maxConcurrency 50. */
async function w1(dataDir: string): Promise<Metrics> {
  const N = 10_000;
  const config: AssayConfig = {
    targets: [{ id: 'instant', type: 'function', run: (input: Question) => answer(input) }],
  };
  const baseRssMB = rssMB();
  const assay = await createAssay({ config, dataDir, worker: true });
  const datasetId = await seed(assay, 'w1', N);
  const { value, peakSampledMB } = await withRssSampler(() => timedRun(assay, datasetId, 'instant', N));
  const peakRssMB = maxRssMB();
  await assay.close();
  // Durability: reopen the database file in a new instance and read every result back.
  const reopened = await createAssay({ config, dataDir, worker: false });
  const stored = await verifyResults(reopened, value.run.id, N);
  await reopened.close();
  return {
    items: N,
    seconds: value.seconds,
    itemsPerSec: N / value.seconds,
    storedResults: stored,
    ...value.phases,
    baseRssMB,
    peakRssSampledMB: peakSampledMB,
    peakRssMB,
  };
}

/** W2 latency-bound: 2 000 items, a target that sleeps 50 ms (honouring its signal), maxConcurrency 50. */
async function w2(dataDir: string): Promise<Metrics> {
  const N = 2_000;
  const SLEEP_MS = 50;
  const config: AssayConfig = {
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
  const assay = await createAssay({ config, dataDir, worker: true });
  const datasetId = await seed(assay, 'w2', N);
  const { value, peakSampledMB } = await withRssSampler(() => timedRun(assay, datasetId, 'sleepy', N));
  const peakRssMB = maxRssMB();
  await assay.close();
  const ideal = ((N / 50) * SLEEP_MS) / 1000;
  return {
    items: N,
    seconds: value.seconds,
    idealSeconds: ideal,
    efficiency: ideal / value.seconds,
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

// ── reliability workloads (issue 3): real `assay serve` child processes ──────────────────────

/** Samples per R workload run; the report gives their median. */
const R_SAMPLES = 10;
const rItems = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ input: { n: i, answer: `answer ${i}` }, groundTruth: `answer ${i}` }));
const isoToMs = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);

/**
 * One recovery sample: a fresh data dir, `assay serve` (with `--lease-ms` when given), a run of
 * 2,000 items on a 10 ms target at maxConcurrency 10, SIGKILL to the process group once 500 items
 * are done, restart at once. Times from the restart (spawning the new process) to the first result
 * stored by it and to the run's completion, from the rows' own `completed_at` (ms, same clock).
 */
async function recoverySample(dir: string, leaseMs: number | null) {
  const N = 2_000;
  const SLEEP_MS = 10;
  const CONCURRENCY = 10;
  const KILL_AT = 500;
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'data');
  const args = ['--config', sleepyConfig(dir, SLEEP_MS), '--data-dir', dataDir, '--host', '127.0.0.1'];
  if (leaseMs !== null) args.push('--lease-ms', String(leaseMs));
  const port = await freePort();
  let server: AssayServer = await startServer(port, args, { cwd: dir, ms: 60_000 });
  const ds = await createDataset(server.base, 'r1', rItems(N));
  const trig = await api(server.base, 'POST', `/datasets/${ds.id}/runs`, {
    targetId: 'sleepy',
    scorerIds: ['exact'],
    maxConcurrency: CONCURRENCY,
  });
  if (trig.status !== 202) throw new Error(`trigger answered ${trig.status}: ${JSON.stringify(trig.json)}`);
  const runId: string = trig.json.runId;
  const live = server;
  const seen = await waitFor(
    () => getRun(live.base, ds.id, runId),
    (r) => doneCount(r) >= KILL_AT || FINAL_RUN_STATUSES.includes(r?.status),
    { ms: 60_000, every: 10, what: `run to reach ${KILL_AT} done` },
  );
  if (seen.status !== 'running') throw new Error(`run was ${seen.status} before the kill`);
  server.killGroup('SIGKILL');
  await waitExit(server, 10_000);
  const doneAtKill = withDb(dataDir, (db) =>
    Number(db.prepare(`SELECT count(*) FROM run_items WHERE run_id = ? AND status = 'succeeded'`).pluck().get(runId)),
  );
  const restartAt = Date.now();
  server = await startServer(port, args, { cwd: dir, ms: 60_000 });
  const healthyAt = Date.now();
  const run = await waitRunFinal(server.base, ds.id, runId, 120_000);
  if (run.status !== 'completed' || run.succeededCount !== N)
    throw new Error(`run ended ${run.status} with ${run.succeededCount}/${N}: ${run.error ?? 'no error'}`);
  server.killGroup('SIGTERM');
  await waitExit(server, 20_000);
  const { first, completed } = withDb(dataDir, (db) => ({
    first: db
      .prepare('SELECT min(completed_at) FROM run_items WHERE run_id = ? AND completed_at > ?')
      .pluck()
      .get(runId, new Date(restartAt).toISOString()) as string | null,
    completed: db.prepare('SELECT completed_at FROM runs WHERE id = ?').pluck().get(runId) as string | null,
  }));
  rmSync(dir, { recursive: true, force: true });
  return {
    firstMs: isoToMs(first) - restartAt,
    completedMs: isoToMs(completed) - restartAt,
    healthyMs: healthyAt - restartAt,
    remainingIdealMs: ((N - doneAtKill) / CONCURRENCY) * SLEEP_MS,
  };
}

/** R1 recovery after kill -9: {@link recoverySample} ×10 with the default lease (15 s) and ×10 with --lease-ms 2000. */
async function r1(dataDir: string): Promise<Metrics> {
  const out: Metrics = { samples: R_SAMPLES };
  try {
    for (const [key, leaseMs] of [
      ['15s', null],
      ['2s', 2_000],
    ] as const) {
      const samples: Awaited<ReturnType<typeof recoverySample>>[] = [];
      for (let i = 0; i < R_SAMPLES; i++) {
        const s = await recoverySample(join(dataDir, `${key}-${i}`), leaseMs);
        samples.push(s);
        console.log(
          `lease ${key} sample ${i + 1}: restart → first result ${s.firstMs} ms, → completed ${s.completedMs} ms, → healthy ${s.healthyMs} ms (remaining ideal ${s.remainingIdealMs} ms)`,
        );
      }
      for (const m of ['firstMs', 'completedMs', 'healthyMs', 'remainingIdealMs'] as const) {
        const xs = samples.map((s) => s[m]);
        out[`l${key}${m[0].toUpperCase()}${m.slice(1)}`] = median(xs);
        if (m !== 'remainingIdealMs') console.log(`lease ${key} ${m} samples: ${xs.join(', ')}`);
      }
    }
  } finally {
    await killAllChildren();
  }
  return out;
}

/** Resolves with performance.now() when the run's SSE stream reports `status`; `ready` once the stream is open. */
function watchRunStatus(url: string, status: string) {
  const ac = new AbortController();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  const seen = (async () => {
    const res = await fetch(url, { signal: ac.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new Error(`events endpoint answered ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`event stream ended before the run was ${status}`);
      buf += value;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: ?(.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (event === 'run') markReady();
        if ((event === 'run' || event === 'run.status') && data && JSON.parse(data).status === status) {
          return performance.now();
        }
      }
    }
  })();
  seen.catch(() => {});
  return { ready, seen, close: () => ac.abort() };
}

/**
 * R2 cancel → cancelled: one `assay serve`, a 2,000-item dataset, a 50 ms target at
 * maxConcurrency 50. Each sample triggers a run, waits until 100 items are done (50 in flight),
 * then POSTs cancel and times how soon the run reads `cancelled`: by GET every 10 ms and on the
 * run's SSE stream (opened before the cancel).
 */
async function r2(dataDir: string): Promise<Metrics> {
  const N = 2_000;
  const dir = join(dataDir, 'r2');
  mkdirSync(dir, { recursive: true });
  const args = ['--config', sleepyConfig(dir, 50), '--data-dir', join(dir, 'data'), '--host', '127.0.0.1'];
  const server = await startServer(await freePort(), args, { cwd: dir, ms: 60_000 });
  const samples = { pollMs: [] as number[], sseMs: [] as number[], responseMs: [] as number[] };
  try {
    const ds = await createDataset(server.base, 'r2', rItems(N));
    for (let i = 0; i < R_SAMPLES; i++) {
      const trig = await api(server.base, 'POST', `/datasets/${ds.id}/runs`, {
        targetId: 'sleepy',
        scorerIds: ['exact'],
        maxConcurrency: 50,
      });
      const runId: string = trig.json.runId;
      await waitFor(
        () => getRun(server.base, ds.id, runId),
        (r) => doneCount(r) >= 100 || FINAL_RUN_STATUSES.includes(r?.status),
        { ms: 60_000, every: 10, what: 'run to reach 100 done' },
      );
      const sse = watchRunStatus(`${server.base}/api/datasets/${ds.id}/runs/${runId}/events`, 'cancelled');
      await sse.ready;
      const t0 = performance.now();
      const res = await api(server.base, 'POST', `/datasets/${ds.id}/runs/${runId}/cancel`);
      const responseMs = performance.now() - t0;
      if (res.status !== 202) throw new Error(`cancel answered ${res.status}: ${JSON.stringify(res.json)}`);
      let run: any;
      for (;;) {
        run = await getRun(server.base, ds.id, runId);
        if (FINAL_RUN_STATUSES.includes(run.status)) break;
        await sleep(10);
      }
      const pollMs = performance.now() - t0;
      if (run.status !== 'cancelled') throw new Error(`run ended ${run.status} instead of cancelled`);
      const sseMs = (await sse.seen) - t0;
      sse.close();
      const s = run.summary;
      if (s.succeeded + s.cancelled + s.failed !== N || s.succeeded !== run.succeededCount)
        throw new Error(`summary of cancelled run does not add up: ${JSON.stringify(s)}`);
      samples.pollMs.push(pollMs);
      samples.sseMs.push(sseMs);
      samples.responseMs.push(responseMs);
      console.log(
        `sample ${i + 1}: cancel → cancelled ${pollMs.toFixed(0)} ms (poll), ${sseMs.toFixed(0)} ms (SSE); POST answered in ${responseMs.toFixed(0)} ms; ${run.succeededCount} results kept`,
      );
    }
  } finally {
    server.killGroup('SIGTERM');
    await waitExit(server, 20_000).catch(() => {});
    await killAllChildren();
  }
  for (const [k, xs] of Object.entries(samples)) console.log(`${k} samples: ${xs.map((x) => x.toFixed(0)).join(', ')}`);
  return {
    samples: R_SAMPLES,
    pollMs: median(samples.pollMs),
    sseMs: median(samples.sseMs),
    responseMs: median(samples.responseMs),
  };
}

const WORKLOADS = {
  W1: { title: 'overhead: 10,000 items, instant target, exact-match, maxConcurrency 50', run: w1 },
  W2: { title: 'latency-bound: 2,000 items, 50 ms target, maxConcurrency 50', run: w2 },
  W3: { title: 'trigger latency over HTTP, 10 vs 100,000 items, worker off', run: w3 },
  T1: {
    title: 'targets and scorers: 5,000 items, code vs http target, 1 vs 7 built-in scorers, maxConcurrency 50',
    run: t1,
  },
  R1: {
    title: `recovery after kill -9 of a real assay serve, default lease and --lease-ms 2000, ${R_SAMPLES} samples each`,
    run: r1,
  },
  R2: {
    title: `cancel → cancelled on a real assay serve, 50 ms target, maxConcurrency 50, ${R_SAMPLES} samples`,
    run: r2,
  },
} as const;
type WorkloadId = keyof typeof WORKLOADS;
/** What `npm run bench` runs without --only: the R workloads take minutes and run only when named. */
const DEFAULT_WORKLOADS: WorkloadId[] = ['W1', 'W2', 'W3'];

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
    const killer = setTimeout(() => proc.kill('SIGKILL'), 15 * 60_000);
    proc.on('error', fail);
    proc.on('close', (code, signal) => {
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
      if (code === 0 && result) ok(result);
      else fail(new Error(`${id} run ${iteration} exited with ${signal ?? code} and no result`));
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const fmt = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

interface Row {
  workload: WorkloadId;
  metric: string;
  median: string;
  runs: string;
  target: string;
  met: string;
}

/** The report's rows for one workload: median, every run, the target and whether it was met. */
function rowsOf(id: WorkloadId, runs: Metrics[]): Row[] {
  const all = (key: string, digits: number) => runs.map((r) => fmt(r[key], digits)).join(' / ');
  const row = (metric: string, key: string, digits: number, target = '', ok?: (v: number) => boolean): Row => {
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
  return [...rowsOfWorkload(id, row), ...context];
}

function rowsOfWorkload(
  id: WorkloadId,
  row: (metric: string, key: string, digits: number, target?: string, ok?: (v: number) => boolean) => Row,
): Row[] {
  switch (id) {
    case 'W1':
      return [
        row('items/s (trigger → completed)', 'itemsPerSec', 0, '≥ 5,000', (v) => v >= 5000),
        row('wall time (s)', 'seconds', 2),
        row('stored results verified', 'storedResults', 0, '= 10,000', (v) => v === 10_000),
        row('  of which: trigger → worker picks the run up (ms)', 'pickupMs', 0),
        row('  of which: planning 10,000 run items (ms)', 'planMs', 0),
        row('  of which: executing + storing + summary (ms)', 'executeMs', 0),
        row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
        row('RSS before createAssay (MB)', 'baseRssMB', 0),
      ];
    case 'W2':
      return [
        row('efficiency (2.0 s ideal / actual)', 'efficiency', 3, '≥ 0.95', (v) => v >= 0.95),
        row('wall time (s)', 'seconds', 3),
        row('  of which: trigger → worker picks the run up (ms)', 'pickupMs', 0),
        row('  of which: planning 2,000 run items (ms)', 'planMs', 0),
        row('  of which: executing + storing + summary (ms)', 'executeMs', 0),
        row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
      ];
    case 'W3':
      return [
        row('trigger p50, 10 items (ms)', 'smallP50Ms', 2),
        row('trigger p99, 10 items (ms)', 'smallP99Ms', 2, '< 25', (v) => v < 25),
        row('trigger p50, 100,000 items (ms)', 'largeP50Ms', 2),
        row('trigger p99, 100,000 items (ms)', 'largeP99Ms', 2, '< 25', (v) => v < 25),
        row('trigger max, 10 items (ms)', 'smallMaxMs', 2),
        row('trigger max, 100,000 items (ms)', 'largeMaxMs', 2),
      ];
    case 'T1':
      return [
        row('code target + exact-match: items/s (trigger → completed)', 'functionItemsPerSec', 0),
        row('http target (own process) + exact-match: items/s', 'httpItemsPerSec', 0),
        row('  http / code throughput', 'httpRatio', 2),
        row('code target + 7 built-in scorers: items/s', 'sevenScorersItemsPerSec', 0),
        row('  7 scorers / 1 scorer throughput', 'scorersRatio', 2),
        row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
      ];
    case 'R1':
      return (['15s', '2s'] as const).flatMap((lease) => {
        const label = lease === '15s' ? 'default lease 15 s' : '--lease-ms 2000';
        const bound = lease === '15s' ? 15_000 : 2_000;
        return [
          row(
            `${label}: restart → first new stored result (ms), median of ${R_SAMPLES}`,
            `l${lease}FirstMs`,
            0,
            `< ${fmt(bound)} (the lease)`,
            (v) => v < bound,
          ),
          row(`${label}: restart → run completed (ms), median of ${R_SAMPLES}`, `l${lease}CompletedMs`, 0),
          row(`${label}:   of which restart → /api/health answers (ms)`, `l${lease}HealthyMs`, 0),
          row(`${label}:   remaining work at the kill, ideal (ms)`, `l${lease}RemainingIdealMs`, 0),
        ];
      });
    case 'R2':
      return [
        row(
          `POST cancel → GET run reads cancelled, polled every 10 ms (ms), median of ${R_SAMPLES}`,
          'pollMs',
          0,
          '< 2,000',
          (v) => v < 2000,
        ),
        row(`POST cancel → run.status cancelled on the SSE stream (ms), median of ${R_SAMPLES}`, 'sseMs', 0),
        row('POST cancel answered 202 (ms)', 'responseMs', 0),
      ];
  }
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
        `unknown argument ${a}; usage: bench/run.ts [--only W1,W2,W3,T1,R1,R2] [--quick] [--json file] [--profile]`,
      );
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    profileFile = opts.profileFile;
    return child(opts.child as WorkloadId, opts.dataDir);
  }

  const iterations = opts.quick ? 1 : 3;
  console.log(`# Assay benchmarks (${iterations} run${iterations > 1 ? 's' : ''} per workload, medians)`);
  for (const line of environment()) console.log(line);
  mkdirSync(TMP, { recursive: true });
  const results: Partial<Record<WorkloadId, Metrics[]>> = {};
  for (const id of opts.only) {
    console.log(`\n${id} ${WORKLOADS[id].title}`);
    const runs: Metrics[] = [];
    for (let i = 1; i <= iterations; i++) {
      const load = loadavg()[0];
      const m = { ...(await runChild(id, i, opts.profile)), loadBefore: load };
      runs.push(m);
      console.log(
        `  run ${i} (load avg before ${load.toFixed(2)}): ${Object.entries(m).map(([k, v]) => `${k}=${fmt(v, Number.isInteger(v) ? 0 : 2)}`)}`,
      );
    }
    results[id] = runs;
  }

  const rows = opts.only.flatMap((id) => rowsOf(id, results[id]!));
  const header = ['workload', 'metric', 'median', `runs (${iterations})`, 'target', 'met'];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${[r.workload, r.metric, r.median, r.runs, r.target, r.met].join(' | ')} |`);
  if (opts.json) {
    writeFileSync(resolve(opts.json), `${JSON.stringify({ environment: environment(), results }, null, 2)}\n`);
    console.log(`\nwrote ${resolve(opts.json)}`);
  }
}

await main();
