import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AssayApiError, AssayClient, type RunProgress, type RunStreamEvent } from '../src/index.js';
import { useServers } from './server.js';

const start = useServers();

const capitals = [
  { input: { answer: 'Paris' }, groundTruth: 'Paris', externalId: 'fr' },
  { input: { answer: 'Tokyo' }, groundTruth: 'Tokyo', externalId: 'jp' },
  { input: { answer: 'Lima' }, groundTruth: 'Lima', externalId: 'pe' },
];

/** The rejection of `p`, which must reject. */
async function rejection(p: Promise<unknown>): Promise<AssayApiError> {
  try {
    await p;
  } catch (e) {
    return e as AssayApiError;
  }
  throw new Error('expected the promise to reject');
}

describe('AssayClient against a real server', () => {
  it('covers every route: datasets, items, versions, runs, results, attempts, cancel, retry, registry, health', async () => {
    const server = await start();
    const client = new AssayClient({ url: server.url });

    const health = await client.health();
    expect(health).toMatchObject({ status: 'ok', storage: 'sqlite', worker: true, targets: 4 });
    expect((await client.listTargets()).map((t) => t.id)).toEqual(['echo', 'slow', 'wrong', 'broken']);
    expect(await client.listScorers()).toContainEqual({
      id: 'exact-match',
      description: expect.any(String),
      builtIn: true,
      kind: 'quality',
    });
    expect(await client.listScorers()).toContainEqual({
      id: 'non-empty',
      description: null,
      builtIn: false,
      kind: 'quality',
    });

    // datasets
    const ds = await client.createDataset({ name: 'capitals', description: 'demo', metadata: { team: 'search' } });
    expect(ds).toMatchObject({ name: 'capitals', version: 0, itemCount: 0, metadata: { team: 'search' } });
    expect(await client.getDataset(ds.id)).toEqual(ds);
    expect(await client.updateDataset(ds.id, { description: 'capital cities' })).toMatchObject({
      description: 'capital cities',
    });
    const other = await client.createDataset({ name: 'other' });
    const list = await client.listDatasets({ perPage: 1 });
    expect(list.datasets.map((d) => d.id)).toEqual([other.id]); // newest first
    expect(list.pagination).toEqual({ total: 2, page: 0, perPage: 1, hasMore: true });

    // items
    const one = await client.addItem(ds.id, { input: { answer: 'Rome' }, groundTruth: 'Rome' });
    expect(one).toMatchObject({ datasetId: ds.id, input: { answer: 'Rome' }, version: 1 });
    const batch = await client.addItems(ds.id, capitals);
    expect(batch).toMatchObject({ count: 3, version: 2 });
    const page = await client.listItems(ds.id, { perPage: 2 });
    expect(page.items).toHaveLength(2);
    expect(page).toMatchObject({ version: 2, pagination: { total: 4, hasMore: true } });
    expect((await client.listItems(ds.id, { search: 'Tokyo' })).items.map((i) => i.externalId)).toEqual(['jp']);
    const updated = await client.updateItem(ds.id, one.id, { groundTruth: 'Roma' });
    expect(updated).toMatchObject({ groundTruth: 'Roma', version: 3 });
    expect(await client.getItem(ds.id, one.id, { version: 1 })).toMatchObject({ groundTruth: 'Rome' });
    expect(await client.getItem(ds.id, one.id)).toMatchObject({ groundTruth: 'Roma' });
    expect(await client.deleteItem(ds.id, one.id)).toEqual({ deleted: true, id: one.id, version: 4 });
    const extra = await client.addItems(ds.id, [{ input: 'x' }, { input: 'y' }]);
    expect(
      await client.deleteItems(
        ds.id,
        extra.items.map((i) => i.id),
      ),
    ).toEqual({ version: 6, count: 2 });
    const all = [];
    for await (const item of client.iterateItems(ds.id, { perPage: 2 })) all.push(item.externalId);
    expect(all.sort()).toEqual(['fr', 'jp', 'pe']);
    const versions = await client.listVersions(ds.id);
    expect(versions.versions.map((v) => v.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(versions.versions.at(-1)).toMatchObject({ added: 1, updated: 0, deleted: 0 });

    // runs: trigger (idempotent), wait, list, get, results, attempts
    const input = { targetId: 'echo', scorerIds: ['exact-match', 'non-empty'] };
    const run = await client.triggerRun(ds.id, input, { idempotencyKey: 'build-42' });
    expect(run).toMatchObject({ runId: run.id, status: 'pending', totalItems: 3, datasetVersion: 6 });
    expect((await client.triggerRun(ds.id, input, { idempotencyKey: 'build-42' })).id).toBe(run.id);
    const done = await client.waitForRun(ds.id, run.id);
    expect(done.status).toBe('completed');
    expect(done.summary?.scorers.map((s) => [s.scorerId, s.mean])).toEqual([
      ['exact-match', 1],
      ['non-empty', 1],
    ]);
    expect((await client.getRun(ds.id, run.id)).status).toBe('completed');
    expect((await client.listRuns(ds.id)).runs.map((r) => r.id)).toEqual([run.id]);
    const results = await client.listRunResults(ds.id, run.id, { status: 'succeeded', perPage: 2 });
    expect(results.results).toHaveLength(2);
    expect(results.pagination).toMatchObject({ total: 3, hasMore: true });
    expect(results.results[0].scores.map((s) => s.scorerId)).toEqual(['exact-match', 'non-empty']);
    const everything = [];
    for await (const r of client.iterateRunResults(ds.id, run.id, { perPage: 1 })) everything.push(r.itemId);
    expect(everything).toHaveLength(3);
    const attempts = await client.listItemAttempts(ds.id, run.id, results.results[0].itemId);
    expect(attempts.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 'succeeded', current: true })]);

    // retry: a run whose items all failed goes again, the first attempt kept
    const failing = await client.triggerRun(ds.id, { targetId: 'broken' });
    expect((await client.waitForRun(ds.id, failing.id)).status).toBe('failed');
    const retried = await client.retryRun(ds.id, failing.id);
    expect(retried).toMatchObject({ runId: failing.id, status: 'running' });
    expect((await client.waitForRun(ds.id, failing.id)).status).toBe('failed');
    const firstItem = (await client.listRunResults(ds.id, failing.id)).results[0].itemId;
    expect((await client.listItemAttempts(ds.id, failing.id, firstItem)).attempts.map((a) => a.attempt)).toEqual([
      1, 2,
    ]);

    // cancel: a slow run stops; cancelling twice is harmless
    const big = await client.createDataset({ name: 'big' });
    await client.addItems(
      big.id,
      Array.from({ length: 200 }, (_, n) => ({ input: n })),
    );
    const slow = await client.triggerRun(big.id, { targetId: 'slow', maxConcurrency: 2 });
    const cancelled = await client.cancelRun(big.id, slow.id);
    expect(cancelled.runId).toBe(slow.id);
    expect((await client.waitForRun(big.id, slow.id)).status).toBe('cancelled');
    expect((await client.cancelRun(big.id, slow.id)).status).toBe('cancelled');

    // delete
    expect(await client.deleteDataset(other.id)).toEqual({ deleted: true, id: other.id });
    expect((await rejection(client.getDataset(other.id))).status).toBe(404);
  });

  it('throws AssayApiError with status, code, message and details for every kind of failure', async () => {
    const server = await start({ apiKey: 'sekret' });
    const client = new AssayClient({ url: `${server.url}/api/`, apiKey: 'sekret' });

    const missing = await rejection(client.getDataset('ds_nope'));
    expect(missing).toBeInstanceOf(AssayApiError);
    expect(missing).toBeInstanceOf(Error);
    expect(missing).toMatchObject({ name: 'AssayApiError', status: 404, code: 'NOT_FOUND', retryable: false });
    expect(missing.message).toContain("'ds_nope' not found");
    expect(missing.details).toEqual({ dataset: 'ds_nope' });

    const invalid = await rejection(client.createDataset({ name: '' }));
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_ERROR' });
    expect(invalid.details).toEqual({ issues: [{ path: 'name', message: 'name must not be empty' }] });

    const ds = await client.createDataset({ name: 'd' });
    await client.addItem(ds.id, { input: 1, externalId: 'one' });
    const dup = await rejection(client.addItems(ds.id, [{ input: 2, externalId: 'one' }]));
    expect(dup).toMatchObject({ status: 409, code: 'CONFLICT', details: { externalIds: ['one'] } });
    const target = await rejection(client.triggerRun(ds.id, { targetId: 'nope' }));
    expect(target).toMatchObject({ status: 400, code: 'UNKNOWN_TARGET' });
    expect((target.details as { available: string[] }).available).toContain('echo');
    await client.triggerRun(ds.id, { targetId: 'echo' }, { idempotencyKey: 'k' });
    const reused = await rejection(client.triggerRun(ds.id, { targetId: 'slow' }, { idempotencyKey: 'k' }));
    expect(reused).toMatchObject({ status: 409, code: 'IDEMPOTENCY_KEY_REUSED' });

    // the API key: health is open, everything else needs the key
    const anonymous = new AssayClient({ url: server.url });
    expect((await anonymous.health()).status).toBe('ok');
    const denied = await rejection(anonymous.listDatasets());
    expect(denied).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect((await rejection(new AssayClient({ url: server.url, apiKey: 'wrong' }).listDatasets())).code).toBe(
      'UNAUTHORIZED',
    );

    // no answer at all: status 0, NETWORK_ERROR, retryable
    const port = server.port;
    await server.stop();
    const down = await rejection(new AssayClient({ url: `http://127.0.0.1:${port}`, retries: 0 }).health());
    expect(down).toMatchObject({ status: 0, code: 'NETWORK_ERROR', retryable: true });
    expect(down.message).toContain(`cannot reach http://127.0.0.1:${port}/api`);

    // an answer that is not Assay's error JSON (a proxy's page) still becomes an AssayApiError
    const proxy = new AssayClient({
      url: 'http://proxy.invalid',
      retries: 0,
      fetch: async () => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    });
    expect(await rejection(proxy.health())).toMatchObject({ status: 502, code: 'HTTP_502', retryable: true });
  });

  it('waitForRun reports progress as it happens, ends with the final run, and honours its signal', async () => {
    const server = await start();
    const client = new AssayClient({ url: server.url });
    const ds = await client.createDataset({ name: 'progress' });
    await client.addItems(
      ds.id,
      Array.from({ length: 60 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const run = await client.triggerRun(ds.id, { targetId: 'slow', maxConcurrency: 4, scorerIds: ['exact-match'] });
    const seen: RunProgress[] = [];
    const done = await client.waitForRun(ds.id, run.id, { onProgress: (p) => seen.push(p) });
    expect(done).toMatchObject({ status: 'completed', succeededCount: 60, failedCount: 0 });
    expect(done.summary?.scorers[0]).toMatchObject({ scorerId: 'exact-match', mean: 1, count: 60 });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.at(-1)).toEqual({ status: 'completed', succeeded: 60, failed: 0, total: 60, done: 60 });
    expect(seen.some((p) => p.status === 'running' && p.done > 0 && p.done < 60)).toBe(true);
    const running = seen.filter((p) => p.status === 'running').map((p) => p.done);
    expect(running).toEqual([...running].sort((a, b) => a - b)); // never steps backwards

    // A signal ends the wait (not the run).
    const again = await client.triggerRun(ds.id, { targetId: 'slow', maxConcurrency: 1 });
    const ctrl = new AbortController();
    const waiting = client.waitForRun(ds.id, again.id, {
      signal: ctrl.signal,
      onProgress: (p) => p.done >= 2 && ctrl.abort(new Error('enough')),
    });
    await expect(waiting).rejects.toThrow('enough');
    expect((await client.getRun(ds.id, again.id)).status).toBe('running');
    await client.cancelRun(ds.id, again.id);

    // A run that already finished resolves at once, with its summary.
    expect((await client.waitForRun(ds.id, run.id)).summary?.succeeded).toBe(60);
  });

  it('streamRun yields the run, then progress and status events, and ends after the final status', async () => {
    const server = await start();
    const client = new AssayClient({ url: server.url });
    const ds = await client.createDataset({ name: 'stream' });
    await client.addItems(
      ds.id,
      Array.from({ length: 30 }, (_, n) => ({ input: n })),
    );
    const run = await client.triggerRun(ds.id, { targetId: 'slow', maxConcurrency: 3 });
    const events: RunStreamEvent[] = [];
    for await (const e of client.streamRun(ds.id, run.id)) events.push(e);
    expect(events[0]).toMatchObject({ type: 'run', run: { id: run.id } });
    expect(events.some((e) => e.type === 'run.progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'run.status', status: 'completed', runId: run.id });
    const progress = events.filter((e) => e.type === 'run.progress');
    expect(progress.at(-1)).toMatchObject({ succeeded: 30, failed: 0, total: 30 });

    // A finished run: one `run` event, then the end.
    const replay = [];
    for await (const e of client.streamRun(ds.id, run.id)) replay.push(e);
    expect(replay).toEqual([{ type: 'run', run: expect.objectContaining({ status: 'completed' }) }]);

    // Breaking out early closes the connection; an unknown run is an error, not a reconnect loop.
    const slow = await client.triggerRun(ds.id, { targetId: 'slow', maxConcurrency: 1 });
    for await (const e of client.streamRun(ds.id, slow.id)) {
      expect(e.type).toBe('run');
      break;
    }
    await client.cancelRun(ds.id, slow.id);
    const it = client.streamRun(ds.id, 'run_nope');
    await expect(it.next()).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });

  it('streamRun survives a server restart: it reconnects to the same port and follows the run to its end', async () => {
    const first = await start();
    const client = new AssayClient({ url: first.url });
    const ds = await client.createDataset({ name: 'restart' });
    await client.addItems(
      ds.id,
      Array.from({ length: 80 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const run = await client.triggerRun(ds.id, { targetId: 'slow', maxConcurrency: 2, scorerIds: ['exact-match'] });

    const events: RunStreamEvent[] = [];
    const reconnects: { attempt: number; error: unknown }[] = [];
    let restart: Promise<unknown> | undefined;
    for await (const e of client.streamRun(ds.id, run.id, {
      reconnect: { delayMs: 50, maxDelayMs: 200 },
      onReconnect: ({ attempt, error }) => reconnects.push({ attempt, error }),
    })) {
      events.push(e);
      if (!restart && e.type === 'run.progress' && e.succeeded >= 10) {
        // Stop the server mid-run (dropping this very stream), leave the port closed for a while
        // (the iterator's reconnects are refused), then start it again on the same data directory
        // and port: the run resumes there, and the iterator with it.
        restart = (async () => {
          await first.stop();
          await new Promise((r) => setTimeout(r, 500));
          return start({ dataDir: first.dataDir, port: first.port });
        })();
      }
    }
    expect(await restart).toBeDefined();
    // at least one try hit the closed port before a later one got through
    expect(reconnects.length).toBeGreaterThan(1);
    expect(reconnects.some((r) => AssayApiError.is(r.error) && r.error.code === 'NETWORK_ERROR')).toBe(true);
    const runEvents = events.filter((e) => e.type === 'run');
    expect(runEvents.length).toBe(2); // the state again on the new connection
    const resumed = events.indexOf(runEvents[1]);
    expect(events.slice(resumed + 1).some((e) => e.type === 'run.progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'run.status', status: 'completed' });
    const final = await client.getRun(ds.id, run.id);
    expect(final).toMatchObject({ status: 'completed', succeededCount: 80, failedCount: 0 });
    expect(final.summary?.scorers[0]).toMatchObject({ mean: 1, count: 80 });
  });

  it('compareRuns: per-scorer verdicts with intervals and p-values, the items that regressed, matched by item (repetitions averaged)', async () => {
    const server = await start();
    const client = new AssayClient({ url: server.url });
    const ds = await client.createDataset({ name: 'compare' });
    await client.addItems(
      ds.id,
      Array.from({ length: 10 }, (_, n) => ({ input: n, groundTruth: n })),
    );
    const scorerIds = ['exact-match'];
    const good = await client.triggerRun(ds.id, { targetId: 'echo', scorerIds, repetitions: 2 });
    const bad = await client.triggerRun(ds.id, { targetId: 'wrong', scorerIds, repetitions: 2 });
    await client.waitForRun(ds.id, good.id);
    await client.waitForRun(ds.id, bad.id);
    const c = await client.compareRuns(
      { datasetId: ds.id, runId: good.id },
      { datasetId: ds.id, runId: bad.id },
      { maxItems: 3 },
    );
    expect(c).toMatchObject({ verdict: 'no significant change', decidingScorerIds: ['exact-match'], alpha: 0.05 });
    // Each item is its mean over the two repetitions: 5 of 10 items went 1 → 0 (McNemar p = 2 / 2⁵).
    expect(c.scorers).toEqual([
      {
        scorerId: 'exact-match',
        kind: 'quality',
        deciding: true,
        baseline: 1,
        candidate: 0.5,
        delta: -0.5,
        ci: expect.objectContaining({ lower: expect.any(Number), upper: expect.any(Number) }),
        pValue: 0.0625,
        pAdjusted: 0.0625,
        test: 'mcnemar',
        verdict: 'no significant change',
        minEffect: 0,
        paired: 10,
        missing: { a: 0, b: 0, both: 0 },
        baselinePassRate: 1,
        candidatePassRate: 0.5,
        baselinePassInterval: expect.objectContaining({ upper: 1 }),
        candidatePassInterval: expect.objectContaining({ lower: expect.any(Number) }),
        flips: { down: 5, up: 0 },
        flipsPValue: 0.0625,
      },
    ]);
    expect(c.scorers[0]!.ci!.upper).toBeLessThan(0);
    // the odd inputs (5 items, each run twice) got worse
    expect(c.items).toEqual({
      matched: 10,
      regressed: 5,
      improved: 0,
      unchanged: 5,
      onlyInBaseline: 0,
      onlyInCandidate: 0,
    });
    expect(c.regressions).toHaveLength(3);
    expect(c.regressions[0]).toMatchObject({
      externalId: null,
      delta: -1,
      status: { baseline: 'succeeded', candidate: 'succeeded' },
      scores: [{ scorerId: 'exact-match', deciding: true, baseline: 1, candidate: 0, delta: -1 }],
    });
    // A looser alpha makes the same evidence a regression.
    const loose = await client.compareRuns(
      { datasetId: ds.id, runId: good.id },
      { datasetId: ds.id, runId: bad.id },
      { alpha: 0.1, scorerIds: ['exact-match'] },
    );
    expect(loose.verdict).toBe('regressed');
    const reverse = await client.compareRuns({ datasetId: ds.id, runId: bad.id }, { datasetId: ds.id, runId: good.id });
    expect(reverse.items.improved).toBe(5);
    expect(reverse.improvements).toHaveLength(5);
  });

  it('uses any fetch, e.g. the in-process app (no port at all)', async () => {
    const server = await start({ worker: false });
    const client = new AssayClient({ url: 'http://in-process', fetch: server.assay.app.fetch });
    const ds = await client.createDataset({ name: 'in-process' });
    expect((await client.getDataset(ds.id)).name).toBe('in-process');
  });

  it('is browser-safe: it imports only the contract (@assay/contract) and eventsource-parser, no Node built-ins', () => {
    const dir = join(import.meta.dirname, '../src');
    for (const f of readdirSync(dir)) {
      const src = readFileSync(join(dir, f), 'utf8');
      const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
      for (const i of imports) {
        expect(
          ['@assay/contract', '@assay/contract/values', 'eventsource-parser'].includes(i) || i.startsWith('./'),
          `${f}: ${i}`,
        ).toBe(true);
      }
    }
  });
});
