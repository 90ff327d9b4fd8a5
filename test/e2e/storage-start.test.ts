/**
 * `assay serve` / `assay migrate` refuse a data directory or database file they cannot write, at
 * start, naming the path, the reason and the fix (issue 10). Real folders with real permissions:
 * as root (who ignores permission bits) the binary runs without capabilities through setpriv, so
 * the bits apply to it while it can still read the checkout wherever it is (a `nobody` user could
 * not, in a mktemp folder).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ASSAY_BIN, cleanEnv, removeTempDirs, tempDir } from '@assay/testkit';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const root = process.getuid?.() === 0;
const canDrop = !root || existsSync('/usr/bin/setpriv');

/** Runs the binary as a user the folder's permissions apply to. */
function assay(args: string[], cwd: string) {
  const [cmd, ...rest] = root
    ? ['/usr/bin/setpriv', '--inh-caps=-all', '--bounding-set=-all', '--', process.execPath, ASSAY_BIN, ...args]
    : [process.execPath, ASSAY_BIN, ...args];
  const r = spawnSync(cmd!, rest, {
    cwd,
    env: cleanEnv({ HOME: cwd }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

afterAll(() => {
  removeTempDirs();
});

describe.skipIf(!canDrop)('start-up refuses storage it cannot write', () => {
  it('a read-only data directory: names the folder, why, and what to do', () => {
    const base = tempDir('assay-ro-');
    chmodSync(base, 0o755);
    const dir = join(base, 'data');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    for (const cmd of [
      ['serve', '--data-dir', dir, '--port', '0'],
      ['migrate', '--data-dir', dir],
    ]) {
      const r = assay(cmd, base);
      expect(r.code, r.output).toBe(2);
      expect(r.output).toContain(`the data directory ${dir} is not writable`);
      expect(r.output).toContain('(EACCES: permission denied)');
      expect(r.output).toContain('--data-dir');
      expect(r.output).not.toContain('attempt to write a readonly database');
    }
  });

  it('a database file it cannot write: names the file', () => {
    const base = tempDir('assay-ro-');
    chmodSync(base, 0o755);
    const dir = join(base, 'data');
    mkdirSync(dir);
    const file = join(dir, 'assay.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.close();
    chmodSync(file, 0o444);
    chmodSync(dir, 0o777); // the folder is writable: only the file is not
    const r = assay(['serve', '--data-dir', dir, '--port', '0'], base);
    expect(r.code, r.output).toBe(2);
    expect(r.output).toContain(`the database file ${file} is not writable`);
    expect(r.output).toContain(`chmod u+w ${file}`);
  });
});
