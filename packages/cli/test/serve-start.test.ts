/**
 * `assay serve` checks what it can before it changes anything: on a port that is taken it exits
 * non-zero naming the port, and has created no database, dataset or run (issue 12: before, it
 * seeded the demo and triggered its runs, then failed to bind and left two runs pending).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assay, workspace } from './helpers.js';

const ws = workspace();
const taken = createServer();
afterAll(() => new Promise<void>((r) => taken.close(() => r())));

describe('assay serve start-up', () => {
  it('on a taken port exits non-zero before it creates a database, a dataset or a run', async () => {
    const port = await new Promise<number>((r) =>
      taken.listen(0, '127.0.0.1', () => r((taken.address() as { port: number }).port)),
    );
    const seed = readFileSync(join(import.meta.dirname, '../../../examples/demo-dataset.json'), 'utf8');
    ws.file('seed.json', seed);
    const r = await assay(
      [
        'serve',
        '--port',
        String(port),
        '--data-dir',
        'data',
        '--config',
        join(import.meta.dirname, '../../../examples/assay.config.mjs'),
        '--seed',
        'seed.json',
      ],
      ws.dir,
    );
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
    expect(r.stderr).toContain(`port ${port}`);
    expect(r.stderr).toContain('already in use');
    expect(r.stdout).not.toContain('seeded');
    expect(r.stdout).not.toContain('triggered');
    expect(existsSync(join(ws.dir, 'data', 'assay.db'))).toBe(false);
  });
});
