/**
 * examples/mastra as `npm run example:mastra` runs it (`node run.mjs --once`): the real
 * @mastra/core, the example's own model server, the built `assay serve` with the seeded runs of
 * the agent and the workflow. The example folder is copied into a temp project that has Mastra
 * installed and @assay/mastra and @assay/client linked, as a workspace install would.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSAY_BIN, freePort } from '@assay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installMastra, type MastraProject } from './mastra-install.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const EXAMPLE = resolve(HERE, '../../../examples/mastra');
let project: MastraProject;

beforeAll(() => {
  project = installMastra();
  for (const f of readdirSync(EXAMPLE))
    if (/\.(mjs|json)$/.test(f) && f !== 'package.json') copyFileSync(join(EXAMPLE, f), join(project.dir, f));
  mkdirSync(join(project.dir, 'node_modules/@assay'), { recursive: true });
  symlinkSync(resolve(HERE, '..'), join(project.dir, 'node_modules/@assay/mastra'));
  symlinkSync(resolve(HERE, '../../client'), join(project.dir, 'node_modules/@assay/client'));
}, 300_000);

afterAll(() => project?.remove());

describe('examples/mastra', () => {
  it('runs the Mastra agent and workflow through assay serve and prints their scores', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['run.mjs', '--once'], {
      cwd: project.dir,
      env: { ...process.env, ASSAY_BIN, PORT: String(port), ASSAY_DATA_DIR: join(project.dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const code = await new Promise((ok) => child.once('close', ok));
    expect(code, out.slice(-3000)).toBe(0);
    // Six of seven capitals are in the tool's table; the agent does not know Atlantis's, and the
    // workflow's `tidy` step fails on that answer.
    expect(out).toContain('Mastra agent: capitals: completed, 7 succeeded, 0 failed, exact 0.86');
    expect(out).toContain('Mastra workflow: shout: completed, 6 succeeded, 1 failed, exact 1.00');
  }, 120_000);
});
