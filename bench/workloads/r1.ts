/** R1 recovery after kill -9 of a real `assay serve` (issue 3). Results: docs/benchmarks.md "Reliability". */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withDb } from '@assay/testkit/db';
import { Driver, doneCount, isFinal } from '@assay/testkit/driver';
import { SLEEPY_RUN, sleepyConfig } from '@assay/testkit/files';
import {
  type Server as AssayServer,
  freePort,
  killAllChildren,
  startServer,
  waitExit,
  waitFor,
} from '@assay/testkit/process';
import { fmt, type Metrics, median, type RowOf } from '../harness/lib.js';

/** Samples per R workload run; the report gives their median. */
export const R_SAMPLES = 10;
export const rItems = (n: number) =>
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
  const { runId } = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: CONCURRENCY });
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

/** The report's rows for R1 (see bench/harness/report.ts rowsOf). */
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
