/**
 * `assay init` in a project: a starter config, a sample dataset and npm scripts, the next two
 * commands printed — and those commands work: the real `assay serve` seeds the sample, the real
 * `assay run` runs it to the end. Run again, it refuses and writes nothing.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assay, type Spawned, spawnAssay, workspace } from './helpers.js';

const ws = workspace();
// A project of its own: the workspace holds a config of the CLI tests.
const dir = join(ws.dir, 'my-app');
mkdirSync(dir);
const running: Spawned[] = [];
afterAll(async () => {
  for (const s of running) s.child.kill('SIGTERM');
  await Promise.all(running.map((s) => s.done));
});

describe('assay init', () => {
  it('writes a config, a dataset and npm scripts that serve and run; a second init refuses and changes nothing', async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'my-app', scripts: { test: 'vitest' } }));
    const r = await assay(['init'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('npx assay serve --seed assay.dataset.json');
    expect(r.stdout).toContain('npx assay run sample --target answer --watch');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.scripts).toEqual({
      test: 'vitest',
      'assay:serve': 'assay serve --seed assay.dataset.json',
      'assay:run': 'assay run sample --target answer --watch',
    });

    const before = ['assay.config.ts', 'assay.dataset.json', 'package.json'].map((f) =>
      readFileSync(join(dir, f), 'utf8'),
    );
    const again = await assay(['init'], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite assay.config.ts, assay.dataset.json');
    expect(
      ['assay.config.ts', 'assay.dataset.json', 'package.json'].map((f) => readFileSync(join(dir, f), 'utf8')),
    ).toEqual(before);

    // The printed commands, on a free port.
    const server = spawnAssay(['serve', '--port', '0', '--seed', 'assay.dataset.json'], dir);
    running.push(server);
    const [, port] = await server.waitFor(/listening on http:\/\/\S+:(\d+)/);
    const run = await assay(
      ['run', 'sample', '--target', 'answer', '--url', `http://127.0.0.1:${port}`, '--watch', '--json'],
      dir,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.run ?? summary).toMatchObject({ status: 'completed', succeededCount: 5 });
  }, 60_000);
});
