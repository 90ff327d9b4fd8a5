/**
 * `assay import mastra` with the built CLI: it loads the user's module that exports a Mastra
 * instance (the real @mastra/core, in a project of its own), reads its datasets through Mastra's
 * datasets API and creates them in Assay (here the local data directory), Mastra item ids as
 * external ids. Bad input names the problem and exits 2. (What a rerun imports is tested through
 * the SDK helper in import-datasets.test.ts: the in-memory storage used here starts empty in each
 * process.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASSAY_BIN, cleanEnv } from '@assay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installMastra, type MastraProject } from './mastra-install.js';

let project: MastraProject;
let dataDir: string;

const assay = (args: string[]) =>
  spawnSync(ASSAY_BIN, args, { cwd: project.dir, env: cleanEnv({ NO_COLOR: '1' }), encoding: 'utf8', timeout: 60_000 });

beforeAll(() => {
  project = installMastra();
  dataDir = mkdtempSync(join(tmpdir(), 'assay-mastra-cli-'));
  writeFileSync(
    join(project.dir, 'mastra.mjs'),
    `import { Mastra } from '@mastra/core';
import { InMemoryStore } from '@mastra/core/storage';

export const mastra = new Mastra({ storage: new InMemoryStore(), logger: false });
const qa = await mastra.datasets.create({ name: 'qa', description: 'capitals' });
await qa.addItems({
  items: [
    { input: 'capital of France?', groundTruth: 'Paris', metadata: { topic: 'geo' } },
    { input: 'capital of Peru?', groundTruth: 'Lima' },
  ],
});
`,
  );
  writeFileSync(join(project.dir, 'other.mjs'), 'export const notMastra = 1;\n');
}, 300_000);

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  project?.remove();
});

describe('assay import mastra', () => {
  it("creates the module's Mastra datasets in Assay, Mastra item ids as external ids", () => {
    const r = assay(['import', 'mastra', '--module', 'mastra.mjs', '--data-dir', dataDir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const { datasets } = JSON.parse(r.stdout);
    expect(datasets).toHaveLength(1);
    expect(datasets[0]).toMatchObject({ name: 'qa', created: true, added: 2, updated: 0, deleted: 0, unchanged: 0 });

    const exported = assay(['items', 'export', '-d', 'qa', '--data-dir', dataDir, '--format', 'jsonl']);
    expect(exported.status, exported.stderr).toBe(0);
    const items = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(items.map((i) => i.groundTruth).sort()).toEqual(['Lima', 'Paris']);
    for (const i of items) expect(i.externalId).toMatch(/\S/);
    expect(items.find((i) => i.groundTruth === 'Paris')).toMatchObject({
      input: 'capital of France?',
      metadata: { topic: 'geo' },
    });
  }, 120_000);

  it('names a missing module, or a module without a Mastra instance, and exits 2', () => {
    const missing = assay(['import', 'mastra', '--module', 'nowhere.mjs', '--data-dir', dataDir]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nowhere.mjs not found');
    const wrong = assay(['import', 'mastra', '--module', 'other.mjs', '--data-dir', dataDir]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain("has no export 'mastra'");
    expect(wrong.stderr).toContain('notMastra');
    const usage = assay(['import', 'mastra', '--data-dir', dataDir]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("required option '--module <file>' not specified");
  }, 120_000);
});
