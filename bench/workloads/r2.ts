/** R2 cancel → cancelled on a real `assay serve` (issue 3). Results: docs/benchmarks.md "Reliability". */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Driver, doneCount, isFinal } from '@assay/testkit/driver';
import { SLEEPY_RUN, sleepyConfig } from '@assay/testkit/files';
import { freePort, killAllChildren, startServer, waitExit, waitFor } from '@assay/testkit/process';
import { type Metrics, median, type RowOf } from '../harness/lib.js';
import { R_SAMPLES, rItems } from './r1.js';

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
      const trig = await d.triggerRun(ds.id, { ...SLEEPY_RUN, maxConcurrency: 50 });
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
