/**
 * The embedded default with separate processes: `assay serve --no-worker` and two `assay worker`s
 * on the same SQLite file (no services). Live progress reaches the API's SSE clients although the
 * workers run in other processes without Redis: the stream falls back to the stored run row.
 */
import { join } from 'node:path';
import {
  Driver,
  freePort,
  SLEEPY_RUN,
  sleepyConfig,
  startServer,
  startWorkers,
  tempDir,
  workerPid,
} from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { describe, expect, it } from 'vitest';

cleanUpProcesses();

describe('embedded: one API process and two worker processes on one SQLite file', () => {
  it('runs complete, results are stored once, and SSE on the API sees progress and the final status', async () => {
    const dir = tempDir();
    const config = sleepyConfig(dir, 10);
    const dataDir = join(dir, 'data');
    const common = ['--config', config, '--data-dir', dataDir];
    const port = await freePort();
    const server = await startServer(port, ['--no-worker', ...common], { cwd: dir });
    const d = new Driver(server);
    const workers = await startWorkers(2, ['worker', ...common], { cwd: dir });

    const ITEMS = 300;
    const ds = await d.seedAnswers('embedded-workers', ITEMS);
    const { runId } = await d.startRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 4 });

    let events = '';
    const sse = fetch(`${server.base}/api/datasets/${ds.id}/runs/${runId}/events`).then(async (r) => {
      for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) events += Buffer.from(chunk);
    });

    const run = await d.waitRunFinal(ds.id, runId, 60_000);
    expect(run.status).toBe('completed');
    expect(run.succeededCount).toBe(ITEMS);
    const results = await d.allResults(ds.id, runId);
    expect(new Set(results.map((r) => r.itemId)).size).toBe(ITEMS);
    expect(results.every((r) => workers.some((w) => workerPid(r.workerId) === w.pid))).toBe(true);

    // The stream ends by itself after the final status, which it learnt from the stored row.
    await sse;
    expect(events).toContain('event: run.progress');
    expect(events).toMatch(/event: run\.status\ndata: .*"status":"completed"/);
  }, 90_000);
});
