/**
 * What the scale-out suites share: PostgreSQL and Redis (skip locally, fail under
 * `ASSAY_REQUIRE_SERVICES=1`), one fresh database per file, and the deployment itself — a config,
 * the database migrated, `assay serve --no-worker` and `n` × `assay worker`, all real processes.
 */
import type { ListedResult } from '@assay/client';
import {
  type Child,
  Driver,
  doneCount,
  dropDatabase,
  freePort,
  freshDatabase,
  runAssay,
  type Server,
  servicesUp,
  sleepyConfig,
  startServer,
  startWorkers,
  tempDir,
  waitFor,
  workerPid,
} from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { expect } from 'vitest';

/**
 * Checks the services once for the file and registers its clean-up (processes, temp folders, the
 * database; `also` first, e.g. a redis-server of the test's own). `up` false: skip the suite.
 */
export async function scaleOutSuite(what: string, tag: string, also?: () => Promise<void>) {
  const up = await servicesUp(what, { redis: true, postgres: true });
  const db = `assay_e2e_${tag}_${process.pid}`;
  cleanUpProcesses({
    also: async () => {
      await also?.();
      if (up) await dropDatabase(db);
    },
  });
  return { up, db, freshDatabase: () => freshDatabase(db) };
}

export interface Deployment {
  dir: string;
  config: string;
  env: Record<string, string>;
  /** Migrates (asserting exit 0) and starts the API process and `workers` × `worker <workerArgs>`. */
  start(workers: number, workerArgs: string[]): Promise<Started>;
}

export interface Started {
  migrated: Awaited<ReturnType<typeof runAssay>>;
  server: Server;
  d: Driver;
  workers: Child[];
}

/** A temp folder with the sleepy config (20 ms) and the environment of a PostgreSQL + Redis deployment. */
export function deployment(env: Record<string, string>): Deployment {
  const dir = tempDir();
  const config = sleepyConfig(dir, 20);
  return {
    dir,
    config,
    env,
    async start(n, workerArgs) {
      const migrated = await runAssay(['migrate'], { cwd: dir, env });
      expect(migrated.code, migrated.output).toBe(0);
      const server = await startServer(await freePort(), ['--no-worker', '--config', config], { cwd: dir, env });
      const workers = await startWorkers(n, ['worker', '--config', config, ...workerArgs], { cwd: dir, env });
      return { migrated, server, d: new Driver(server), workers };
    },
  };
}

/** Exactly one succeeded result per item (repetition 1), each with the answer the sleepy target echoes. */
export function expectOneAnswerPerItem(results: ListedResult[], items: number): void {
  expect(results).toHaveLength(items);
  expect(new Set(results.map((r) => `${r.itemId}:${r.repetition}`)).size).toBe(items);
  expect(
    results.every((r) => r.status === 'succeeded' && r.output === (r.input as { answer?: string } | null)?.answer),
  ).toBe(true);
}

/**
 * Waits (polling every 25 ms, up to 60 s) until the run has `done` items done, then returns a
 * worker that produced results on the first results page: one that holds claims and writes outcomes.
 */
export async function producingWorker(d: Driver, datasetId: string, runId: string, workers: Child[], done: number) {
  await waitFor(
    () => d.getRun(datasetId, runId),
    (r) => doneCount(r) >= done,
    { what: `${done} done items`, ms: 60_000, every: 25 },
  );
  const first = await d.listRunResults(datasetId, runId, { page: 0, perPage: 100 });
  const producing = new Set(first.results.map((r) => workerPid(r.workerId)));
  return workers.find((w) => producing.has(w.pid)) ?? workers[0];
}
