/**
 * The reliability workloads of bench/run.ts (issue 3), on real `assay serve` child processes:
 * R1 recovery after kill -9, R2 cancel → cancelled. Results: docs/benchmarks.md "Reliability".
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Server as AssayServer,
  Driver,
  doneCount,
  freePort,
  isFinal,
  killAllChildren,
  sleepyConfig,
  startServer,
  waitExit,
  waitFor,
  withDb,
} from '@assay/testkit';
import { fmt, type Metrics, median, type RowOf } from './lib.js';

/** Samples per R workload run; the report gives their median. */
export const R_SAMPLES = 10;
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
  const d = new Driver(server);
  const ds = await d.seedDataset('r1', rItems(N));
  const trig = await d.triggerRun(ds.id, {
    targetId: 'sleepy',
    scorerIds: ['exact'],
    maxConcurrency: CONCURRENCY,
  });
  if (d.lastStatus !== 202) throw new Error(`trigger answered ${trig.status}: ${JSON.stringify(trig)}`);
  const runId: string = trig.runId;
  const seen = await waitFor(
    () => d.getRun(ds.id, runId),
    (r) => doneCount(r) >= KILL_AT || isFinal(r),
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
  const run = await d.waitRunFinal(ds.id, runId, 120_000);
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
export async function r1(dataDir: string): Promise<Metrics> {
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
export async function r2(dataDir: string): Promise<Metrics> {
  const N = 2_000;
  const dir = join(dataDir, 'r2');
  mkdirSync(dir, { recursive: true });
  const args = ['--config', sleepyConfig(dir, 50), '--data-dir', join(dir, 'data'), '--host', '127.0.0.1'];
  const server = await startServer(await freePort(), args, { cwd: dir, ms: 60_000 });
  const d = new Driver(server);
  const samples = { pollMs: [] as number[], sseMs: [] as number[], responseMs: [] as number[] };
  try {
    const ds = await d.seedDataset('r2', rItems(N));
    for (let i = 0; i < R_SAMPLES; i++) {
      const trig = await d.triggerRun(ds.id, {
        targetId: 'sleepy',
        scorerIds: ['exact'],
        maxConcurrency: 50,
      });
      const runId: string = trig.runId;
      await waitFor(
        () => d.getRun(ds.id, runId),
        (r) => doneCount(r) >= 100 || isFinal(r),
        { ms: 60_000, every: 10, what: 'run to reach 100 done' },
      );
      const sse = watchRunStatus(`${server.base}/api/datasets/${ds.id}/runs/${runId}/events`, 'cancelled');
      await sse.ready;
      const t0 = performance.now();
      const res = await d.cancelRun(ds.id, runId);
      const responseMs = performance.now() - t0;
      if (d.lastStatus !== 202) throw new Error(`cancel answered ${res.status}: ${JSON.stringify(res)}`);
      let run: any;
      for (;;) {
        run = await d.getRun(ds.id, runId);
        if (isFinal(run)) break;
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

/** The report's rows for R1 (see bench/run.ts rowsOf). */
export function r1Rows(row: RowOf) {
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
}

/** The report's rows for R2. */
export function r2Rows(row: RowOf) {
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
