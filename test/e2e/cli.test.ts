/**
 * The `assay` command line, run as a real child process: start-up checks, API key, config
 * errors, migrate, seed, help.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import {
  Driver,
  freePort,
  killAllChildren,
  REPO_ROOT,
  rawApi,
  runAssay,
  sleepyConfig,
  startServer,
  tempDir,
  waitExit,
  withDb,
  writeFile,
} from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { afterEach, describe, expect, it } from 'vitest';

const netServers: NetServer[] = [];
afterEach(async () => {
  await killAllChildren();
  await Promise.all(netServers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
cleanUpProcesses();

/**
 * `assay <args>` (a serve that must not start) exits on its own with a non-zero code, and its
 * stderr contains each of `says`; returns the stderr for more checks.
 */
async function expectRefused(args: string[], opts: { cwd: string; env?: Record<string, string> }, ...says: string[]) {
  const r = await runAssay(args, opts);
  expect(r.code, r.output).not.toBe(0);
  expect(r.code).not.toBeNull();
  for (const text of says) expect(r.stderr).toContain(text);
  return r.stderr;
}

describe('assay CLI', () => {
  it('--help lists the serve and migrate commands', async () => {
    const r = await runAssay(['--help']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/^\s+serve\b/m);
    expect(r.stdout).toMatch(/^\s+migrate\b/m);
  });

  it('refuses a non-loopback --host without ASSAY_API_KEY', async () => {
    const dir = tempDir();
    const port = await freePort();
    const dataDir = join(dir, 'data');
    await expectRefused(
      ['serve', '--host', '0.0.0.0', '--port', String(port), '--data-dir', dataDir],
      { cwd: dir },
      'ASSAY_API_KEY',
    );

    // The same through the HOST environment variable.
    await expectRefused(
      ['serve', '--port', String(port), '--data-dir', dataDir],
      { cwd: dir, env: { HOST: '0.0.0.0' } },
      'ASSAY_API_KEY',
    );
  });

  it('with ASSAY_API_KEY on 0.0.0.0, /api/datasets needs Authorization: Bearer <key>', async () => {
    const dir = tempDir();
    const port = await freePort();
    const key = 'e2e-secret-key-123';
    const server = await startServer(port, ['--host', '0.0.0.0', '--data-dir', join(dir, 'data')], {
      cwd: dir,
      env: { ASSAY_API_KEY: key },
    });
    const d = new Driver(server);
    // Requests only ever go to 127.0.0.1.
    expect(server.base).toBe(`http://127.0.0.1:${port}`);
    await d.health();
    expect(d.lastStatus).toBe(200);

    // No key, a malformed header: the raw wire answer.
    const none = await rawApi(server.base, 'GET', '/datasets');
    expect(none.status).toBe(401);
    expect(typeof none.json?.error?.code).toBe('string');
    expect((await rawApi(server.base, 'GET', '/datasets', undefined, { authorization: key })).status).toBe(401);
    await expect(new Driver(server, { apiKey: 'wrong' }).listDatasets()).rejects.toMatchObject({ status: 401 });
    await expect(d.createDataset({ name: 'nope' })).rejects.toMatchObject({ status: 401 });

    const authed = new Driver(server, { apiKey: key });
    const ok = await authed.listDatasets();
    expect(authed.lastStatus).toBe(200);
    expect(ok.datasets).toEqual([]);
    await authed.createDataset({ name: 'authorized' });
    expect(authed.lastStatus).toBe(201);
  }, 60_000);

  it('--config with a missing file exits non-zero naming the file', async () => {
    const dir = tempDir();
    const args = [
      'serve',
      '--config',
      'missing.mjs',
      '--port',
      String(await freePort()),
      '--data-dir',
      join(dir, 'data'),
    ];
    await expectRefused(args, { cwd: dir }, 'missing.mjs');
  });

  it('a config whose target has no run exits non-zero naming targets[0].run', async () => {
    const dir = tempDir();
    const config = writeFile(
      dir,
      'bad.config.mjs',
      `export default { targets: [{ id: 'no-run', type: 'function' }], scorers: [] };\n`,
    );
    const args = ['serve', '--config', config, '--port', String(await freePort()), '--data-dir', join(dir, 'data')];
    await expectRefused(args, { cwd: dir }, 'targets[0].run');
  });

  it('migrate --data-dir creates the database and exits 0 (and again on an existing one)', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'fresh', 'nested');
    expect(existsSync(dataDir)).toBe(false);
    const r = await runAssay(['migrate', '--data-dir', dataDir], { cwd: dir });
    expect(r.code, r.output).toBe(0);
    expect(existsSync(join(dataDir, 'assay.db'))).toBe(true);
    const tables = withDb(dataDir, (db) =>
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all(),
    ) as string[];
    expect(tables).toEqual(expect.arrayContaining(['datasets', 'dataset_items', 'runs', 'run_items', 'scores']));

    const again = await runAssay(['migrate', '--data-dir', dataDir], { cwd: dir });
    expect(again.code, again.output).toBe(0);
    withDb(dataDir, (db) => expect(db.pragma('integrity_check', { simple: true })).toBe('ok'));
  }, 60_000);

  it('--port already in use exits non-zero with a clear message', async () => {
    const dir = tempDir();
    const port = await freePort();
    const blocker = createServer();
    netServers.push(blocker);
    await new Promise<void>((ok, fail) => {
      blocker.once('error', fail);
      blocker.listen(port, '127.0.0.1', () => ok());
    });
    const args = [
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      join(dir, 'data'),
      '--no-worker',
    ];
    expect(await expectRefused(args, { cwd: dir }, String(port))).toMatch(/already in use/i);
  });

  it('--seed creates the dataset once; a restart does not duplicate it', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const config = sleepyConfig(dir, 1);
    const seedFile = 'examples/demo-dataset.json';
    const seed = JSON.parse(readFileSync(join(REPO_ROOT, seedFile), 'utf8')) as { name: string; items: unknown[] };
    const port = await freePort();
    // Relative --seed path, resolved against the working directory (the repository root).
    const args = ['--config', config, '--data-dir', dataDir, '--host', '127.0.0.1', '--seed', seedFile];

    const check = async (d: Driver) => {
      const list = await d.listDatasets({ perPage: 100 });
      expect(d.lastStatus).toBe(200);
      const named = list.datasets.filter((x) => x.name === seed.name);
      expect(named).toHaveLength(1);
      expect(list.datasets).toHaveLength(1);
      const items = await d.listItems(named[0].id, { perPage: 100 });
      expect(d.lastStatus).toBe(200);
      expect(items.pagination.total).toBe(seed.items.length);
      return named[0].id;
    };

    let server = await startServer(port, args, { cwd: REPO_ROOT });
    const d = new Driver(server);
    const firstId = await check(d);
    server.killGroup('SIGTERM');
    expect((await waitExit(server, 15_000)).code).toBe(0);

    server = await startServer(port, args, { cwd: REPO_ROOT });
    expect(await check(d)).toBe(firstId);
    server.killGroup('SIGTERM');
    expect((await waitExit(server, 15_000)).code).toBe(0);
  }, 60_000);
});
