/**
 * The in-process workloads of bench/run.ts: W1 overhead and W2 latency-bound (in worker threads,
 * as under `assay serve --config`, or on the main thread: W1M / W2M), W3 trigger latency over
 * HTTP, T1 targets and scorers. Each runs inside a bench child process on a fresh data dir.
 */
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AssayConfig } from '@assay/core';
import { type Assay, createAssay } from '@assay/server';
import { serve } from '@hono/node-server';
import {
  answer,
  configModule,
  type Metrics,
  maxRssMB,
  percentile,
  type Question,
  type RowOf,
  rssMB,
  seed,
  timedRun,
  verifyResults,
  withRssSampler,
} from './lib.js';

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
export async function w1(dataDir: string, placement: Placement): Promise<Metrics> {
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
export async function w2(dataDir: string, placement: Placement): Promise<Metrics> {
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
export async function t1(dataDir: string): Promise<Metrics> {
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
export async function w3(dataDir: string): Promise<Metrics> {
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

export const W1_ROWS = (row: RowOf) => [
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
  row('1-item warm-up run right after seeding, not timed above (ms)', 'warmUpMs', 0),
];
export const W2_ROWS = (row: RowOf) => [
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

export const W3_ROWS = (row: RowOf) => [
  row('trigger p50, 10 items (ms)', 'smallP50Ms', 2),
  row('trigger p99, 10 items (ms)', 'smallP99Ms', 2, '< 25', (v) => v < 25),
  row('trigger p50, 100,000 items (ms)', 'largeP50Ms', 2),
  row('trigger p99, 100,000 items (ms)', 'largeP99Ms', 2, '< 25', (v) => v < 25),
  row('trigger max, 10 items (ms)', 'smallMaxMs', 2),
  row('trigger max, 100,000 items (ms)', 'largeMaxMs', 2),
];

export const T1_ROWS = (row: RowOf) => [
  row('code target + exact-match: items/s (trigger → completed)', 'functionItemsPerSec', 0),
  row('http target (own process) + exact-match: items/s', 'httpItemsPerSec', 0),
  row('  http / code throughput', 'httpRatio', 2),
  row('code target + 7 built-in scorers: items/s', 'sevenScorersItemsPerSec', 0),
  row('  7 scorers / 1 scorer throughput', 'scorersRatio', 2),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
];
