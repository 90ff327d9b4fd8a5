/**
 * `npm run example:mastra`: a Mastra project run through Assay, offline. Installs the example's
 * Mastra packages on first use (Mastra declares Node >= 22; it runs on Node 20, hence
 * --engine-strict=false), starts the local model server, then `assay serve` with this folder's
 * config and dataset: the seeded runs (the agent, then the workflow) run as durable jobs.
 * Prints their scores and leaves the UI up until Ctrl-C (`--once`: exit when they are done).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssayClient } from '@assay/client';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const once = process.argv.includes('--once');
const port = Number(process.env.PORT ?? 4142);
const dataDir = process.env.ASSAY_DATA_DIR ?? join(HERE, '.assay');

if (!existsSync(join(HERE, 'node_modules/@mastra/core/package.json'))) {
  console.log('Installing @mastra/core and the AI SDK provider into examples/mastra (once)…');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  execFileSync('npm', ['install', '--engine-strict=false', '--no-audit', '--no-fund', '--no-package-lock'], {
    cwd: HERE,
    env,
    stdio: 'inherit',
  });
}

const { startModelServer } = await import('./model-server.mjs');
const model = await startModelServer({ latencyMs: 50 });
const server = spawn(
  process.env.ASSAY_BIN ?? join(ROOT, 'node_modules/.bin/assay'),
  [
    'serve',
    '--config',
    join(HERE, 'assay.config.mjs'),
    '--seed',
    join(HERE, 'dataset.json'),
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
  ],
  { env: { ...process.env, MODEL_URL: model.baseURL }, stdio: ['ignore', 'inherit', 'inherit'] },
);
const onExit = (code) => {
  console.error(`assay serve exited (${code})`);
  model.close().then(() => process.exit(code ?? 1));
};
server.once('exit', onExit);
const stop = async (code) => {
  server.off('exit', onExit);
  server.kill('SIGTERM');
  await new Promise((ok) => (server.exitCode === null ? server.once('exit', ok) : ok()));
  await model.close();
  process.exit(code);
};
process.on('SIGINT', () => stop(0));

const url = `http://127.0.0.1:${port}`;
const assay = new AssayClient({ url });
for (let i = 0; ; i++) {
  try {
    await assay.health();
    break;
  } catch (e) {
    if (i > 300) throw e;
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
const ds = (await assay.listDatasets({ perPage: 100 })).datasets.find((d) => d.name === 'mastra-capitals');
const { runs } = await assay.listRuns(ds.id);
for (const r of runs.reverse()) {
  const run = await assay.waitForRun(ds.id, r.id);
  const exact = run.summary?.scorers.find((s) => s.scorerId === 'exact');
  console.log(
    `${run.name}: ${run.status}, ${run.succeededCount} succeeded, ${run.failedCount} failed` +
      (exact ? `, exact ${exact.mean?.toFixed(2)}` : ''),
  );
}
console.log(`\nOpen ${url} (dataset mastra-capitals) to see the runs and their results.`);
if (once) await stop(0);
else console.log('Ctrl-C to stop.');
