/**
 * Usage errors on the real binary: every command prints the error and one line pointing at its
 * help (not the whole help, which would bury the error in a CI log), and exits 2 — never 1,
 * which means "a gate failed". `--help` still prints the help and exits 0.
 */
import { describe, expect, it } from 'vitest';
import { assay, workspace } from './helpers.js';

const ws = workspace();

describe('usage errors: the error, one line of help, exit 2', () => {
  const cases: [string[], string, string][] = [
    [['serve', '--port', 'x'], "argument 'x' is invalid", 'serve'],
    [['serve', '--log-format', 'xml'], "argument 'xml' is invalid", 'serve'],
    [['worker', '--bogus'], "unknown option '--bogus'", 'worker'],
    [['init', '--bogus'], "unknown option '--bogus'", 'init'],
    [['run', 'demo'], "required option '-t, --target <id>' not specified", 'run'],
    [['runs', 'compare', 'run_a'], "missing required argument 'candidate'", 'runs compare'],
    [['datasets', 'bogus'], "unknown command 'bogus'", 'datasets'],
    [['migrate', '--bogus'], "unknown option '--bogus'", 'migrate'],
  ];
  for (const [args, error, command] of cases) {
    it(`assay ${args.join(' ')}`, async () => {
      const r = await assay(args, ws.dir);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toContain(error);
      expect(lines.at(-1)).toBe(`(see: assay ${command} --help)`);
      expect(r.stderr).not.toContain('Usage:');
      expect(lines.length).toBeLessThanOrEqual(3);
    });
  }

  it('an unknown command: the error, a suggestion, one line of help', async () => {
    const r = await assay(['rnu'], ws.dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "error: unknown command 'rnu'",
      '(Did you mean run?)',
      '(see: assay --help)',
    ]);
  });

  it('--help prints the help and exits 0', async () => {
    const r = await assay(['serve', '--help'], ws.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: assay serve [options]');
  });
});
