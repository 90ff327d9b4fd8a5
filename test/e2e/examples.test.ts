/**
 * The examples a newcomer runs, as the docs tell them to (README, docs/targets.md, docs/scorers.md):
 * the offline demo that `npm start` seeds (64 capitals, v1 and v2 of the demo agent, both runs
 * triggered at seed time), and the `http` target example against examples/http-agent.mjs, a real
 * HTTP server in a child process that answers 429 + Retry-After now and then.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Driver, freePort, REPO_ROOT, runAssay, startServer, tempDir, waitFor } from '@assay/testkit';
import { cleanUpProcesses } from '@assay/testkit/vitest';
import { describe, expect, it } from 'vitest';

cleanUpProcesses();

const seed = JSON.parse(readFileSync(join(REPO_ROOT, 'examples/demo-dataset.json'), 'utf8'));
const byScorer = (run: any) => Object.fromEntries(run.summary.scorers.map((s: any) => [s.scorerId, s]));

/** Starts examples/http-agent.mjs on `port` and waits until it listens. */
async function startAgent(port: number, env: Record<string, string>) {
  const proc = spawn(process.execPath, ['examples/http-agent.mjs'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((ok, fail) => {
    proc.stdout.on('data', (d) => String(d).includes('demo agent on') && ok());
    proc.once('exit', (code) => fail(new Error(`http-agent exited ${code}`)));
  });
  return proc;
}

describe('the examples, run as the docs say', () => {
  it('the demo seed: 64 items with default scorers; v1 and v2 runs triggered once and scored deterministically', async () => {
    expect(seed.items.length).toBeGreaterThanOrEqual(50);
    const dataDir = join(tempDir(), 'data');
    const port = await freePort();
    const args = [
      '--config',
      'examples/assay.config.mjs',
      '--seed',
      'examples/demo-dataset.json',
      '--data-dir',
      dataDir,
    ];
    let server = await startServer(port, args, { cwd: REPO_ROOT });
    const d = new Driver(server);
    const ds = (await d.listDatasets()).datasets[0];
    expect(ds).toMatchObject({ name: 'demo-capitals', itemCount: 64, scorerIds: seed.scorerIds });
    const listed = (await d.listRuns(ds.id)).runs;
    expect(listed.map((r: any) => r.targetId).sort()).toEqual(['capital-agent', 'capital-agent-v2']);
    const v1 = await d.waitRunFinal(ds.id, listed.find((r) => r.targetId === 'capital-agent')!.id);
    const v2 = await d.waitRunFinal(ds.id, listed.find((r) => r.targetId === 'capital-agent-v2')!.id);
    expect([v1.status, v2.status]).toEqual(['completed', 'completed']);
    expect(v1.scorerIds).toEqual(seed.scorerIds);
    // The agents are deterministic: 49 of 64 exact for v1, 59 of 64 for v2.
    expect(byScorer(v1)['exact-match']).toMatchObject({ mean: 49 / 64, errors: 0, count: 64 });
    expect(byScorer(v2)['exact-match']).toMatchObject({ mean: 59 / 64, errors: 0, count: 64 });
    expect(byScorer(v1).similar.mean).toBeGreaterThan(byScorer(v1)['exact-match'].mean); // partial credit
    expect(byScorer(v1)['no-refusal'].mean).toBe(61 / 64);
    expect(v1.summary?.usage).toMatchObject({ items: 64, inputTokens: expect.any(Number) });
    expect(v2.summary!.usage!.costUsd).toBeGreaterThan(v1.summary!.usage!.costUsd!);

    // `fast` is the config's latency scorer: reported beside, it does not decide, so the answers
    // v2 broke come first and v2 improved significantly on every answer scorer.
    const cmp = await d.compare(ds.id, { runIdA: v1.id, runIdB: v2.id });
    expect(d.lastStatus).toBe(200);
    expect(cmp.decidingScorerIds).not.toContain('fast');
    expect(cmp.scorers.find((s: any) => s.scorerId === 'fast')).toMatchObject({ kind: 'latency', deciding: false });
    const regressed = cmp.items.filter((i: any) => i.change === 'regression').map((i: any) => i.groundTruth);
    expect(regressed.sort()).toEqual(['Bern', 'Rabat']);
    expect(cmp.items.slice(0, 2).map((i: any) => i.change)).toEqual(['regression', 'regression']);
    expect(cmp.counts.improved).toBeGreaterThanOrEqual(10);
    // 12 fixed and 2 broken of 64 (McNemar p ≈ 0.013), but Holm across the four answer scorers
    // makes it ≈ 0.052: not significant at 0.05. Deciding on exact-match alone, it is.
    const exact = cmp.scorers.find((s: any) => s.scorerId === 'exact-match');
    expect(exact).toMatchObject({ test: 'mcnemar', flips: { down: 2, up: 12 }, verdict: 'no significant change' });
    expect(exact!.pValue).toBeLessThan(0.05);
    expect(exact!.pAdjusted).toBeGreaterThan(0.05);
    const alone = await d.compare(ds.id, { runIdA: v1.id, runIdB: v2.id, scorerIds: ['exact-match'] });
    expect(alone.verdict).toBe('improved');

    // A restart neither seeds nor triggers again.
    server.killGroup('SIGTERM');
    await server.exited;
    server = await startServer(port, args, { cwd: REPO_ROOT });
    expect(server.output()).toContain('already present');
    expect((await d.listRuns(ds.id)).runs).toHaveLength(2);
    server.killGroup('SIGTERM');
    await server.exited;
  }, 90_000);

  it('the http target example: a missing AGENT_TOKEN (env in a header) stops start-up; with it, `assay run` scores the agent behind HTTP through 429s', async () => {
    const dir = tempDir();
    const agentPort = await freePort();
    const missing = await runAssay(
      ['serve', '--config', 'examples/http.config.mjs', '--data-dir', join(dir, 'a'), '--port', '0'],
      { cwd: REPO_ROOT, env: { AGENT_PORT: String(agentPort) } },
    );
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('environment variable AGENT_TOKEN is not set');

    const agent = await startAgent(agentPort, { AGENT_TOKEN: 'demo-token', BUSY_EVERY: '7' });
    try {
      const port = await freePort();
      const env = { AGENT_TOKEN: 'demo-token', AGENT_PORT: String(agentPort) };
      const server = await startServer(
        port,
        ['--config', 'examples/http.config.mjs', '--seed', 'examples/demo-dataset.json', '--data-dir', join(dir, 'b')],
        { cwd: REPO_ROOT, env },
      );
      const d = new Driver(server);
      const targets = await d.listTargets();
      expect(targets.find((t: any) => t.id === 'capital-agent-http')).toMatchObject({ kind: 'http', type: 'http' });
      expect(JSON.stringify(targets)).not.toContain('demo-token');

      const r = await runAssay(
        [
          'run',
          'demo-capitals',
          '--url',
          server.base,
          '--target',
          'capital-agent-http',
          '--fail-under',
          'exact-match=0.7',
          // Every 7th request is a 429: with the default 2 retries an item whose three tries all
          // land on one fails now and then (retries race each other); 5 makes that ~1 in 2,000.
          '--max-retries',
          '5',
          '--json',
        ],
        { cwd: REPO_ROOT, ms: 60_000 },
      );
      expect(r.code, r.output).toBe(0);
      const run = JSON.parse(r.stdout).run;
      expect(run).toMatchObject({ status: 'completed', succeededCount: 64, failedCount: 0 });
      expect(byScorer(run)['exact-match'].mean).toBe(49 / 64); // the same answers as capital-agent
      expect(run.summary.usage).toMatchObject({ items: 64 });
      const ds = (await d.listDatasets()).datasets[0];
      const v1 = await waitFor(
        async () => (await d.listRuns(ds.id)).runs,
        (runs: any[]) => runs.find((x) => x.targetId === 'capital-agent')?.status === 'completed',
        { ms: 30_000, what: 'the seeded v1 run' },
      );
      // Usage came from the response through the JSON Pointers: the same estimates as the code target's.
      expect(run.summary.usage.inputTokens).toBe(
        v1.find((x) => x.targetId === 'capital-agent')!.summary!.usage!.inputTokens,
      );
      server.killGroup('SIGTERM');
      await server.exited;
    } finally {
      agent.kill('SIGTERM');
    }
  }, 120_000);
});
