import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assay, expectExit, json, workspace } from './helpers.js';

/**
 * The output cache and re-scoring from the real binary, in local mode (the run executes in the
 * CLI process, its targets and scorers in worker threads). The targets count their calls in a
 * file, since each worker thread has a module of its own.
 */
const ws = workspace();
const run = (...args: string[]) => assay(args, ws.dir);
const calls = (target: string) => {
  try {
    return readFileSync(join(ws.dir, `${target}.calls`), 'utf8')
      .split('\n')
      .filter(Boolean).length;
  } catch {
    return 0;
  }
};

beforeAll(async () => {
  ws.file(
    'cache.config.mjs',
    `import { appendFileSync } from 'node:fs';
const count = (name) => appendFileSync(new URL('./' + name + '.calls', import.meta.url), 'x\\n');
export default {
  targets: [
    { id: 'versioned', type: 'function', version: '1', run: (input, ctx) => { count('versioned'); ctx.reportUsage({ costUsd: 0.5 }); return input; } },
    { id: 'keyed', type: 'function', cacheKey: (input) => (input % 2 ? 'odd' : null), run: (input) => { count('keyed'); return input; } },
    { id: 'plain', type: 'function', run: (input) => { count('plain'); return input; } },
  ],
  scorers: [{ id: 'small', score: ({ output }) => (output < 5 ? 1 : 0) }],
};
`,
  );
  ws.file(
    'numbers.jsonl',
    Array.from({ length: 10 }, (_, n) => JSON.stringify({ input: n, groundTruth: n })).join('\n'),
  );
  await expectExit(
    run('items', 'import', 'numbers.jsonl', '-d', 'cached', '--create', '--config', 'cache.config.mjs'),
    0,
  );
});

const runWith = (target: string, ...extra: string[]) =>
  expectExit(
    run(
      'run',
      'cached',
      '--target',
      target,
      '--scorer',
      'exact-match',
      '--config',
      'cache.config.mjs',
      '--watch',
      ...extra,
    ),
    0,
  );

describe('assay run --cache and assay runs rescore (real binary, local mode)', () => {
  it('a second run with --cache readwrite calls the target zero times; runs rescore scores the stored outputs', async () => {
    const first = await runWith('versioned', '--cache', 'readwrite');
    expect(first.stdout).toContain('cache (readwrite): 0 hits, 10 target calls, 10 stored · $5.00 spent, $0.00 saved');
    expect(calls('versioned')).toBe(10);
    const second = await runWith('versioned', '--cache', 'readwrite');
    expect(second.stdout).toContain('cache (readwrite): 10 hits, 0 target calls, 0 stored · $0.00 spent, $5.00 saved');
    expect(second.stdout).toMatch(/exact-match\s+1\.000/);
    expect(calls('versioned')).toBe(10);

    const runs = json(await expectExit(run('runs', 'list', 'cached', '--json', '--config', 'cache.config.mjs'), 0));
    const source = runs.runs[0].id as string;
    const rescored = await expectExit(
      run('runs', 'rescore', source, '--scorer', 'small', '--watch', '--config', 'cache.config.mjs'),
      0,
    );
    expect(rescored.stdout).toContain(`re-score of run ${source}: its stored outputs, no target called`);
    expect(rescored.stdout).toMatch(/small\s+0\.500/);
    expect(calls('versioned')).toBe(10);
    const list = json(await expectExit(run('runs', 'list', 'cached', '--json', '--config', 'cache.config.mjs'), 0));
    expect(list.runs[0]).toMatchObject({ sourceRunId: source, scorerIds: ['small'], status: 'completed' });
  });

  it("a cacheKey runs in the target's worker thread; a target without a fingerprint says why it is not cached", async () => {
    await runWith('keyed', '--cache', 'readwrite');
    expect(calls('keyed')).toBe(10);
    const again = await runWith('keyed', '--cache', 'readwrite');
    // Odd inputs share the key 'odd' per input; even ones return null: never cached.
    expect(again.stdout).toContain('cache (readwrite): 5 hits, 5 target calls, 0 stored');
    expect(calls('keyed')).toBe(15);

    const plain = await runWith('plain', '--cache', 'readwrite');
    expect(plain.stdout).toContain("cache: cache 'readwrite' was asked for, but target 'plain' is never cached");
    expect(plain.stdout).not.toContain('cache (');
    await runWith('plain', '--cache', 'readwrite');
    expect(calls('plain')).toBe(20);
  });

  it('cache stats shows entries by target; cache clear deletes by target, by age, or all', async () => {
    const cfg = ['--config', 'cache.config.mjs'];
    const stats = json(await expectExit(run('cache', 'stats', '--json', ...cfg), 0));
    expect(stats.targets.map((t: any) => [t.targetId, t.entries])).toEqual([
      ['keyed', 5],
      ['versioned', 10],
    ]);
    expect(stats.total).toMatchObject({ entries: 15, costUsd: 5 });
    const text = await expectExit(run('cache', 'stats', ...cfg), 0);
    expect(text.stdout).toMatch(/versioned\s+10\s+\d+ B\s+\$5\.0000/);
    expect((await expectExit(run('cache', 'clear', '--target', 'keyed', ...cfg), 0)).stdout).toContain(
      '5 cache entries deleted',
    );
    expect((await expectExit(run('cache', 'clear', '--older-than', '1d', ...cfg), 0)).stdout).toContain(
      '0 cache entries deleted',
    );
    const bad = await expectExit(run('cache', 'clear', '--older-than', 'soon', ...cfg), 2);
    expect(bad.stderr).toContain('must be an age such as 30d');
    expect((await expectExit(run('cache', 'clear', ...cfg), 0)).stdout).toContain('10 cache entries deleted');
    expect((await expectExit(run('cache', 'stats', ...cfg), 0)).stdout).toContain('the cache is empty');
    // With the cache empty, the next run calls the target again.
    await runWith('versioned', '--cache', 'readwrite');
    expect(calls('versioned')).toBe(20);
  });
});
