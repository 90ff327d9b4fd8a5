/**
 * H1 responsiveness (issue 10): does a real `assay serve` keep answering while it works? One
 * server (its own process group, the default worker threads for targets and scorers) on a data dir
 * seeded beforehand in-process (seeding is not measured). A sampler in this process sends
 * `GET /api/health` on a fixed 50 ms schedule — a new request every 50 ms even while earlier ones
 * are still waiting, so a stall shows up in every request it delays, not in one — and records each
 * answer's latency, from just before the trigger until the run reads final, in three phases:
 *
 * - (a) a 1,000,000-item run is planned and executed: instant target, exact-match, maxConcurrency 50;
 * - (b) a 1,000-item run whose custom scorer spins the CPU for 60 s on one item (others instant),
 *   with the default scorerTimeoutMs (30 s): the item should fail with SCORER_TIMEOUT, the rest succeed;
 * - (c) a 1,000-item run with the built-in `regex` scorer where one item is the ReDoS case
 *   (pattern `^(a+)+$`, output `'a' × 31 + '!'`): it should be scored (0, or an error) or fail
 *   with SCORER_TIMEOUT, the rest succeed.
 *
 * Goal: p99 < 50 ms and max < 250 ms in every phase.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createAssay } from '@assay/runtime';
import { Driver, isFinal } from '@assay/testkit/driver';
import { freePort, killAllChildren, type Server, startServer, waitExit, waitFor } from '@assay/testkit/process';
import { configModule, fmt, itemOf, type Metrics, percentile, type RowOf, seed } from '../harness/lib.js';

export const H1_TITLE =
  'responsiveness of a real assay serve: /api/health every 50 ms during (a) a 1,000,000-item run, (b) a scorer spinning 60 s on one item, (c) a ReDoS regex item';

const SAMPLE_EVERY_MS = 50;
/** Items of (a); BENCH_H1_ITEMS overrides it (for trying the workload out, not for results). */
const BIG = Number(process.env.BENCH_H1_ITEMS ?? 1_000_000);
const SMALL = 1_000;
/** The item of (b) and (c) that misbehaves. */
const BAD = 500;

const CONFIG = `export default {
  targets: [
    { id: 'instant', type: 'function', run: (input) => String(2 * input.n) },
    { id: 'echo', type: 'function', run: (input) => input.text },
  ],
  scorers: [
    {
      id: 'spin60',
      score: ({ input, output, groundTruth }) => {
        if (input.spin) {
          const end = Date.now() + 60000;
          while (Date.now() < end);
        }
        return output === groundTruth ? 1 : 0;
      },
    },
  ],
};
`;

/**
 * Sends `GET /api/health` every `everyMs` on a fixed schedule (overlapping requests when the
 * server is slow) until stopped; every request's latency from send to the end of its body, and
 * when it was sent (ms after the start). Also watches this process's own event loop delay: a late
 * client inflates latencies that the server is not to blame for.
 */
function healthSampler(base: string, everyMs = SAMPLE_EVERY_MS) {
  const samples: { at: number; ms: number }[] = [];
  const errorKinds = new Map<string, number>();
  const error = (kind: string) => errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pending = new Set<Promise<void>>();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const start = performance.now();
  let sent = 0;
  const tick = () => {
    if (stopped) return;
    const t0 = performance.now();
    const p: Promise<void> = fetch(`${base}/api/health`, { signal: AbortSignal.timeout(120_000) })
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.status !== 200) error(`HTTP ${r.status}`);
      })
      .catch((e: Error) => {
        const cause = (e.cause as { code?: string } | undefined)?.code;
        error(`${e.name}: ${e.message}${cause ? ` (${cause})` : ''}`);
      })
      .finally(() => {
        samples.push({ at: t0 - start, ms: performance.now() - t0 });
        pending.delete(p);
      });
    pending.add(p);
    sent++;
    timer = setTimeout(tick, Math.max(0, start + sent * everyMs - performance.now()));
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...pending]);
      lag.disable();
      return {
        ms: samples.map((x) => x.ms).sort((a, b) => a - b),
        samples,
        slowest: [...samples].sort((a, b) => b.ms - a.ms).slice(0, 5),
        errors: [...errorKinds.values()].reduce((a, b) => a + b, 0),
        errorKinds,
        clientLagMaxMs: lag.max / 1e6,
      };
    },
  };
}

/** p99 / max of the answers sent in each tenth of the window: where the slow answers were. */
function timeline(samples: { at: number; ms: number }[]): string {
  const end = Math.max(...samples.map((x) => x.at), 1);
  const parts: string[] = [];
  for (let k = 0; k < 10; k++) {
    const part = samples
      .filter((x) => x.at >= (k * end) / 10 && (x.at < ((k + 1) * end) / 10 || k === 9))
      .map((x) => x.ms)
      .sort((a, b) => a - b);
    if (part.length)
      parts.push(`${k * 10}%: ${percentile(part, 0.99).toFixed(0)}/${part[part.length - 1].toFixed(0)} ms`);
  }
  return `${parts.join(', ')} (p99/max; window ${(end / 1000).toFixed(1)} s)`;
}

interface Phase {
  key: 'a' | 'b' | 'c';
  datasetId: string;
  targetId: string;
  scorerIds: string[];
  items: number;
}

/** Triggers the phase's run with the sampler on; the run's outcome and the latencies while it ran. */
async function runPhase(server: Server, phase: Phase): Promise<Metrics> {
  const { key } = phase;
  const d = new Driver(server);
  const sampler = healthSampler(server.base);
  const t0 = performance.now();
  const trig = await d.triggerRun(phase.datasetId, {
    targetId: phase.targetId,
    scorerIds: phase.scorerIds,
    maxConcurrency: 50,
  });
  if (d.lastStatus !== 202) {
    await sampler.stop();
    throw new Error(`(${key}) trigger answered ${trig.status}: ${JSON.stringify(trig)}`);
  }
  const runId: string = trig.runId;
  const run = await waitFor(
    () => d.getRun(phase.datasetId, runId),
    (r) => isFinal(r),
    { ms: 50 * 60_000, every: 250, what: `(${key}) run to finish` },
  );
  const seconds = (performance.now() - t0) / 1000;
  const { ms, samples, slowest, errors, errorKinds, clientLagMaxMs } = await sampler.stop();
  const out: Metrics = {
    [`${key}P50Ms`]: percentile(ms, 0.5),
    [`${key}P99Ms`]: percentile(ms, 0.99),
    [`${key}MaxMs`]: ms[ms.length - 1],
    [`${key}Samples`]: ms.length,
    [`${key}HealthErrors`]: errors,
    [`${key}Over250Ms`]: ms.filter((x) => x >= 250).length,
    [`${key}ClientLagMaxMs`]: clientLagMaxMs,
    [`${key}RunSeconds`]: seconds,
    [`${key}Completed`]: run.status === 'completed' ? 1 : 0,
    [`${key}Succeeded`]: run.succeededCount,
    [`${key}Failed`]: run.failedCount,
  };
  console.log(
    `(${key}) run ${run.status}: ${run.succeededCount} succeeded, ${run.failedCount} failed of ${phase.items} in ${seconds.toFixed(1)} s; ` +
      `/api/health ${ms.length} samples, p50 ${ms.length ? percentile(ms, 0.5).toFixed(1) : '-'} ms, p99 ${ms.length ? percentile(ms, 0.99).toFixed(1) : '-'} ms, max ${ms.length ? ms[ms.length - 1].toFixed(1) : '-'} ms, ${errors} errors` +
      (run.error ? `; run error: ${JSON.stringify(run.error)}` : ''),
  );
  if (errors) console.log(`(${key}) /api/health errors: ${[...errorKinds].map(([k, n]) => `${n} × ${k}`).join('; ')}`);
  console.log(`(${key}) /api/health by tenth of the window: ${timeline(samples)}`);
  console.log(
    `(${key}) slowest answers: ${slowest.map((x) => `${x.ms.toFixed(0)} ms at +${(x.at / 1000).toFixed(1)} s`).join(', ')}; ` +
      `this process's own event loop delay max ${clientLagMaxMs.toFixed(0)} ms`,
  );
  if (key === 'a') {
    out.aItemsPerSec = phase.items / seconds;
    return out;
  }
  // The misbehaving item, as the API reports it.
  const results = await d.allResults(phase.datasetId, runId);
  const bad = results.find((r) => (key === 'b' ? (r.input as any)?.spin === true : (r.input as any)?.redos === true));
  const others = results.filter((r) => r !== bad);
  const score = bad?.scores?.[0];
  const took =
    bad?.startedAt && bad?.completedAt ? (Date.parse(bad.completedAt) - Date.parse(bad.startedAt)) / 1000 : NaN;
  console.log(
    `(${key}) the bad item: status ${bad?.status}, error ${JSON.stringify(bad?.error ?? null)}, score ${JSON.stringify(score ?? null)}, ` +
      `${fmt(took, 1)} s from start to stored; the other ${others.length}: ${others.filter((r) => r.status === 'succeeded').length} succeeded`,
  );
  out[`${key}BadFailed`] = bad?.status === 'failed' ? 1 : 0;
  out[`${key}BadScorerTimeout`] = bad?.error?.code === 'SCORER_TIMEOUT' ? 1 : 0;
  out[`${key}BadSeconds`] = took;
  out[`${key}OthersSucceeded`] = others.filter((r) => r.status === 'succeeded').length;
  if (key === 'c') {
    out.cBadScore = typeof score?.score === 'number' ? score.score : -1;
    out.cBadScoreError = score?.error ? 1 : 0;
  }
  return out;
}

export async function h1(dataDir: string): Promise<Metrics> {
  const { config, configPath } = await configModule(join(dataDir, 'config'), CONFIG);
  const data = join(dataDir, 'data');
  // Seeding, not measured: the storage API in this process, then the server opens the same file.
  const t0 = performance.now();
  const seeder = await createAssay({ config, dataDir: data, worker: false });
  const big = await seed(seeder, 'h1-big', BIG);
  const spin = await seed(seeder, 'h1-spin', SMALL, (n) => {
    const item = itemOf(n);
    return n === BAD ? { ...item, input: { ...(item.input as object), spin: true } } : item;
  });
  const redos = await seed(seeder, 'h1-redos', SMALL, (n) =>
    n === BAD
      ? { input: { n, text: `${'a'.repeat(31)}!`, redos: true }, groundTruth: '^(a+)+$' }
      : { input: { n, text: `a${n}` }, groundTruth: `^a${n}$` },
  );
  await seeder.close();
  console.log(`seeded ${fmt(BIG)} + 2 × ${fmt(SMALL)} items in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const args = ['--config', configPath, '--data-dir', data, '--host', '127.0.0.1'];
  const server = await startServer(await freePort(), args, { cwd: dataDir, ms: 120_000 });
  const out: Metrics = {};
  try {
    // Warm the client's connection pool before the first window.
    for (let i = 0; i < 5; i++) await (await fetch(`${server.base}/api/health`)).arrayBuffer();
    const phases: Phase[] = [
      { key: 'a', datasetId: big, targetId: 'instant', scorerIds: ['exact-match'], items: BIG },
      { key: 'b', datasetId: spin, targetId: 'instant', scorerIds: ['spin60'], items: SMALL },
      { key: 'c', datasetId: redos, targetId: 'echo', scorerIds: ['regex'], items: SMALL },
    ];
    for (const phase of phases) Object.assign(out, await runPhase(server, phase));
  } finally {
    server.killGroup('SIGTERM');
    await waitExit(server, 30_000).catch(() => {});
    await killAllChildren();
    const notes = server
      .output()
      .split('\n')
      .filter((l) => /watchdog|stopped|busy|SCORER|TARGET|error/i.test(l));
    for (const l of notes.slice(0, 20)) console.log(`server: ${l}`);
  }
  return out;
}

/** The report's rows for H1 (see bench/run.ts rowsOf). */
export function h1Rows(row: RowOf) {
  const phases = [
    ['a', `(a) ${fmt(BIG)}-item run`],
    ['b', '(b) scorer spinning 60 s'],
    ['c', '(c) ReDoS regex item'],
  ] as const;
  return [
    ...phases.flatMap(([k, label]) => [
      row(`${label}: /api/health p50 (ms)`, `${k}P50Ms`, 1),
      row(`${label}: /api/health p99 (ms)`, `${k}P99Ms`, 1, '< 50', (v) => v < 50),
      row(`${label}: /api/health max (ms)`, `${k}MaxMs`, 1, '< 250', (v) => v < 250),
      row(`${label}: samples (every 50 ms)`, `${k}Samples`, 0),
      row(`${label}: answers ≥ 250 ms`, `${k}Over250Ms`, 0),
      row(`${label}: /api/health requests that failed`, `${k}HealthErrors`, 0),
      row(`${label}: the sampler's own event loop delay, max (ms)`, `${k}ClientLagMaxMs`, 0),
      row(`${label}: run wall time (s)`, `${k}RunSeconds`, 1),
      row(`${label}: succeeded`, `${k}Succeeded`, 0),
      row(`${label}: failed`, `${k}Failed`, 0),
    ]),
    row('(a) items/s', 'aItemsPerSec', 0),
    row('(b) spinning item failed with SCORER_TIMEOUT (1 = yes)', 'bBadScorerTimeout', 0, '= 1', (v) => v === 1),
    row('(b) spinning item: start → stored (s)', 'bBadSeconds', 1),
    row('(c) ReDoS item failed (1) or was scored (0)', 'cBadFailed', 0),
    row('(c) ReDoS item: start → stored (s)', 'cBadSeconds', 1),
  ];
}
