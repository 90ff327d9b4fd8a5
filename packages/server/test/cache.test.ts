/**
 * The target output cache through the real engine, on both deployments (a SQLite file; PostgreSQL
 * with BullMQ on Redis): a rerun of unchanged work calls no target, every change that matters
 * misses exactly what it changed, and failures are never cached. Targets count their own calls
 * (a counter in the function, the hits of a real HTTP server).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AssayConfig, type Json, type Target, TargetError } from '@assay/core';
import { type Assay, type AssayOptions, createAssay } from '@assay/runtime';
import {
  createTestDatabase,
  deleteKeys,
  pgAvailable,
  REDIS_URL,
  redisAvailable,
  type ServiceCheck,
} from '@assay/testkit/services';
import { describeWithService } from '@assay/testkit/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { call, dataset, results, waitRun } from './helpers.js';

/** A database of a deployment: every Assay opened on it shares it (as restarted servers would). */
interface Place {
  open(config: AssayConfig): Promise<Assay>;
}

const DEPLOYMENTS: { name: string; requires?: () => Promise<ServiceCheck>; place(): Promise<Place> }[] = [
  {
    name: 'sqlite',
    async place() {
      const dataDir = mkdtempSync(join(tmpdir(), 'assay-cache-'));
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      return { open: (config) => opened(config, { dataDir }) };
    },
  },
  {
    name: 'postgres',
    requires: async () => {
      const [pg, redis] = await Promise.all([pgAvailable(), redisAvailable()]);
      return !pg.available ? pg : redis;
    },
    async place() {
      const db = await createTestDatabase();
      const redisPrefix = `assay-test-cache-${randomBytes(4).toString('hex')}`;
      cleanups.push(async () => {
        await deleteKeys(redisPrefix);
        await db.drop();
      });
      return { open: (config) => opened(config, { databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix }) };
    },
  },
];

const open: Assay[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const a of open.splice(0)) await a.close(2000);
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function opened(config: AssayConfig, where: Partial<AssayOptions>): Promise<Assay> {
  const assay = await createAssay({ config, pollMs: 20, retryBaseMs: 5, cancelPollMs: 50, ...where });
  open.push(assay);
  return assay;
}

async function close(assay: Assay) {
  open.splice(open.indexOf(assay), 1);
  await assay.close(2000);
}

/** Triggers a run and waits for it to finish; returns the run and its results by `itemId#repetition`. */
async function runOnce(assay: Assay, ds: string, body: Record<string, unknown>) {
  const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, body);
  expect(trig.status, JSON.stringify(trig.json)).toBe(202);
  const run = await waitRun(assay, ds, trig.json.runId);
  const rs = await results(assay, ds, run.id);
  expect(new Set(rs.map((r) => `${r.itemId}#${r.repetition}`)).size).toBe(rs.length); // one result per item
  return { run, rs, by: new Map(rs.map((r) => [`${r.itemId}#${r.repetition}`, r])) };
}

/** A code target with a version that counts its calls and reports a cost of 0.01 per call. */
function counted(extra: Partial<Target> = {}) {
  const calls: unknown[] = [];
  const target: Target = {
    id: 'counted',
    type: 'function',
    version: '1',
    run: async (input: { n: number }, ctx) => {
      calls.push(input);
      ctx.reportUsage({ inputTokens: 10, outputTokens: 2, costUsd: 0.01 });
      await new Promise((r) => setTimeout(r, 2));
      return `answer ${input.n}`;
    },
    ...extra,
  };
  return { target, calls };
}

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ input: { n: i }, groundTruth: `answer ${i}` }));
const entries = async (assay: Assay) => (await assay.storage.cacheStats()).reduce((s, t) => s + t.entries, 0);

/** An HTTP endpoint that counts its requests and answers with the question it was sent. */
async function endpoint() {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: `echo ${body}`, usage: { cost: 0.002 } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/answer`, bodies };
}

for (const deployment of DEPLOYMENTS) {
  const describeOn = deployment.requires ? describeWithService(await deployment.requires()) : describe;

  describeOn(`target output cache: ${deployment.name}`, () => {
    it('a second identical run with readwrite calls the target zero times and stores one cached result per item', async () => {
      const { target, calls } = counted();
      const assay = await (await deployment.place()).open({ targets: [target] });
      const ds = await dataset(assay, items(20));
      const body = { targetId: 'counted', scorerIds: ['exact-match'], cache: 'readwrite', maxConcurrency: 5 };

      const first = await runOnce(assay, ds, body);
      expect(calls).toHaveLength(20);
      expect(first.run).toMatchObject({ status: 'completed', succeededCount: 20 });
      expect(first.run.options.cache).toBe('readwrite');
      expect(first.run.summary.cache).toEqual({
        mode: 'readwrite',
        hits: 0,
        misses: 20,
        stored: 20,
        costSpentUsd: expect.closeTo(0.2, 9),
        costSavedUsd: 0,
        modelCalls: { made: 0, reused: 0 },
      });
      expect(first.rs.every((r) => r.cached === false && r.cachedFrom === null)).toBe(true);
      expect(await entries(assay)).toBe(20);

      const second = await runOnce(assay, ds, body);
      expect(calls).toHaveLength(20); // not one call more
      expect(second.run).toMatchObject({ status: 'completed', succeededCount: 20, failedCount: 0, totalItems: 20 });
      expect(second.rs).toHaveLength(20);
      for (const r of second.rs) {
        const was = first.by.get(`${r.itemId}#0`);
        expect(r).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: first.run.id, output: was.output });
        // The first computation's latency and usage, and scores of its own.
        expect(r.latencyMs).toBe(was.latencyMs);
        expect(r.usage).toEqual(was.usage);
        expect(r.scores).toEqual([expect.objectContaining({ scorerId: 'exact-match', score: 1 })]);
      }
      expect(second.run.summary.cache).toEqual({
        mode: 'readwrite',
        hits: 20,
        misses: 0,
        stored: 0,
        costSpentUsd: 0,
        costSavedUsd: expect.closeTo(0.2, 9),
        modelCalls: { made: 0, reused: 0 },
      });
      // The usage totals still describe the outputs; spent and saved tell them apart.
      expect(second.run.summary.usage.costUsd).toBeCloseTo(0.2, 9);
      expect(second.run.summary.scorers[0]).toMatchObject({ scorerId: 'exact-match', mean: 1, count: 20 });
      expect(await entries(assay)).toBe(20);

      // Housekeeping: GET /cache by target, DELETE /cache by target or age.
      const stats = await call(assay, 'GET', '/cache');
      expect(stats.json).toMatchObject({
        targets: [{ targetId: 'counted', entries: 20 }],
        total: { entries: 20, costUsd: expect.closeTo(0.2, 9) },
      });
      expect((await call(assay, 'GET', '/cache?targetId=other')).json.targets).toEqual([]);
      const bad = await call(assay, 'DELETE', '/cache?olderThan=soon');
      expect(bad).toMatchObject({ status: 400, json: { error: { code: 'VALIDATION_ERROR' } } });
      expect((await call(assay, 'DELETE', '/cache?olderThan=1d')).json).toEqual({ deleted: 0 });
      expect((await call(assay, 'DELETE', '/cache?targetId=other')).json).toEqual({ deleted: 0 });
      expect((await call(assay, 'DELETE', '/cache?targetId=counted')).json).toEqual({ deleted: 20 });
      await runOnce(assay, ds, body);
      expect(calls).toHaveLength(40); // an empty cache: every item calls the target again
    });

    it("changing one item's input misses only that item; a failed item is never cached", async () => {
      const { target, calls } = counted({
        run: async (input: { n: number }) => {
          calls.push(input);
          if (input.n === 3) throw new TargetError('item 3 always fails', { retryable: false });
          return `answer ${input.n}`;
        },
      });
      const assay = await (await deployment.place()).open({ targets: [target] });
      const ds = await dataset(assay, items(10));
      const body = { targetId: 'counted', cache: 'readwrite', maxRetries: 0 };
      const first = await runOnce(assay, ds, body);
      expect(first.run).toMatchObject({ succeededCount: 9, failedCount: 1 });
      expect(calls).toHaveLength(10);
      expect(await entries(assay)).toBe(9); // not the failed one

      const listed = (await call(assay, 'GET', `/datasets/${ds}/items?perPage=100`)).json.items as any[];
      const changed = listed.find((i) => i.input.n === 5);
      expect((await call(assay, 'PATCH', `/datasets/${ds}/items/${changed.id}`, { input: { n: 55 } })).status).toBe(
        200,
      );
      calls.length = 0;
      const second = await runOnce(assay, ds, body);
      // The changed item and the failed one call the target again; nothing else does.
      expect(calls.map((c: any) => c.n).sort((a, b) => a - b)).toEqual([3, 55]);
      const missed = second.rs.filter((r) => !r.cached).map((r) => r.input.n);
      expect(missed.sort((a, b) => a - b)).toEqual([3, 55]);
      expect(second.run.summary.cache).toMatchObject({ hits: 8, misses: 2, stored: 1 });
      expect(second.rs.find((r) => r.input.n === 3)).toMatchObject({ status: 'failed', cached: false });
      expect(await entries(assay)).toBe(10);
    });

    it('repetitions 1–3 are three entries, and each comes back as its own sample', async () => {
      let sample = 0;
      const { target, calls } = counted({
        run: async (input: { n: number }, ctx) => {
          calls.push(input);
          return { n: input.n, repetition: ctx.repetition, sample: ++sample };
        },
      });
      const assay = await (await deployment.place()).open({ targets: [target] });
      const ds = await dataset(assay, items(4));
      const body = { targetId: 'counted', cache: 'readwrite', repetitions: 3 };
      const first = await runOnce(assay, ds, body);
      expect(calls).toHaveLength(12);
      expect(await entries(assay)).toBe(12);
      const second = await runOnce(assay, ds, body);
      expect(calls).toHaveLength(12);
      expect(second.rs).toHaveLength(12);
      for (const r of second.rs) {
        expect(r.cached).toBe(true);
        expect(r.output).toEqual(first.by.get(`${r.itemId}#${r.repetition}`).output);
        expect(r.output.repetition).toBe(r.repetition);
      }
      expect(new Set(second.rs.map((r) => r.output.sample)).size).toBe(12); // no sample reused for another repetition
    });

    it('identical inputs in one run call the target once; the others reuse its output, or try themselves when it fails', async () => {
      let failFirst = true;
      const { target, calls } = counted({
        run: async (input: { n: number; q: string }, ctx) => {
          calls.push(input);
          await new Promise((r) => setTimeout(r, 30));
          if (input.q === 'flaky' && failFirst) {
            failFirst = false;
            throw new TargetError('the first call fails', { retryable: false });
          }
          ctx.reportUsage({ inputTokens: 10, outputTokens: 2, costUsd: 0.01 });
          return `answer ${input.q}`;
        },
      });
      const assay = await (await deployment.place()).open({ targets: [target] });
      const same = Array.from({ length: 6 }, () => ({ input: { n: 1, q: 'same' }, groundTruth: 'answer same' }));
      const flaky = Array.from({ length: 3 }, () => ({ input: { n: 2, q: 'flaky' }, groundTruth: 'answer flaky' }));
      const ds = await dataset(assay, [
        ...same,
        ...flaky,
        { input: { n: 3, q: 'other' }, groundTruth: 'answer other' },
      ]);
      const { run, rs } = await runOnce(assay, ds, {
        targetId: 'counted',
        scorerIds: ['exact-match'],
        cache: 'readwrite',
        maxConcurrency: 10,
      });
      // 'same' once, 'flaky' twice (its first call failed, the next item tried), 'other' once.
      expect(calls.map((c) => (c as { q: string }).q).sort()).toEqual(['flaky', 'flaky', 'other', 'same']);
      expect(rs).toHaveLength(10);
      const of = (q: string) => rs.filter((r) => r.input.q === q);
      expect(of('same').filter((r) => !r.cached)).toHaveLength(1);
      for (const r of of('same').filter((r) => r.cached)) {
        expect(r).toMatchObject({ status: 'succeeded', output: 'answer same', cachedFrom: run.id });
        expect(r.scores).toEqual([expect.objectContaining({ scorerId: 'exact-match', score: 1 })]);
      }
      expect(
        of('flaky')
          .map((r) => r.status)
          .sort(),
      ).toEqual(['failed', 'succeeded', 'succeeded']);
      expect(run.summary.cache).toMatchObject({ hits: 6, stored: 3, costSpentUsd: expect.closeTo(0.03, 9) });
      expect(run.summary.cache.costSavedUsd).toBeCloseTo(0.06, 9);
      expect(await entries(assay)).toBe(3);

      // Without the cache every item calls the target.
      calls.length = 0;
      await runOnce(assay, ds, { targetId: 'counted', maxConcurrency: 10 });
      expect(calls).toHaveLength(10);
    });

    it("changing the http target's body template misses all; a header's value does not count, its name does", async () => {
      const api = await endpoint();
      const place = await deployment.place();
      const http = (body: Json, headers: Record<string, string>): AssayConfig => ({
        targets: [
          {
            id: 'bot',
            type: 'http' as const,
            url: api.url,
            body,
            headers,
            output: '/answer',
            cache: 'readwrite' as const,
          },
        ],
      });
      let assay = await place.open(http({ q: '{{input.n}}' }, { authorization: 'Bearer one' }));
      const ds = await dataset(assay, items(6));
      const first = await runOnce(assay, ds, { targetId: 'bot' }); // the target's default: readwrite
      expect(first.run.options.cache).toBe('readwrite');
      expect(api.bodies).toHaveLength(6);
      expect((await runOnce(assay, ds, { targetId: 'bot' })).run.summary.cache.hits).toBe(6);
      expect(api.bodies).toHaveLength(6);
      await close(assay);

      // A new credential: the same requests, so the same outputs.
      assay = await place.open(http({ q: '{{input.n}}' }, { authorization: 'Bearer two' }));
      expect((await runOnce(assay, ds, { targetId: 'bot' })).run.summary.cache.hits).toBe(6);
      expect(api.bodies).toHaveLength(6);
      await close(assay);

      // Another body template: every request differs, every item misses.
      assay = await place.open(http({ q: '{{input.n}}', style: 'short' }, { authorization: 'Bearer two' }));
      const changed = await runOnce(assay, ds, { targetId: 'bot' });
      expect(api.bodies).toHaveLength(12);
      expect(changed.run.summary.cache).toMatchObject({ hits: 0, misses: 6, stored: 6 });
      expect(changed.rs.every((r) => !r.cached && String(r.output).includes('short'))).toBe(true);
      await close(assay);

      // Another header name: a different request too.
      assay = await place.open(http({ q: '{{input.n}}', style: 'short' }, { authorization: 'x', 'x-tenant': 'a' }));
      expect((await runOnce(assay, ds, { targetId: 'bot' })).run.summary.cache.hits).toBe(0);
      expect(api.bodies).toHaveLength(18);
    });

    it('read only reads, write only writes, off does neither; a target without a fingerprint says why', async () => {
      const { target, calls } = counted();
      const plain = { id: 'plain', type: 'function' as const, run: async (input: { n: number }) => input.n };
      const assay = await (await deployment.place()).open({ targets: [target, plain] });
      const ds = await dataset(assay, items(5));
      await runOnce(assay, ds, { targetId: 'counted', cache: 'read' });
      expect(calls).toHaveLength(5);
      expect(await entries(assay)).toBe(0);
      await runOnce(assay, ds, { targetId: 'counted', cache: 'write' });
      expect(calls).toHaveLength(10);
      expect(await entries(assay)).toBe(5);
      const written = await runOnce(assay, ds, { targetId: 'counted', cache: 'write' });
      expect(calls).toHaveLength(15); // write does not read
      expect(written.run.summary.cache).toMatchObject({ hits: 0, misses: 5, stored: 0 }); // entries stay
      const off = await runOnce(assay, ds, { targetId: 'counted' });
      expect(calls).toHaveLength(20);
      expect(off.run.options.cache).toBeUndefined();
      expect(off.run.summary.cache).toBeUndefined();
      expect((await runOnce(assay, ds, { targetId: 'counted', cache: 'read' })).run.summary.cache.hits).toBe(5);
      expect(calls).toHaveLength(20);

      const never = await runOnce(assay, ds, { targetId: 'plain', cache: 'readwrite' });
      expect(never.run.options).toMatchObject({ cache: 'off', cacheNotice: expect.stringContaining('version') });
      expect(never.run.summary.cache).toBeUndefined();
      expect(never.rs.every((r) => !r.cached)).toBe(true);
      expect((await assay.storage.cacheStats()).map((s) => s.targetId)).toEqual(['counted']);
    });

    it("re-score calls no target and yields the new scorer's scores for every item and repetition", async () => {
      const { target, calls } = counted({
        run: async (input: { n: number }, ctx) => {
          calls.push(input);
          ctx.reportUsage({ costUsd: 0.01 });
          if (input.n === 2) throw new TargetError('no answer for 2', { retryable: false });
          return `answer ${input.n}${input.n % 2 ? ' (odd)' : ''}`;
        },
      });
      const odd = { id: 'odd', score: ({ output }: { output: string }) => (output.endsWith('(odd)') ? 1 : 0) };
      const assay = await (await deployment.place()).open({ targets: [target], scorers: [odd] });
      const ds = await dataset(assay, items(6));
      const source = await runOnce(assay, ds, { targetId: 'counted', scorerIds: ['exact-match'], repetitions: 2 });
      expect(calls).toHaveLength(12);

      const trig = await call(assay, 'POST', `/datasets/${ds}/runs/${source.run.id}/rescore`, {
        scorerIds: ['odd', 'exact-match'],
      });
      expect(trig.status).toBe(202);
      expect(trig.json).toMatchObject({
        status: 'pending',
        sourceRunId: source.run.id,
        scorerIds: ['odd', 'exact-match'],
        targetId: 'counted',
        totalItems: 12,
        name: `rescore of ${source.run.id}`,
      });
      const run = await waitRun(assay, ds, trig.json.runId);
      expect(calls).toHaveLength(12); // no target call
      expect(run).toMatchObject({
        status: 'completed',
        succeededCount: 10,
        failedCount: 2,
        sourceRunId: source.run.id,
      });
      const rs = await results(assay, ds, run.id);
      expect(rs).toHaveLength(12);
      for (const r of rs) {
        const was = source.by.get(`${r.itemId}#${r.repetition}`);
        if (r.input.n === 2) {
          expect(r).toMatchObject({ status: 'failed', scores: [], error: { code: 'NO_SOURCE_OUTPUT' } });
          expect(r.error.message).toContain('no answer for 2');
          continue;
        }
        expect(r).toMatchObject({ status: 'succeeded', output: was.output, cached: true, cachedFrom: source.run.id });
        expect(r.latencyMs).toBe(was.latencyMs);
        expect(r.scores.map((x: any) => [x.scorerId, x.score])).toEqual([
          ['exact-match', 1 - (r.input.n % 2)], // the odd answers carry a suffix
          ['odd', r.input.n % 2],
        ]);
      }
      const scorers = Object.fromEntries(run.summary.scorers.map((x: any) => [x.scorerId, x]));
      expect(scorers.odd).toMatchObject({ count: 10, mean: 0.6 });
      expect(run.summary.cache).toMatchObject({ mode: 'read', hits: 10, costSpentUsd: 0 });
      expect(run.summary.cache.costSavedUsd).toBeCloseTo(0.1, 9);

      // A re-score of a re-score scores the same outputs, still naming the run that computed them.
      const again = await call(assay, 'POST', `/datasets/${ds}/runs/${run.id}/rescore`, { scorerIds: ['odd'] });
      const second = await waitRun(assay, ds, again.json.runId);
      expect(second).toMatchObject({ status: 'completed', succeededCount: 10, sourceRunId: run.id });
      expect(
        (await results(assay, ds, second.id)).every((r) => r.status === 'failed' || r.cachedFrom === source.run.id),
      ).toBe(true);
      expect(calls).toHaveLength(12);

      // Refusals: unknown scorer, no scorer, unknown run, a run still going.
      const unknown = await call(assay, 'POST', `/datasets/${ds}/runs/${run.id}/rescore`, { scorerIds: ['nope'] });
      expect(unknown).toMatchObject({ status: 400, json: { error: { code: 'UNKNOWN_SCORER' } } });
      const none = await call(assay, 'POST', `/datasets/${ds}/runs/${run.id}/rescore`, { scorerIds: [] });
      expect(none).toMatchObject({ status: 400, json: { error: { code: 'VALIDATION_ERROR' } } });
      const missing = await call(assay, 'POST', `/datasets/${ds}/runs/run_nope/rescore`, { scorerIds: ['odd'] });
      expect(missing.status).toBe(404);
    });

    it('a re-score is a run like any other: a running one is refused as a source, and it can be cancelled', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const waiting = {
        id: 'waiting',
        score: async () => {
          await gate;
          return 1;
        },
      };
      const { target, calls } = counted();
      const assay = await (await deployment.place()).open({ targets: [target], scorers: [waiting] });
      const ds = await dataset(assay, items(30));
      const source = await runOnce(assay, ds, { targetId: 'counted' });
      const trig = await call(assay, 'POST', `/datasets/${ds}/runs/${source.run.id}/rescore`, {
        scorerIds: ['waiting'],
        passThreshold: 0.9,
      });
      expect(trig.json.options.passThreshold).toBe(0.9);
      const busy = await call(assay, 'POST', `/datasets/${ds}/runs/${trig.json.runId}/rescore`, {
        scorerIds: ['exact-match'],
      });
      expect(busy).toMatchObject({ status: 409, json: { error: { code: 'CONFLICT' } } });
      expect((await call(assay, 'POST', `/datasets/${ds}/runs/${trig.json.runId}/cancel`)).status).toBe(202);
      const run = await waitRun(assay, ds, trig.json.runId);
      release();
      expect(run.status).toBe('cancelled');
      expect(calls).toHaveLength(30);
    });

    it('a cacheKey is part of the key: items it tells apart miss, null never caches', async () => {
      const { target, calls } = counted({
        version: undefined,
        cacheKey: (input: { n: number }, ctx) => (input.n === 0 ? null : { lang: ctx.item.metadata?.lang ?? 'en' }),
      });
      const place = await deployment.place();
      let assay = await place.open({ targets: [target] });
      const ds = await dataset(assay, items(4));
      await runOnce(assay, ds, { targetId: 'counted', cache: 'readwrite' });
      expect(calls).toHaveLength(4);
      expect(await entries(assay)).toBe(3);
      const again = await runOnce(assay, ds, { targetId: 'counted', cache: 'readwrite' });
      expect(calls).toHaveLength(5); // item 0 only
      expect(again.run.summary.cache).toMatchObject({ hits: 3, misses: 1 });
      await close(assay);
      // Another key for every item: all miss.
      assay = await place.open({ targets: [{ ...target, cacheKey: () => 'v2' }] });
      await runOnce(assay, ds, { targetId: 'counted', cache: 'readwrite' });
      expect(calls).toHaveLength(9);
    });
  });
}
