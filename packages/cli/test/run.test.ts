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
    // The run's page in the UI (a local data directory: where `assay serve` shows it).
    expect(r.stdout).toMatch(
      /run page: assay serve --data-dir .+, then http:\/\/127\.0\.0\.1:4141\/datasets\/ds_\w+\/runs\/run_\w+/,
    );
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
    // The baseline gate judged the evidence: 20 of 40 items went 1 → 0 (exact McNemar p = 2⁻¹⁹).
    const gate = out.gates.find((g: any) => g.gate === 'baseline');
    expect(gate).toMatchObject({
      scorerId: 'exact-match',
      verdict: 'regressed',
      interval: { upper: expect.any(Number) },
    });
    expect(gate.pValue).toBeCloseTo(2 ** -19, 12);
    expect(gate.interval.upper).toBeLessThan(0);
    expect(gate.message).toMatch(
      /^exact-match regressed against baseline: −0\.500 \(95% CI \[−0\.\d+, −0\.\d+\], p < 0\.001, 40 items\)$/,
    );
    expect(out.comparison).toMatchObject({ verdict: 'regressed', decidingScorerIds: ['exact-match'] });
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
    // The comparison's numbers as properties: the change, its interval, the p-values, the verdict.
    const props = Object.fromEntries(gates.properties.property.map((p: any) => [p.name, p.value]));
    expect(props).toMatchObject({ 'baseline.verdict': 'regressed', 'baseline.exact-match.verdict': 'regressed' });
    expect(Number(props['baseline.exact-match.pValue'])).toBeCloseTo(2 ** -19, 12);
    expect(Number(props['baseline.exact-match.ciUpper'])).toBeLessThan(0);
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
    // The summary lists the first failed items with their errors, and how to see them all.
    expect(failed.stdout).toContain('failed items (first 10 of 20):');
    expect(failed.stdout).toMatch(/item_\w+\s+[\w.-]+: model unavailable/);
    expect(failed.stdout).toMatch(/all of them: assay runs show run_\w+ --results --status failed/);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
      readFileSync(join(ws.dir, 'failed.xml'), 'utf8'),
    );
    // two gates fail: the run's status, and its 20 failed items
    expect(doc.testsuites).toMatchObject({ errors: '20', skipped: '20', failures: '2' });
    expect(doc.testsuites.testsuite[1].testcase[0].error).toMatchObject({ message: 'model unavailable' });

    expect(unknownTarget.code).toBe(2);
    expect(unknownTarget.stderr).toContain("unknown target 'nope' (UNKNOWN_TARGET, HTTP 400)");
    // …with the targets there are.
    expect(unknownTarget.stderr).toContain('  available: echo, slow, half, broken');
    expect(unknownTarget.stderr).toContain('local mode uses');
    expect(badGate.code).toBe(2);
    expect(badGate.stderr).toContain('expected SCORER=THRESHOLD');
    // The error and one line of help, not the whole help burying it.
    expect(badGate.stderr).toContain('(see: assay run --help)');
    expect(badGate.stderr).not.toContain('Usage:');
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
    expect(compare.code).toBe(1); // significant, and dropped by 0.5 ≥ 0.1
    expect(compare.stdout).toContain('verdict: regressed (decided by exact-match; alpha 0.05, Holm-corrected)');
    expect(compare.stdout).toMatch(
      /exact-match\s+1\.000\s+0\.500\s+−0\.500\s+\[−0\.\d+, −0\.\d+\]\s+< 0\.001\s+100\.0% → 50\.0%\s+regressed/,
    );
    expect(compare.stdout).toContain('items: 40 matched · 20 regressed · 0 improved · 20 unchanged');
    expect(compare.stdout).toContain('FAIL: significant regression of exact-match (alpha 0.05)');
    // A drop smaller than --min-effect is no regression, however significant; nor is an improvement.
    const [small, back] = await Promise.all([
      run('runs', 'compare', slow.id, half.id, '--min-effect', '0.6'),
      run('runs', 'compare', half.id, slow.id),
    ]);
    expect(small.code).toBe(0);
    expect(small.stdout).toContain('PASS: no deciding scorer (exact-match) regressed significantly');
    expect(back.code).toBe(0);
    expect(back.stdout).toContain('verdict: improved');
  });
});

/** Targets that fail on some items: `odd-fails` cannot answer odd numbers. */
const ODD_CONFIG = `
export default {
  targets: [
    { id: 'echo', type: 'function', run: (input) => input },
    { id: 'half', type: 'function', run: (input) => (input % 2 === 1 ? 'wrong' : input) },
    { id: 'odd-fails', type: 'function', run: (input) => { if (input % 2 === 1) throw Object.assign(new Error('no answer for ' + input), { retryable: false }); return input; } },
  ],
};
`;

describe('gates on evidence (real binary): failed items, lower confidence bounds, significant regressions', () => {
  const odd = (...args: string[]) => run(...args, '--config', 'odd.config.mjs');
  beforeAll(async () => {
    ws.file('odd.config.mjs', ODD_CONFIG);
    ws.file(
      'odds.jsonl',
      Array.from({ length: 40 }, (_, n) => JSON.stringify({ externalId: `n${n}`, input: n, groundTruth: n })).join(
        '\n',
      ),
    );
    await expectExit(odd('items', 'import', 'odds.jsonl', '-d', 'odds', '--create'), 0);
  });

  it('a run with failed items is not PASS, even without gates, unless --max-failed N or P% allows them; the summary lists them', async () => {
    const r = await expectExit(odd('run', 'odds', '-t', 'odd-fails', '-s', 'exact-match', '--watch'), 1);
    expect(r.stdout).toContain('items: 40 total · 20 succeeded · 20 failed');
    // The failed items by their external ids, with their errors.
    expect(r.stdout).toContain('failed items (first 10 of 20):');
    expect(r.stdout).toMatch(/^ ?n(\d+)\s+[\w.-]+: no answer for \1\s*$/m);
    expect(r.stdout).toMatch(/FAIL\s+20 item\(s\) failed \(at most 0 allowed; allow some with --max-failed N or P%\)/);
    expect(r.stdout).toContain('FAIL (exit 1: a gate failed)');
    const [share, count, bad] = [
      await odd('run', 'odds', '-t', 'odd-fails', '-s', 'exact-match', '--max-failed', '50%'),
      await odd('run', 'odds', '-t', 'odd-fails', '-s', 'exact-match', '--max-failed', '19'),
      await odd('run', 'odds', '-t', 'odd-fails', '--max-failed', 'some'),
    ];
    expect(share.code).toBe(0);
    expect(share.stdout).toMatch(/PASS\s+20 item\(s\) failed \(50\.0% of 40\) \(at most 50% allowed\)/);
    expect(share.stdout.trim().endsWith('PASS')).toBe(true);
    expect(count.code).toBe(1);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a number of items (e.g. 5) or a share of the results (e.g. 10%)');
  });

  it('--fail-under scorer=x:lower gates on the lower bound of the 95% interval, not the mean', async () => {
    // 40 of 40 right: the mean is 1, its Wilson interval [0.912, 1].
    const r = await expectExit(
      odd(
        'run',
        'odds',
        '-t',
        'echo',
        '-s',
        'exact-match',
        '--fail-under',
        'exact-match=0.95',
        '--fail-under',
        'exact-match=0.95:lower',
        '--report',
        'json=lower.json',
      ),
      1,
    );
    expect(r.stdout).toMatch(/PASS\s+exact-match mean 1\.000 is at least 0\.95/);
    expect(r.stdout).toMatch(
      /FAIL\s+exact-match mean 1\.000, 95% CI \[\+0\.912, \+1\.000\] over 40 items: the lower bound is below 0\.95/,
    );
    const report = JSON.parse(readFileSync(join(ws.dir, 'lower.json'), 'utf8'));
    const lower = report.gates.find((g: any) => g.name === 'exact-match lower 95% bound >= 0.95');
    expect(lower).toMatchObject({ passed: false, threshold: 0.95 });
    expect(lower.interval.lower).toBeCloseTo(0.9124, 4);
    expect(lower.interval.upper).toBe(1);
    await expectExit(odd('run', 'odds', '-t', 'echo', '-s', 'exact-match', '--fail-under', 'exact-match=0.9:lower'), 0);
  });

  it('--fail-on-regression fails only on a significant regression of a deciding scorer (default baseline: the latest run of the target)', async () => {
    // No earlier run of `half`: nothing to compare with, said so.
    const first = await expectExit(odd('run', 'odds', '-t', 'half', '-s', 'exact-match', '--fail-on-regression'), 0);
    expect(first.stderr).toContain(
      "--fail-on-regression: no completed run of target 'half' on 'odds' yet to compare with",
    );
    // The same answers again: no significant change, pass.
    const again = json(
      await expectExit(odd('run', 'odds', '-t', 'half', '-s', 'exact-match', '--fail-on-regression', '--json'), 0),
    );
    expect(again.comparison).toMatchObject({ verdict: 'no significant change' });
    expect(again.comparison.baseline.targetId).toBe('half');
    // Against `echo`, `half` lost the 20 odd answers: a significant regression.
    const runs = json(await expectExit(odd('runs', 'list', 'odds', '--json'), 0)).runs;
    const echo = runs.find((x: any) => x.targetId === 'echo');
    const worse = await expectExit(
      odd('run', 'odds', '-t', 'half', '-s', 'exact-match', '--fail-on-regression', '--baseline', echo.id),
      1,
    );
    expect(worse.stdout).toMatch(/FAIL\s+exact-match regressed against baseline: −0\.500 \(95% CI/);
    // A deciding scorer the run does not have is a usage error.
    const unknown = await odd(
      'run',
      'odds',
      '-t',
      'half',
      '-s',
      'exact-match',
      '--baseline',
      echo.id,
      '--decide',
      'nope',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--decide nope: the run has no scorer 'nope' (it has exact-match)");
  });
});
