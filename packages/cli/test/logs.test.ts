/**
 * The logs of `assay serve` (issue 12, operable): with `--log-format json` (or ASSAY_LOG_FORMAT)
 * every line on stdout is one JSON object with a level, a time and a message, and a run's lines
 * carry its runId (its items' lines their itemId too, at debug); `--log-level` filters; pretty
 * is text; an unknown format is refused. On the real binary, as users run it.
 */
import { freePort } from '@assay/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { assay, type Spawned, spawnAssay, workspace } from './helpers.js';

const ws = workspace();
ws.file(
  'seed.json',
  JSON.stringify({
    name: 'logged',
    items: Array.from({ length: 6 }, (_, i) => ({ input: { answer: i }, groundTruth: i })),
    runs: [{ targetId: 'slow', scorerIds: ['exact-match'] }],
  }),
);
const running: Spawned[] = [];
afterAll(async () => {
  for (const s of running) s.child.kill('SIGKILL');
  await Promise.all(running.map((s) => s.done));
});

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

/** Serves the seed (its run starts at once), waits for the run to finish, stops with SIGTERM. */
async function serveSeed(args: string[], env: Record<string, string> = {}) {
  const s = spawnAssay(['serve', '--port', '0', '--seed', 'seed.json', ...args], ws.dir, env);
  running.push(s);
  const [, runId] = await s.waitFor(/run (run_\w+) on 'logged' triggered/);
  await s.waitFor(/run completed/);
  s.child.kill('SIGTERM');
  const r = await s.done;
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return { ...r, runId: runId! };
}

/** Every stdout line, parsed: each must be one JSON object. */
function jsonLines(stdout: string, atLeast = 5): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines.length).toBeGreaterThanOrEqual(atLeast);
  return lines.map((l) => {
    expect(() => JSON.parse(l), l).not.toThrow();
    return JSON.parse(l) as Record<string, unknown>;
  });
}

describe('assay serve logs', () => {
  it('--log-format json: one JSON object per line with level, time and msg; the run lines carry its runId', async () => {
    const r = await serveSeed(['--data-dir', 'json', '--log-format', 'json']);
    expect(r.stderr).toBe('');
    const lines = jsonLines(r.stdout);
    for (const l of lines) {
      expect(LEVELS, JSON.stringify(l)).toContain(l.level);
      expect(typeof l.msg).toBe('string');
      expect(new Date(l.time as string).toISOString()).toBe(l.time);
      expect(l.role).toBe('serve');
      expect(l.pid).toBeTypeOf('number');
    }
    const ofRun = (msg: string) => lines.find((l) => l.msg === msg);
    for (const msg of ['run triggered', 'run started', 'run planned', 'run completed']) {
      expect(ofRun(msg), msg).toMatchObject({ level: 'info', runId: r.runId });
    }
    expect(ofRun('run completed')).toMatchObject({ status: 'completed', total: 6, succeeded: 6, failed: 0 });
    expect(lines.find((l) => String(l.msg).startsWith('listening on'))).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    // The default level is info: no item lines.
    expect(lines.filter((l) => l.level === 'debug')).toEqual([]);
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped', signal: 'SIGTERM' });
  });

  it('ASSAY_LOG_FORMAT=json and ASSAY_LOG_LEVEL=debug: each item line carries the runId and its itemId', async () => {
    const r = await serveSeed(['--data-dir', 'debug'], { ASSAY_LOG_FORMAT: 'json', ASSAY_LOG_LEVEL: 'debug' });
    const items = jsonLines(r.stdout).filter((l) => l.msg === 'item succeeded');
    expect(items).toHaveLength(6);
    for (const l of items) {
      expect(l).toMatchObject({ level: 'debug', runId: r.runId, status: 'succeeded', attempt: 1 });
      expect(l.itemId).toMatch(/^item_/);
    }
    expect(new Set(items.map((l) => l.itemId)).size).toBe(6);
  });

  it('--log-level warn leaves the info lines out', async () => {
    ws.file('bad-seed.json', JSON.stringify({ name: 'warned', items: [{ input: 1 }], runs: [{ targetId: 'nope' }] }));
    const port = await freePort();
    const s = spawnAssay(
      ['serve', '--port', String(port), '--data-dir', 'warn', '--seed', 'bad-seed.json', '--log-format', 'json'],
      ws.dir,
      { ASSAY_LOG_LEVEL: 'warn' },
    );
    running.push(s);
    await s.waitFor(/not started/);
    // Up and serving (the port it logs at info is not logged): ask it.
    let status = 0;
    while (status !== 200) {
      await new Promise((r) => setTimeout(r, 50));
      status = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (res) => res.status,
        () => 0,
      );
    }
    s.child.kill('SIGTERM');
    const r = await s.done;
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout, 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', targetId: 'nope' });
    expect(lines[0]!.msg).toContain("seeded run on target 'nope' not started");
  });

  it('--log-format pretty writes text lines; an unknown format is refused, naming the choices', async () => {
    const s = spawnAssay(
      ['serve', '--port', '0', '--no-worker', '--data-dir', 'pretty', '--log-format', 'pretty'],
      ws.dir,
    );
    running.push(s);
    await s.waitFor(/listening on http:\/\/\S+:\d+/);
    s.child.kill('SIGTERM');
    const r = await s.done;
    const listening = r.stdout.split('\n').find((l) => l.includes('listening on'))!;
    expect(listening).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: listening on http/);
    expect(() => JSON.parse(listening)).toThrow();

    const bad = await assay(['serve', '--port', '0', '--log-format', 'xml'], ws.dir);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("'xml' is invalid");
    expect(bad.stderr).toContain('json, pretty');
  });
});
