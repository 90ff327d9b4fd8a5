import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assay, expectExit, json, type Spawned, spawnAssay, workspace } from './helpers.js';

const ws = workspace();
const KEY = 'test-key-0123456789';
let server: Spawned;
let env: Record<string, string>;
const remote = (...args: string[]) => assay(args, ws.dir, env);

beforeAll(async () => {
  // `assay serve` as its own process (its worker runs the targets), on a free port, with an API key.
  server = spawnAssay(['serve', '--port', '0', '--data-dir', 'server-data'], ws.dir, {
    ASSAY_API_KEY: KEY,
    SLOW_MS: '50',
  });
  const [, url] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  env = { ASSAY_URL: url, ASSAY_API_KEY: KEY };
  ws.file(
    'numbers.jsonl',
    Array.from({ length: 120 }, (_, n) => JSON.stringify({ input: n, groundTruth: n })).join('\n'),
  );
  await expectExit(remote('items', 'import', 'numbers.jsonl', '-d', 'numbers', '--create'), 0);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.done;
});

describe('assay against a server (ASSAY_URL, ASSAY_API_KEY)', () => {
  it('run without --watch prints the run id and returns at once; the server executes it', async () => {
    const r = await expectExit(remote('run', 'numbers', '-t', 'echo', '-s', 'exact-match'), 0);
    const runId = r.stdout.trim();
    expect(runId).toMatch(/^run_\w+$/);
    expect(r.stderr).toContain(`follow it: assay runs watch ${runId}`);
    const watched = await expectExit(remote('runs', 'watch', runId, '--no-bar', '--json'), 0);
    expect(json(watched)).toMatchObject({ id: runId, status: 'completed', succeededCount: 120 });
  });

  it('run --watch ends with PASS and a link to the run page on the server', async () => {
    const r = await expectExit(remote('run', 'numbers', '-t', 'echo', '-s', 'exact-match', '--watch'), 0);
    const runId = /Run (run_\w+) completed/.exec(r.stdout)![1];
    expect(r.stdout).toMatch(new RegExp(`run page: http://127\\.0\\.0\\.1:\\d+/datasets/ds_\\w+/runs/${runId}\\n`));
    expect(r.stdout.trim().endsWith('PASS')).toBe(true);
  });

  it('Ctrl-C without a terminal detaches (exit 130, the run goes on); with --on-interrupt cancel it cancels (exit 3); retry finishes it', async () => {
    const [a, b] = await Promise.all([
      expectExit(remote('run', 'numbers', '-t', 'slow', '-c', '1'), 0),
      expectExit(remote('run', 'numbers', '-t', 'slow', '-c', '1'), 0),
    ]);
    const [runA, runB] = [a.stdout.trim(), b.stdout.trim()];

    const detach = spawnAssay(['runs', 'watch', runA], ws.dir, env);
    const cancel = spawnAssay(['runs', 'watch', runB, '--dataset', 'numbers', '--on-interrupt', 'cancel'], ws.dir, env);
    await Promise.all([detach.waitFor(/running/), cancel.waitFor(/running: \d+\/120 done/)]); // the progress line
    detach.child.kill('SIGINT');
    cancel.child.kill('SIGINT');
    const [d, c] = await Promise.all([detach.done, cancel.done]);

    expect(d.code).toBe(130);
    expect(d.stderr).toContain(`detached: run ${runA} keeps going on the server`);
    expect(c.code).toBe(3);
    expect(c.stderr).toContain(`cancelling run ${runB}`);
    expect(c.stdout).toMatch(new RegExp(`Run ${runB} cancelled`));

    const [shownA, retried] = await Promise.all([
      expectExit(remote('runs', 'show', runA, '--json'), 0),
      expectExit(remote('runs', 'retry', runB, '--watch'), 0),
    ]);
    expect(json(shownA).status).not.toBe('cancelled'); // detaching left it alone
    expect(retried.stderr).toContain('retrying its failed, cancelled and skipped items');
    expect(retried.stderr).toMatch(/completed: 120\/120 done/);
    expect(retried.stdout).toContain('items: 120 total · 120 succeeded');
  });

  it('a wrong API key or an unreachable server exits 2 with a hint', async () => {
    const [denied, unreachable] = await Promise.all([
      assay(['datasets', 'list'], ws.dir, { ...env, ASSAY_API_KEY: 'wrong' }),
      assay(['datasets', 'list', '--url', 'http://127.0.0.1:9'], ws.dir, { ASSAY_API_KEY: KEY }),
    ]);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('UNAUTHORIZED, HTTP 401');
    expect(denied.stderr).toContain('set ASSAY_API_KEY');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach http://127.0.0.1:9/api');
    expect(unreachable.stderr).toContain('is `assay serve` running there?');
  });
});
