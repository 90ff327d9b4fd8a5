import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { assay, expectExit, json, workspace } from './helpers.js';

const ws = workspace();
const run = (...args: string[]) => assay(args, ws.dir);

beforeAll(async () => {
  // 40 numbers: `echo` gets all right, `half` the even ones, `broken` none.
  ws.file(
    'numbers.jsonl',
    Array.from({ length: 40 }, (_, n) => JSON.stringify({ input: n, groundTruth: n })).join('\n'),
  );
  await expectExit(run('items', 'import', 'numbers.jsonl', '-d', 'numbers', '--create'), 0);
});

describe('assay run (real binary, local data directory: the run executes in the CLI process)', () => {
  it('--watch shows progress to the end, prints the summary, passes its gates (exit 0) and writes JUnit + JSON reports', async () => {
    const r = await expectExit(
      run(
        'run',
        'numbers',
        '--target',
        'slow',
        '--scorer',
        'exact-match',
        '--scorer',
        'contains',
        '--concurrency',
        '4',
        '--watch',
        '--name',
        'main',
        '--fail-under',
        'exact-match=0.9',
        '--max-failed',
        '0',
        '--report',
        'junit=reports/junit.xml',
        '--report',
        'json=reports/report.json',
      ),
      0,
    );
    // progress on stderr (no TTY here: plain lines), ending at 40/40
    expect(r.stderr).toMatch(/run run_\w+ running: \d+\/40 done \| failed 0 \| [\d.]+ items\/s \| ETA/);
    expect(r.stderr).toMatch(/run run_\w+ completed: 40\/40 done \| failed 0/);
    // the summary table and the gates on stdout
    expect(r.stdout).toMatch(/Run run_\w+ completed in/);
    expect(r.stdout).toContain('items: 40 total · 40 succeeded · 0 failed');
    expect(r.stdout).toMatch(/exact-match\s+1\.000\s+1\.000\s+100\.0%\s+40\s+0/);
    expect(r.stdout).toMatch(/PASS\s+exact-match mean 1\.000 is at least 0\.9/);
    expect(r.stdout).toMatch(/PASS\s+0 item\(s\) failed/);
    expect(r.stdout.trim().endsWith('PASS')).toBe(true);

    const xml = readFileSync(join(ws.dir, 'reports/junit.xml'), 'utf8');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const [gates, items] = doc.testsuites.testsuite;
    expect(doc.testsuites).toMatchObject({ name: 'assay', tests: '43', failures: '0', errors: '0' });
    expect(gates).toMatchObject({ name: 'gates: numbers · slow', tests: '3', failures: '0' });
    expect(gates.testcase.map((t: any) => t.name)).toEqual([
      'run completed',
      'exact-match mean >= 0.9',
      'failed items <= 0',
    ]);
    expect(items).toMatchObject({ tests: '40', failures: '0', errors: '0', skipped: '0' });
    expect(items.testcase[0]['system-out']).toContain('exact-match: 1');

    const report = JSON.parse(readFileSync(join(ws.dir, 'reports/report.json'), 'utf8'));
    expect(report).toMatchObject({ passed: true, exitCode: 0, run: { status: 'completed', name: 'main' } });
    expect(report.gates.every((g: any) => g.passed)).toBe(true);
  });

  it('a failed gate exits 1; the JUnit report marks it and the items that scored low', async () => {
    const r = await expectExit(
      run(
        'run',
        'numbers',
        '-t',
        'half',
        '-s',
        'exact-match',
        '--fail-under',
        'exact-match=0.8',
        '--baseline',
        'name:main',
        '--report',
        'junit=gate.xml',
        '--json',
      ),
      1,
    );
    const out = json(r);
    expect(out).toMatchObject({ passed: false, exitCode: 1, run: { status: 'completed' } });
    const failed = out.gates.filter((g: any) => !g.passed).map((g: any) => g.gate);
    expect(failed).toEqual(['fail-under', 'baseline']);
    expect(out.comparison.scorers.find((x: any) => x.scorerId === 'exact-match')).toMatchObject({
      baseline: 1,
      candidate: 0.5,
      delta: -0.5,
    });
    expect(out.comparison.items).toMatchObject({ matched: 40, regressed: 20, improved: 0 });

    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      readFileSync(join(ws.dir, 'gate.xml'), 'utf8'),
    );
    const [gates, items] = doc.testsuites.testsuite;
    expect(gates.failures).toBe('2');
    expect(items).toMatchObject({ tests: '40', failures: '20' });
    const low = items.testcase.find((t: any) => t.failure);
    expect(low.failure.type).toBe('score');
  });

  it('a run that fails exits 3; a usage or API error exits 2', async () => {
    // (one at a time: a local `run` executes pending runs of its data directory in its own process)
    const failed = await run('run', 'numbers', '--target', 'broken', '--report', 'junit=failed.xml');
    const [unknownTarget, badGate, gateWithoutScorer] = await Promise.all([
      run('run', 'numbers', '--target', 'nope'),
      run('run', 'numbers', '--fail-under', 'exact-match'),
      run('run', 'numbers', '-t', 'echo', '--fail-under', 'exact-match=0.5'),
    ]);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/Run run_\w+ failed/);
    // the circuit breaker stops it after 20 failures in a row
    expect(failed.stdout).toContain("circuit breaker: 20 items in a row failed on target 'broken'");
    expect(failed.stdout).toContain('items: 40 total · 0 succeeded · 20 failed · 20 skipped');
    expect(failed.stdout).toContain('FAIL (exit 3: run failed)');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      readFileSync(join(ws.dir, 'failed.xml'), 'utf8'),
    );
    expect(doc.testsuites).toMatchObject({ errors: '20', skipped: '20', failures: '1' });
    expect(doc.testsuites.testsuite[1].testcase[0].error).toMatchObject({ message: 'model unavailable' });

    expect(unknownTarget.code).toBe(2);
    expect(unknownTarget.stderr).toContain("unknown target 'nope' (UNKNOWN_TARGET, HTTP 400)");
    expect(unknownTarget.stderr).toContain('local mode uses');
    expect(badGate.code).toBe(2);
    expect(badGate.stderr).toContain('expected SCORER=THRESHOLD');
    expect(gateWithoutScorer.code).toBe(2);
    expect(gateWithoutScorer.stderr).toContain(
      "the run has no scorer 'exact-match' (it has none); add --scorer exact-match",
    );
  });

  it('runs list / show / compare read the stored runs', async () => {
    const list = json(await expectExit(run('runs', 'list', 'numbers', '--json'), 0));
    const [broken, half, slow] = list.runs;
    expect([broken.targetId, half.targetId, slow.targetId]).toEqual(['broken', 'half', 'slow']);
    const [table, show, compare] = await Promise.all([
      run('runs', 'list', 'numbers'),
      run('runs', 'show', half.id, '--results', '--status', 'succeeded', '--per-page', '2', '--json'),
      run('runs', 'compare', slow.id, half.id, '--max-regression', '0.1'),
    ]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/run\s+name\s+status\s+target/);
    expect(table.stdout).toMatch(new RegExp(`${slow.id}\\s+main\\s+completed\\s+slow\\s+40/40`));
    const shown = json(show);
    expect(shown.run.id).toBe(half.id);
    expect(shown.results).toHaveLength(2);
    expect(shown.pagination.total).toBe(40);
    expect(compare.code).toBe(1); // dropped by 0.5 > 0.1
    expect(compare.stdout).toMatch(/exact-match\s+1\.000\s+0\.500\s+−0\.500/);
    expect(compare.stdout).toContain('items: 40 matched · 20 regressed · 0 improved · 20 unchanged');
    expect(compare.stdout).toContain('FAIL: a scorer mean dropped by 0.500');
  });
});
