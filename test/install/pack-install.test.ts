/**
 * Assay as a new user installs it: every publishable package packed (`npm pack`), a fresh project
 * in the temp folder (outside this repository) installing only those tarballs — third-party
 * dependencies come from the registry — and then the README's "Use it in your project" commands:
 * `npx assay init`, `npx assay serve`, a plain `node` ESM script on the SDK that creates a dataset,
 * triggers a run and waits for `completed`, the web UI at `/`, `tsc --strict` over the user's
 * TypeScript, and publint and attw (Are The Types Wrong) over the packages.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Child,
  freePort,
  killAllChildren,
  mib,
  newProject,
  npmEnv,
  npmInstall,
  type Packed,
  packAll,
  REPO_ROOT,
  spawnAssay,
} from '@assay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'assay-install-'));
const app = join(root, 'my-app');
const bin = join(app, 'node_modules/.bin/assay');
let packed: Packed[] = [];
let server: Child | undefined;
let port = 0;

const run = (cmd: string, args: string[], cwd = app) =>
  spawnSync(cmd, args, { cwd, env: npmEnv({ NO_COLOR: '1' }), encoding: 'utf8', timeout: 120_000 });

beforeAll(async () => {
  packed = packAll(join(root, 'tarballs'));
  newProject(app);
  const installed = await npmInstall(
    app,
    packed.map((p) => p.tarball),
  );
  // Not an assertion (the machine is shared): the figures of docs/benchmarks.md come from
  // `npm run bench:install`; this line shows them for the run at hand.
  console.log(
    `[pack-install] ${packed.length} tarballs, ${mib(packed.reduce((s, p) => s + p.size, 0))} MiB; install ${(
      installed.ms / 1000
    ).toFixed(1)} s, node_modules ${mib(installed.bytes)} MiB`,
  );
}, 600_000);

afterAll(async () => {
  await killAllChildren();
  rmSync(root, { recursive: true, force: true });
});

describe('pack and install in a fresh project', () => {
  it('tarballs carry dist, README and LICENSE, and no tests', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(
      ['cli', 'client', 'contract', 'core', 'mastra', 'queue', 'runtime', 'server', 'store', 'ui'].map(
        (n) => `@assay/${n}`,
      ),
    );
    for (const p of packed) {
      expect(p.files, p.name).toContain('README.md');
      expect(p.files, p.name).toContain('LICENSE');
      expect(
        p.files.some((f) => f.startsWith('dist/')),
        p.name,
      ).toBe(true);
      expect(
        p.files.filter((f) => /(^|\/)test\/|\.test\.ts$/.test(f)),
        p.name,
      ).toEqual([]);
      const manifest = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8'));
      expect(manifest.private, p.name).toBeUndefined();
    }
  });

  it('a SQLite-only install leaves out PostgreSQL, BullMQ, ioredis and the AI SDK', () => {
    for (const name of ['pg', 'bullmq', 'ioredis', 'ai'])
      expect(existsSync(join(app, 'node_modules', name)), `${name} installed`).toBe(false);
    // …and asking for them names the package to install.
    const r = run(bin, ['migrate'], app);
    expect(r.status, r.stderr).toBe(0);
    const pg = spawnSync(bin, ['migrate'], {
      cwd: app,
      env: npmEnv({ ASSAY_DATABASE_URL: 'postgres://127.0.0.1:5432/nowhere' }),
      encoding: 'utf8',
    });
    expect(pg.status).not.toBe(0);
    expect(pg.stderr).toContain('npm install pg');
  });

  it('npx assay init, npx assay serve, and a plain node ESM script on the SDK runs a dataset to completed', async () => {
    const init = run('npx', ['assay', 'init']);
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toContain('npx assay serve');
    for (const f of ['assay.config.ts', 'assay.dataset.json']) expect(existsSync(join(app, f)), f).toBe(true);

    port = await freePort();
    server = spawnAssay(['serve', '--port', String(port), '--seed', 'assay.dataset.json'], { cwd: app, bin });
    const deadline = Date.now() + 60_000;
    while (!/listening on/.test(server.output())) {
      if (!server.isRunning() || Date.now() > deadline)
        throw new Error(`assay serve did not start:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    writeFileSync(
      join(app, 'trigger.mjs'),
      `import { AssayClient } from '@assay/client';

const assay = new AssayClient({ url: process.env.ASSAY_URL });
const ds = await assay.createDataset({ name: 'from-the-sdk' });
await assay.addItems(ds.id, [
  { input: { question: 'What is the capital of France?' }, groundTruth: 'Paris' },
  { input: { question: 'What is the capital of Peru?' }, groundTruth: 'Lima' },
  { input: { question: 'What is the capital of Chad?' }, groundTruth: "N'Djamena" },
]);
const { runId, status } = await assay.triggerRun(ds.id, { targetId: 'answer', scorerIds: ['same-answer'] });
const run = await assay.waitForRun(ds.id, runId);
console.log(JSON.stringify({ accepted: status, status: run.status, total: run.totalItems, done: run.succeededCount + run.failedCount }));
`,
    );
    const sdk = spawnSync('node', ['trigger.mjs'], {
      cwd: app,
      env: npmEnv({ ASSAY_URL: `http://127.0.0.1:${port}` }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(sdk.status, sdk.stderr).toBe(0);
    expect(JSON.parse(sdk.stdout.trim().split('\n').at(-1) ?? '')).toEqual({
      accepted: 'pending',
      status: 'completed',
      total: 3,
      done: 3,
    });

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`http://127.0.0.1:${port}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  }, 120_000);

  it("tsc --noEmit --strict passes over the user's TypeScript, checking Assay's declarations, not its sources", () => {
    writeFileSync(
      join(app, 'check.ts'),
      `import { AssayClient, type Run } from '@assay/client';
import { defineConfig } from '@assay/core';
import { routes } from '@assay/contract';

export const config = defineConfig({
  targets: [{ id: 'echo', type: 'function', run: async (input: unknown) => input }],
  scorers: [{ id: 'same', use: 'exact-match' }],
});
export async function finished(datasetId: string, runId: string): Promise<Run['status']> {
  const assay = new AssayClient({ url: 'http://127.0.0.1:4141' });
  const run = await assay.waitForRun(datasetId, runId);
  return run.status;
}
export const triggerPath: string = routes.triggerRun.path;
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['es2023', 'dom'],
          types: [],
          skipLibCheck: false,
        },
        include: ['*.ts'],
      }),
    );
    const tsc = run('node', [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.', '--listFilesOnly']);
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const files = tsc.stdout.split('\n').filter((f) => f.includes('/@assay/'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !f.endsWith('.d.ts'))).toEqual([]);
    const check = run('node', [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.']);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  }, 120_000);

  it('the SDK bundles for a browser: no Node built-ins, and no zod at run time', async () => {
    writeFileSync(
      join(app, 'browser.mjs'),
      `import { AssayClient } from '@assay/client';\nexport const client = new AssayClient({ url: location.origin });\n`,
    );
    const { build } = await import('esbuild');
    const out = await build({
      entryPoints: [join(app, 'browser.mjs')],
      absWorkingDir: app,
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((i) => i.includes('@assay/client/dist/'))).toBe(true);
    expect(inputs.filter((i) => /node_modules\/zod\/|^node:/.test(i))).toEqual([]);
    expect(out.outputFiles[0]?.text.length ?? 0).toBeGreaterThan(0);
  });

  it('publint and attw (Are The Types Wrong) report no errors', () => {
    for (const p of packed) {
      const lint = spawnSync('node', [join(REPO_ROOT, 'node_modules/publint/src/cli.js'), p.dir, '--strict'], {
        cwd: REPO_ROOT,
        env: npmEnv(),
        encoding: 'utf8',
      });
      expect(lint.status, `publint ${p.name}: ${lint.stdout}${lint.stderr}`).toBe(0);
      if (p.name === '@assay/ui' || p.name === '@assay/cli') continue; // no importable entry points
      // Exits non-zero on any problem of an ES-module package (node10 and require() are not ours).
      const attw = spawnSync(
        'node',
        [join(REPO_ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), p.tarball, '--profile', 'esm-only'],
        { cwd: REPO_ROOT, env: npmEnv({ NO_COLOR: '1' }), encoding: 'utf8' },
      );
      expect(attw.status, `attw ${p.name}: ${attw.stdout}${attw.stderr}`).toBe(0);
    }
  }, 180_000);
});
