/**
 * The ItemRunner port: one contract, run against both adapters — the inline runner (this thread)
 * and the thread runner (piscina worker threads loading the config file) — plus what only the
 * thread runner can do: stop synchronous user code at its time limit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AttemptRequest,
  createInlineRunner,
  createRegistry,
  createThreadRunner,
  type ItemRunner,
  type Registry,
} from '../src/index.js';

const CONFIG = `
import { appendFileSync } from 'node:fs';
const LOG = new URL('./overlap.log', import.meta.url);
const spin = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
const sleep = (ms, signal) => new Promise((res, rej) => {
  const t = setTimeout(res, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); rej(signal.reason); }, { once: true });
});
export default {
  targets: [
    { id: 'echo', type: 'function', run: async (input, ctx) => { ctx.reportUsage({ inputTokens: 3, costUsd: 0.5 }); return input; } },
    {
      id: 'traced',
      type: 'function',
      run: async (input, ctx) => {
        ctx.reportTrace({ traceId: 't-1', toolCalls: [{ name: 'search' }] });
        ctx.reportTrace(input === 'bad' ? { when: 1n } : { steps: 2 });
        return input;
      },
    },
    { id: 'fail', type: 'function', run: async (input) => { throw Object.assign(new Error('boom ' + input), { status: input === 503 ? 503 : 400 }); } },
    { id: 'slow', type: 'function', run: async (input, ctx) => { await sleep(10_000, ctx.signal); return input; } },
    // Reads its signal only after an await: the signal is made on first use, and still fires.
    { id: 'slowLate', type: 'function', run: async (input, ctx) => { await sleep(1); await sleep(10_000, ctx.signal); return input; } },
    {
      id: 'aborts',
      type: 'function',
      run: async (input, ctx) => {
        const log = new URL('./aborts-' + input.log + '.log', import.meta.url);
        try { await sleep(input.ms, ctx.signal); } catch (e) { appendFileSync(log, 'aborted:' + input.id + '\\n'); throw e; }
        appendFileSync(log, 'done:' + input.id + '\\n');
        return input.id;
      },
    },
    { id: 'bigint', type: 'function', run: async () => ({ n: 1n }) },
    { id: 'spin', type: 'function', run: (input) => { spin(input.ms); return input; } },
    { id: 'exit', type: 'function', run: async () => { process.exit(9); } },
    { id: 'whereBusy', type: 'function', run: async (input) => { await sleep(1); spin(input.ms); return (await import('node:worker_threads')).threadId; } },
    { id: 'spinLate', type: 'function', run: async (input) => { await sleep(20); spin(input.ms); return input; } },
    {
      id: 'overlap',
      type: 'function',
      run: async () => { appendFileSync(LOG, '+'); await sleep(200); appendFileSync(LOG, '-'); return 1; },
    },
  ],
  scorers: [
    { id: 'late', score: async ({ signal }) => { await sleep(10_000, signal); return 1; } },
    { id: 'spins', score: () => { spin(60_000); return 1; } },
    { id: 'bad', score: () => 7 },
  ],
};
`;

const dir = mkdtempSync(join(tmpdir(), 'assay-runner-'));
const configPath = join(dir, 'assay.config.mjs');
writeFileSync(configPath, CONFIG);
const runners: ItemRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
  rmSync(dir, { recursive: true, force: true });
});

let registry: Registry;
const registryOf = async () => (registry ??= createRegistry((await import(configPath)).default));

let seq = 0;
function request(targetId: string, input: unknown, scorerIds: string[] = [], extra: Partial<AttemptRequest> = {}) {
  return {
    runId: 'run_test',
    targetId,
    scorerIds,
    itemId: `item_${++seq}`,
    repetition: 0,
    attempt: 1,
    input,
    groundTruth: input,
    metadata: null,
    itemTimeoutMs: 5_000,
    scorerTimeoutMs: 5_000,
    ...extra,
  } satisfies AttemptRequest;
}

async function attempt(runner: ItemRunner, req: AttemptRequest, signal = new AbortController().signal) {
  const reg = await registryOf();
  const target = reg.targets.get(req.targetId)!;
  const scorers = req.scorerIds.map((id) => reg.scorers.get(id)!);
  return runner.attempt(req, target, scorers, signal);
}

const adapters: [string, () => ItemRunner][] = [
  ['inline', () => createInlineRunner()],
  ['threads', () => createThreadRunner({ configPath, threads: 2, graceMs: 200, stallMs: 300 })],
];

describe.each(adapters)('ItemRunner contract: %s', (_name, make) => {
  const runner = make();
  runners.push(runner);

  it('runs the target, then every scorer, and returns usage and latency', async () => {
    const r = await attempt(runner, request('echo', 'hi', ['exact-match', 'bad']));
    expect(r).toMatchObject({ ok: true, output: 'hi', usage: { inputTokens: 3, outputTokens: null, costUsd: 0.5 } });
    if (!r.ok) throw new Error('expected ok');
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
    expect(r.scores[0]).toEqual({ scorerId: 'exact-match', score: 1, reason: null, error: null });
    expect(r.scores[1]).toMatchObject({ scorerId: 'bad', score: null });
    expect(r.scores[1].error).toContain('expected a number in [0, 1]');
  });

  it('keeps what the target reported with reportTrace, merged; a trace that is not JSON is named', async () => {
    const r = await attempt(runner, request('traced', 'ok'));
    expect(r).toMatchObject({ ok: true, trace: { traceId: 't-1', toolCalls: [{ name: 'search' }], steps: 2 } });
    const bad = await attempt(runner, request('traced', 'bad'));
    expect(bad).toMatchObject({
      ok: true,
      output: 'bad',
      trace: { error: expect.stringContaining('not JSON-serializable') },
    });
    expect(await attempt(runner, request('echo', 1))).not.toHaveProperty('trace');
  });

  it('returns target errors as data, saying whether a retry can help', async () => {
    expect(await attempt(runner, request('fail', 503))).toMatchObject({
      ok: false,
      error: { code: 'HTTP_503', retryable: true, message: 'boom 503' },
    });
    expect(await attempt(runner, request('fail', 400))).toMatchObject({
      ok: false,
      error: { code: 'HTTP_400', retryable: false },
    });
    expect(await attempt(runner, request('bigint', null))).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining('not JSON-serializable') },
    });
  });

  it('bounds an asynchronous target by itemTimeoutMs and a scorer by scorerTimeoutMs', async () => {
    for (const id of ['slow', 'slowLate']) {
      expect(await attempt(runner, request(id, 1, [], { itemTimeoutMs: 100 }))).toMatchObject({
        ok: false,
        error: { code: 'TIMEOUT', retryable: true },
      });
    }
    const r = await attempt(runner, request('echo', 1, ['late', 'exact-match'], { scorerTimeoutMs: 100 }));
    if (!r.ok) throw new Error('expected ok');
    expect(r.scores[0]).toMatchObject({ scorerId: 'late', score: null });
    expect(r.scores[0].error).toContain('scorerTimeoutMs');
    expect(r.scores[1]).toMatchObject({ scorerId: 'exact-match', score: 1 });
  });

  it('runs many asynchronous attempts at once, not one per thread', async () => {
    const log = join(dir, 'overlap.log');
    writeFileSync(log, '');
    await Promise.all(Array.from({ length: 20 }, () => attempt(runner, request('overlap', 1))));
    let depth = 0;
    let max = 0;
    for (const c of readFileSync(log, 'utf8')) {
      depth += c === '+' ? 1 : -1;
      max = Math.max(max, depth);
    }
    expect(max).toBeGreaterThan(5);
  });

  it('rejects with the reason when its signal aborts', async () => {
    const ac = new AbortController();
    const pending = attempt(runner, request('slow', 1), ac.signal);
    setTimeout(() => ac.abort(new Error('run cancelled')), 50);
    await expect(pending).rejects.toThrow('run cancelled');
  });

  it("aborting one signal stops its attempts' targets and no other signal's", async () => {
    const log = join(dir, `aborts-${_name}.log`);
    writeFileSync(log, '');
    const a = new AbortController();
    const b = new AbortController();
    const input = (id: string, ms: number) => ({ id, ms, log: _name });
    const a1 = attempt(runner, request('aborts', input('a1', 10_000)), a.signal);
    const a2 = attempt(runner, request('aborts', input('a2', 10_000)), a.signal);
    const b1 = attempt(runner, request('aborts', input('b1', 400)), b.signal);
    setTimeout(() => a.abort(new Error('run cancelled')), 100);
    await expect(a1).rejects.toThrow('run cancelled');
    await expect(a2).rejects.toThrow('run cancelled');
    expect(await b1).toMatchObject({ ok: true, output: 'b1' });
    // The callers move on at once; the targets hear it in their thread.
    const deadline = Date.now() + 5_000;
    const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).sort();
    while (lines().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(lines()).toEqual(['aborted:a1', 'aborted:a2', 'done:b1']);
  });
});

describe('thread runner: synchronous user code', () => {
  const runner = createThreadRunner({ configPath, threads: 2, graceMs: 200, stallMs: 300 });
  runners.push(runner);

  it('stops a target busy past itemTimeoutMs; its neighbours on the same thread still succeed', async () => {
    const [spun, ...rest] = await Promise.all([
      attempt(runner, request('spin', { ms: 30_000 }, [], { itemTimeoutMs: 300 })),
      ...Array.from({ length: 6 }, (_, i) => attempt(runner, request('echo', i, ['exact-match']))),
    ]);
    expect(spun).toMatchObject({ ok: false, error: { code: 'TARGET_TIMEOUT', retryable: false } });
    for (const r of rest) expect(r.ok).toBe(true);
  });

  it('stops a scorer busy past scorerTimeoutMs: the item fails with SCORER_TIMEOUT naming it', async () => {
    const r = await attempt(runner, request('echo', 1, ['exact-match', 'spins'], { scorerTimeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, error: { code: 'SCORER_TIMEOUT', retryable: false } });
    if (r.ok) throw new Error('expected a failure');
    expect(r.error.message).toContain("scorer 'spins'");
  });

  it('fails an item whose code ends its thread with USER_CODE_EXITED, and keeps serving', async () => {
    expect(await attempt(runner, request('exit', 1))).toMatchObject({
      ok: false,
      error: { code: 'USER_CODE_EXITED' },
    });
    expect(await attempt(runner, request('echo', 'after', ['exact-match']))).toMatchObject({
      ok: true,
      output: 'after',
    });
  });

  it('runs every item again after their thread ended, even when each thread of the quarantine ends too', async () => {
    // One batch on one thread: the exit ends it before anyone knows whose code did, so all six run
    // again one per thread; there the exit and the late spin end both quarantine threads at once.
    const [exited, spun, ...rest] = await Promise.all([
      attempt(runner, request('exit', 1)),
      attempt(runner, request('spinLate', { ms: 30_000 }, [], { itemTimeoutMs: 300 })),
      ...Array.from({ length: 4 }, (_, i) => attempt(runner, request('echo', i, ['exact-match']))),
    ]);
    expect(exited).toMatchObject({ ok: false, error: { code: 'USER_CODE_EXITED' } });
    expect(spun).toMatchObject({ ok: false, error: { code: 'TARGET_TIMEOUT' } });
    for (const r of rest) expect(r).toMatchObject({ ok: true });
  }, 30_000);
});

describe('thread runner: which thread runs what', () => {
  const runner = createThreadRunner({ configPath, threads: 2, graceMs: 200, stallMs: 300 });
  runners.push(runner);

  it('fills the next thread once one is busy: CPU-heavy attempts run on both', async () => {
    // 40 × 25 ms of synchronous work: the first thread is busy within one heartbeat (50 ms), so
    // later pieces go to the second.
    const results = await Promise.all(
      Array.from({ length: 40 }, () => attempt(runner, request('whereBusy', { ms: 25 }))),
    );
    const threadIds = new Set(results.map((r) => (r.ok ? r.output : r.error.code)));
    expect([...threadIds].every((t) => typeof t === 'number')).toBe(true);
    expect(threadIds.size).toBe(2);
  });

  it('a thread held up by busy code does not hold up attempts sent after it', async () => {
    const spun = attempt(runner, request('spin', { ms: 30_000 }, [], { itemTimeoutMs: 4_000 }));
    await new Promise((r) => setTimeout(r, 300)); // that thread stops beating
    const later = Promise.all(Array.from({ length: 5 }, (_, i) => attempt(runner, request('echo', i))));
    // On the held-up thread they would wait for its stop (then run again, and succeed).
    const first = await Promise.race([later, spun.then(() => 'the held-up thread was stopped first')]);
    expect(first).toEqual(Array.from({ length: 5 }, (_, i) => expect.objectContaining({ ok: true, output: i })));
    await expect(spun).resolves.toMatchObject({ ok: false, error: { code: 'TARGET_TIMEOUT' } });
  }, 30_000);
});

describe('thread runner: a config its threads cannot load', () => {
  it('fails each item with CONFIG_LOAD_FAILED naming the file and the error, instead of failing the job for good', async () => {
    const path = join(dir, 'threads-refuse.config.mjs');
    writeFileSync(
      path,
      `import { isMainThread } from 'node:worker_threads';
if (!isMainThread) throw new Error('this config refuses worker threads');
export default { targets: [{ id: 'echo', type: 'function', run: async (x) => x }] };`,
    );
    const runner = createThreadRunner({ configPath: path, threads: 1 });
    runners.push(runner);
    const reg = createRegistry((await import(path)).default);
    const r = await runner.attempt(request('echo', 1), reg.targets.get('echo')!, [], new AbortController().signal);
    expect(r).toMatchObject({ ok: false, error: { code: 'CONFIG_LOAD_FAILED', retryable: false } });
    if (r.ok) throw new Error('expected a failure');
    expect(r.error.message).toContain(path);
    expect(r.error.message).toContain('this config refuses worker threads');
  });
});
