/**
 * A Mastra project served by the real `assay serve` (the built CLI): its assay.config.ts imports
 * the project's real @mastra/core and `fromMastra`, the model is a local OpenAI-compatible
 * server (50 ms per answer), and the run survives `kill -9` with exactly one result per item.
 */
import { join } from 'node:path';
import { Driver, doneCount, freePort, isFinal, startServer, waitExit, waitFor, writeFile } from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, lastUser, startFakeOpenAI } from '../../core/test/fake-openai.js';
import { installMastra, type MastraProject } from './mastra-install.js';

cleanUpProcesses({ afterEach: true });

const ITEMS = 60;
const HERE = import.meta.dirname;
let project: MastraProject;
let fake: FakeOpenAI;

beforeAll(async () => {
  project = installMastra();
  fake = await startFakeOpenAI(async (req) => {
    await new Promise((r) => setTimeout(r, 50));
    return { content: `You said: ${lastUser(req)}`, usage: { prompt_tokens: 7, completion_tokens: 3 } };
  });
}, 300_000);

afterAll(async () => {
  await fake?.close();
  project?.remove();
});

/** The user's config: their Mastra instance (test/fixture.ts) through `fromMastra`. */
function writeConfig(dir: string) {
  return writeFile(
    dir,
    'assay.config.ts',
    `import { fromMastra } from ${JSON.stringify(join(HERE, '../src/index.ts'))};
import { buildMastra } from ${JSON.stringify(join(HERE, 'fixture.ts'))};
import { projectAt } from ${JSON.stringify(join(HERE, 'mastra-install.ts'))};

const mastra = await buildMastra(projectAt(${JSON.stringify(dir)}), process.env.FAKE_MODEL_URL!);
export default fromMastra(mastra, { agents: ['helper'], workflows: ['calc'], scorers: ['has-sunny'] });
`,
  );
}

describe('assay serve with a Mastra config', () => {
  it('a Mastra agent run survives kill -9 and ends with one result per item', async () => {
    const config = writeConfig(project.dir);
    const dataDir = join(project.dir, 'data');
    const port = await freePort();
    const start = () =>
      startServer(port, ['--config', config, '--data-dir', dataDir, '--host', '127.0.0.1'], {
        cwd: project.dir,
        env: { FAKE_MODEL_URL: fake.baseURL },
        ms: 60_000,
      });
    let server = await start();
    const d = new Driver(server);
    const items = Array.from({ length: ITEMS }, (_, i) => ({
      input: `question ${i}`,
      groundTruth: `You said: question ${i}`,
    }));
    const ds = await d.seedDataset('mastra-crash', items);
    const { runId } = await d.startRun(ds.id, { targetId: 'helper', scorerIds: ['has-sunny'], maxConcurrency: 4 });

    const seen = await waitFor(
      () => d.getRun(ds.id, runId),
      (r) => doneCount(r) >= 10 || isFinal(r),
      { ms: 60_000, every: 10, what: 'ten items done' },
    );
    expect(seen.status, 'the run finished before the kill').toBe('running');
    server.killGroup('SIGKILL');
    expect((await waitExit(server, 10_000)).signal).toBe('SIGKILL');

    server = await start();
    const run = await d.waitRunFinal(ds.id, runId, 90_000);
    expect(run.status).toBe('completed');
    expect(run.succeededCount).toBe(ITEMS);
    const results = await d.allResults(ds.id, runId);
    expect(results).toHaveLength(ITEMS);
    expect(new Set(results.map((r) => r.itemId)).size).toBe(ITEMS);
    for (const r of results) {
      expect(r.status).toBe('succeeded');
      expect(r.output).toBe(`You said: ${r.input}`);
      expect(r.usage).toMatchObject({ inputTokens: 7, outputTokens: 3 });
      expect(r.scores).toEqual([{ scorerId: 'has-sunny', score: 0, reason: 'no sunny', error: null }]);
    }

    // The workflow target is served too: one more run, to the end.
    const wds = await d.seedDataset('mastra-wf', [{ input: { n: 4 } }]);
    const w = await d.startRun(wds.id, { targetId: 'calc', scorerIds: [] });
    expect((await d.waitRunFinal(wds.id, w.runId, 30_000)).status).toBe('completed');
    expect((await d.allResults(wds.id, w.runId))[0].output).toEqual({ n: 8, ok: true });

    server.killGroup('SIGTERM');
    expect((await waitExit(server, 20_000)).code).toBe(0);
  }, 240_000);
});
