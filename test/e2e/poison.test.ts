/**
 * A poison item: one input makes the target kill its own worker process (SIGKILL), every time.
 * Restarted like a supervisor would, the server must not crash-loop on it forever, and must not
 * blame the items that merely ran next to it: the poison item ends `failed` (WORKER_LOST) after
 * three losses, every other item `succeeded`, and the run `completed`.
 */
import { join } from 'node:path';
import {
  Driver,
  freePort,
  isFinal,
  type Server,
  sleep,
  startServer,
  tempDir,
  waitExit,
  writeFile,
} from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { describe, expect, it } from 'vitest';

cleanUpProcesses({ afterEach: true });

const CONFIG = `
export default {
  targets: [
    {
      id: 'fragile',
      type: 'function',
      run: async (input) => {
        await new Promise((r) => setTimeout(r, 30));
        if (input.poison) process.kill(process.pid, 'SIGKILL');
        return input.answer;
      },
    },
  ],
};
`;

describe('a poison item that kills its worker every time', () => {
  it('fails alone after three losses; its neighbours succeed; the run completes', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'assay.config.mjs', CONFIG);
    const port = await freePort();
    const args = ['--config', config, '--data-dir', join(dir, 'data'), '--lease-ms', '3000'];
    let server: Server = await startServer(port, args);
    const d = new Driver(server);
    const items = Array.from({ length: 40 }, (_, i) => ({
      input: { answer: `a${i}`, poison: i === 12 },
      groundTruth: `a${i}`,
    }));
    const ds = await d.seedDataset('poison', items);
    const { runId } = await d.triggerRun(ds.id, { targetId: 'fragile', maxConcurrency: 5, maxConsecutiveFailures: 0 });

    // A supervisor: whenever the server dies, start it again (at most 8 times).
    let crashes = 0;
    let run: any = null;
    for (;;) {
      const exited = await Promise.race([server.exited.then(() => true), sleep(250).then(() => false)]);
      if (exited) {
        crashes++;
        expect(crashes, server.output().slice(-2000)).toBeLessThanOrEqual(8);
        server = await startServer(port, args);
        continue;
      }
      run = await d.getRun(ds.id, runId).catch(() => null);
      if (run && isFinal(run)) break;
    }
    expect(run).toMatchObject({ status: 'completed', succeededCount: 39, failedCount: 1 });
    expect(crashes).toBe(3);
    const results = await d.allResults(ds.id, runId);
    expect(results).toHaveLength(40);
    const poison: any = results.find((r: any) => r.input.poison);
    expect(poison.status).toBe('failed');
    expect(poison.error).toMatchObject({ code: 'WORKER_LOST', retryable: false });
    expect(poison.error.message).toContain('stopped 3 times');
    for (const r of results.filter((x: any) => !x.input.poison)) {
      expect(r).toMatchObject({ status: 'succeeded', output: (r.input as { answer: string }).answer });
    }
    server.killGroup('SIGTERM');
    await waitExit(server, 15_000);
  }, 120_000);
});
