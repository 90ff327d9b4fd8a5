/**
 * User code cannot take the server down (issue 10): targets and scorers run in worker threads of
 * the real `assay serve`, so a busy loop, a catastrophic regular expression or a huge edit distance
 * never stops `/api/health` from answering, and every run still reaches a final state with the
 * guilty item failed (TARGET_TIMEOUT, SCORER_TIMEOUT, USER_CODE_EXITED) and the rest succeeded.
 */
import { join } from 'node:path';
import { Driver, freePort, type Server, sleep, startServer, tempDir, waitExit, writeFile } from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { describe, expect, it } from 'vitest';

cleanUpProcesses({ afterEach: true });

const CONFIG = `
const spinForever = () => { for (;;) {} };
export default {
  targets: [
    { id: 'echo', type: 'function', run: async (input) => input },
    {
      id: 'mixed',
      type: 'function',
      run: async (input) => {
        if (input.spin) spinForever();
        if (input.spinLater) { await new Promise((r) => setTimeout(r, 20)); spinForever(); }
        if (input.exit) process.exit(7);
        await new Promise((r) => setTimeout(r, 10));
        return input.answer;
      },
    },
  ],
  scorers: [
    { id: 'spins', score: ({ input }) => { if (input.spinScore) spinForever(); return 1; } },
    { id: 'exact', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) },
    { id: 'redos', use: 'regex' },
  ],
};
`;

/** Samples \`/api/health\` every 100 ms until \`stop\`; resolves with the slowest answer in ms. */
function sampleHealth(server: Server, stop: AbortSignal): Promise<number> {
  return (async () => {
    let worst = 0;
    while (!stop.aborted) {
      const t0 = performance.now();
      const r = await fetch(`${server.base}/api/health`, { signal: AbortSignal.timeout(10_000) });
      expect(r.status).toBe(200);
      await r.text();
      worst = Math.max(worst, performance.now() - t0);
      await sleep(100);
    }
    return worst;
  })();
}

async function serve() {
  const dir = tempDir();
  const config = writeFile(dir, 'assay.config.mjs', CONFIG);
  const port = await freePort();
  const server = await startServer(port, ['--config', config, '--data-dir', join(dir, 'data'), '--lease-ms', '2000']);
  return server;
}

describe('user code in worker threads', () => {
  it('a target that spins, one that spins after an await, one that exits: those items fail, the rest succeed, health answers throughout', async () => {
    const server = await serve();
    const d = new Driver(server);
    const items = Array.from({ length: 30 }, (_, i) => ({
      input: { answer: `a${i}`, spin: i === 3, spinLater: i === 11, exit: i === 20 },
      groundTruth: `a${i}`,
    }));
    const ds = await d.seedDataset('spinning-targets', items);
    const stop = new AbortController();
    const health = sampleHealth(server, stop.signal);
    const trig = await d.startRun(ds.id, {
      targetId: 'mixed',
      scorerIds: ['exact'],
      itemTimeoutMs: 1000,
      maxRetries: 0,
      maxConcurrency: 5,
    });
    const run = await d.waitRunFinal(ds.id, trig.runId, 60_000);
    stop.abort();
    const worst = await health;
    expect(run).toMatchObject({ status: 'completed', succeededCount: 27, failedCount: 3 });
    const results = await d.allResults(ds.id, trig.runId);
    const byAnswer = new Map<string, any>(results.map((r: any) => [r.input.answer, r]));
    expect(byAnswer.get('a3').error.code).toBe('TARGET_TIMEOUT');
    expect(byAnswer.get('a11').error.code).toBe('TARGET_TIMEOUT');
    expect(byAnswer.get('a20').error.code).toBe('USER_CODE_EXITED');
    expect(results.filter((r: any) => r.status === 'succeeded')).toHaveLength(27);
    // Not a speed assertion: without isolation a request waits for the busy loop, forever.
    expect(worst).toBeLessThan(10_000);
    server.killGroup('SIGTERM');
    await waitExit(server, 15_000);
  }, 120_000);

  it('a scorer that spins fails its item with SCORER_TIMEOUT; a ReDoS pattern and a 120 kB levenshtein finish', async () => {
    const server = await serve();
    const d = new Driver(server);
    const long = 'ab'.repeat(60_000);
    const items = [
      ...Array.from({ length: 8 }, (_, i) => ({
        input: { answer: `a${i}`, spinScore: i === 5 },
        groundTruth: `a${i}`,
      })),
    ];
    const ds = await d.seedDataset('spinning-scorer', items);
    const stop = new AbortController();
    const health = sampleHealth(server, stop.signal);
    const trig = await d.startRun(ds.id, {
      targetId: 'mixed',
      scorerIds: ['spins', 'exact'],
      scorerTimeoutMs: 1500,
    });
    const run = await d.waitRunFinal(ds.id, trig.runId, 60_000);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 7, failedCount: 1 });
    const results = await d.allResults(ds.id, trig.runId);
    const bad: any = results.find((r: any) => r.input.spinScore);
    expect(bad.error).toMatchObject({ code: 'SCORER_TIMEOUT' });
    expect(bad.error.message).toContain("scorer 'spins'");

    // Built-ins fed with hostile data: a catastrophic pattern and a huge edit distance.
    const hostile = await d.seedDataset('hostile-builtins', [
      { input: `${'a'.repeat(31)}!`, groundTruth: '^(a+)+$' },
      { input: long, groundTruth: 'ba'.repeat(60_000) },
    ]);
    const trig2 = await d.startRun(hostile.id, {
      targetId: 'echo',
      scorerIds: ['redos', 'levenshtein'],
      itemTimeoutMs: 1000,
      scorerTimeoutMs: 5000,
    });
    const run2 = await d.waitRunFinal(hostile.id, trig2.runId, 60_000);
    stop.abort();
    const worst = await health;
    expect(run2.status).toBe('completed');
    const r2 = await d.allResults(hostile.id, trig2.runId);
    expect(r2).toHaveLength(2);
    for (const r of r2) expect(r.scores).toHaveLength(2);
    expect(worst).toBeLessThan(10_000);
    server.killGroup('SIGTERM');
    await waitExit(server, 15_000);
  }, 120_000);
});
