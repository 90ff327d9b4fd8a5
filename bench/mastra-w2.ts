/**
 * W2 with a Mastra agent (issue 15): 2,000 items, each one `agent.generate` on the local
 * OpenAI-compatible model server (50 ms per answer), at concurrency 50, run two ways on the same
 * machine and the same Mastra instance, alternating:
 * - Assay: an embedded engine (SQLite, targets on the main thread) with `fromMastra`'s target,
 *   timed from the trigger to `completed`;
 * - Mastra's own experiment runner: `dataset.startExperiment({ targetType: 'agent', maxConcurrency: 50 })`
 *   on Mastra's in-memory storage, timed from the call to its summary.
 * Efficiency = ideal / wall time, ideal = 2,000 / 50 × 50 ms = 2.0 s.
 *
 *   node --conditions=assay-source --import tsx bench/mastra-w2.ts [--runs N] [--items N]
 *
 * The real @mastra/core 1.71.0 is installed into a temp project first (packages/mastra/test/mastra-install.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAssay } from '@assay/runtime';
import { lastUser, startFakeOpenAI } from '../packages/core/test/fake-openai.js';
import { fromMastra } from '../packages/mastra/src/index.js';
import { installMastra, MASTRA_VERSION } from '../packages/mastra/test/mastra-install.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('--runs', 3);
const N = arg('--items', 2_000);
const CONCURRENCY = 50;
const LATENCY_MS = 50;
const IDEAL = ((N / CONCURRENCY) * LATENCY_MS) / 1000;

const project = installMastra();
const fake = await startFakeOpenAI(async (req) => {
  await new Promise((r) => setTimeout(r, LATENCY_MS));
  return { content: `answer to ${lastUser(req)}` };
});
const { Mastra } = await project.load('@mastra/core');
const { Agent } = await project.load('@mastra/core/agent');
const { InMemoryStore } = await project.load('@mastra/core/storage');
const { createOpenAICompatible } = await project.load('@ai-sdk/openai-compatible');
const provider = createOpenAICompatible({ name: 'local', baseURL: fake.baseURL, apiKey: 'bench' });
const agent = new Agent({ id: 'w2', name: 'w2', instructions: 'Answer.', model: provider.chatModel('m') });
const mastra = new Mastra({ agents: { w2: agent }, storage: new InMemoryStore(), logger: false });
const questions = Array.from({ length: N }, (_, i) => `question ${i}`);

async function assayOnce(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'assay-bench-mastra-'));
  const assay = await createAssay({ config: fromMastra(mastra, { agents: ['w2'] }), dataDir, pollMs: 20 });
  try {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await assay.app.request(`/api${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as any;
    };
    const ds = await call('POST', '/datasets', { name: 'w2-mastra' });
    await call('POST', `/datasets/${ds.id}/items/batch`, { items: questions.map((input) => ({ input })) });
    const t0 = performance.now();
    const run = await call('POST', `/datasets/${ds.id}/runs`, { targetId: 'w2', maxConcurrency: CONCURRENCY });
    for (;;) {
      const r = await call('GET', `/datasets/${ds.id}/runs/${run.id ?? run.runId}`);
      if (['completed', 'failed', 'cancelled'].includes(r.status)) {
        if (r.status !== 'completed' || r.succeededCount !== N) throw new Error(`assay run ${JSON.stringify(r)}`);
        return (performance.now() - t0) / 1000;
      }
      await new Promise((ok) => setTimeout(ok, 10));
    }
  } finally {
    await assay.close(2000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function mastraOnce(): Promise<number> {
  const ds = await mastra.datasets.create({ name: `w2-${Date.now()}` });
  await ds.addItems({ items: questions.map((input) => ({ input })) });
  const t0 = performance.now();
  const summary = await ds.startExperiment({ targetType: 'agent', targetId: 'w2', maxConcurrency: CONCURRENCY });
  const s = (performance.now() - t0) / 1000;
  if (summary.succeededCount !== N) throw new Error(`mastra experiment ${JSON.stringify(summary).slice(0, 500)}`);
  await mastra.datasets.delete({ id: ds.id });
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = { assay: [] as number[], mastra: [] as number[] };
for (let r = 0; r < RUNS; r++) {
  samples.assay.push(await assayOnce());
  samples.mastra.push(await mastraOnce());
  console.log(
    `run ${r + 1}: assay ${samples.assay[r].toFixed(3)} s, mastra experiment ${samples.mastra[r].toFixed(3)} s (load ${loadavg()[0].toFixed(2)})`,
  );
}
await fake.close();
project.remove();

const row = (what: string, xs: number[]) =>
  `| ${what} | ${median(xs).toFixed(2)} s | ${xs.map((x) => x.toFixed(2)).join(' / ')} | ${(IDEAL / median(xs)).toFixed(2)} |`;
console.log(
  `\nW2 with a Mastra agent: ${N} items, model ${LATENCY_MS} ms, concurrency ${CONCURRENCY}, ideal ${IDEAL.toFixed(2)} s; @mastra/core ${MASTRA_VERSION}, Node ${process.version}, ${cpus().length} CPUs\n`,
);
console.log('| runner | wall (median) | runs | efficiency |\n| --- | --- | --- | --- |');
console.log(row('Assay (fromMastra, embedded, SQLite)', samples.assay));
console.log(row('Mastra experiment runner (in-memory storage)', samples.mastra));
