/**
 * The HTTP API end to end: the real app in-process (`app.request`), a real SQLite file in a fresh
 * temp dir for this file, a real in-process worker. Covers the happy paths, every 4xx, the error
 * body shape, and a garbage loop that must never produce a 500.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AssayConfig, builtInScorers } from '@assay/core';
import { type Assay, createAssay } from '@assay/runtime';
import { createApp } from '@assay/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiResponse,
  apiClient,
  deferred,
  expectError,
  expectErrorShape,
  expectNoServerError,
  GARBAGE_SCALARS,
  garbageJson,
  prng,
  waitFor,
} from './api-helpers.js';

// ── the instance under test ────────────────────────────────────────────────

let gate = deferred();
let gatedCalls = 0;

const abortable = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

const config: AssayConfig = {
  targets: [
    { id: 'echo', type: 'function', description: 'returns its input', run: async (input) => input },
    {
      id: 'shout',
      type: 'agent',
      maxConcurrency: 3,
      run: async (input) => String(input).toUpperCase(),
    },
    { id: 'flow', type: 'workflow', run: async (input) => ({ wrapped: input }) },
    {
      id: 'flaky',
      type: 'function',
      run: async (input) => {
        if (typeof input === 'number' && input % 3 === 0) throw new Error(`boom ${input}`);
        return input;
      },
    },
    {
      id: 'always-fails',
      type: 'function',
      run: async () => {
        throw new Error('nope');
      },
    },
    { id: 'hang', type: 'function', run: async (_input, ctx) => abortable(ctx.signal) },
    {
      id: 'gated',
      type: 'function',
      run: async (input, ctx) => {
        gatedCalls++;
        await Promise.race([gate.promise, abortable(ctx.signal)]);
        return input;
      },
    },
  ],
  scorers: [
    { id: 'half', description: 'always 0.5', score: () => ({ score: 0.5, reason: 'half' }) },
    {
      id: 'throws-on-2',
      score: ({ output }) => {
        if (output === 2) throw new Error('cannot score 2');
        return 1;
      },
    },
    { id: 'out-of-range', score: () => 2 },
  ],
};

let dir: string;
let assay: Assay;
const req = apiClient(() => assay.app);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assay-api-test-'));
  assay = await createAssay({ config, dataDir: dir, worker: true, pollMs: 25, retryBaseMs: 5 });
});

afterAll(async () => {
  gate.resolve();
  await assay?.close(5_000);
  rmSync(dir, { recursive: true, force: true });
});

// ── small helpers over the API ─────────────────────────────────────────────

const FINAL = ['completed', 'failed', 'cancelled'];

async function newDataset(name = 'ds', extra: Record<string, unknown> = {}): Promise<string> {
  const r = await req('POST', '/datasets', { name, ...extra });
  expect(r.status, r.text).toBe(201);
  return r.body.id;
}

async function addBatch(ds: string, items: Record<string, unknown>[]): Promise<ApiResponse> {
  const r = await req('POST', `/datasets/${ds}/items/batch`, { items });
  expect(r.status, r.text).toBe(201);
  return r;
}

async function datasetWith(items: Record<string, unknown>[], name = 'ds'): Promise<string> {
  const ds = await newDataset(name);
  await addBatch(ds, items);
  return ds;
}

const getDataset = async (ds: string) => (await req('GET', `/datasets/${ds}`)).body;

async function trigger(ds: string, body: Record<string, unknown>): Promise<string> {
  const r = await req('POST', `/datasets/${ds}/runs`, body);
  expect(r.status, r.text).toBe(202);
  return r.body.runId;
}

const getRun = async (ds: string, runId: string) => {
  const r = await req('GET', `/datasets/${ds}/runs/${runId}`);
  expect(r.status, r.text).toBe(200);
  return r.body;
};

const waitRun = (ds: string, runId: string) =>
  waitFor(
    () => getRun(ds, runId),
    (run) => FINAL.includes(run.status),
  );

async function allResults(ds: string, runId: string, query = '') {
  const r = await req('GET', `/datasets/${ds}/runs/${runId}/results?perPage=1000${query}`);
  expect(r.status, r.text).toBe(200);
  return r.body.results as any[];
}

async function itemsAt(ds: string, version?: number) {
  const q = version === undefined ? '' : `&version=${version}`;
  const r = await req('GET', `/datasets/${ds}/items?perPage=1000${q}`);
  expect(r.status, r.text).toBe(200);
  return r.body.items as any[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

// ── health and registry ────────────────────────────────────────────────────

describe('health, targets, scorers', () => {
  it('GET /health reports the embedded deployment', async () => {
    const r = await req('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'ok',
      storage: 'sqlite',
      worker: true,
      version: expect.any(String),
      targets: config.targets.length,
      scorers: builtInScorers.length + (config.scorers?.length ?? 0),
    });
    expect(typeof r.body.queue).toBe('string');
  });

  it('GET /targets lists every configured target with its type', async () => {
    const r = await req('GET', '/targets');
    expect(r.status).toBe(200);
    expect(r.body.targets).toHaveLength(config.targets.length);
    expect(r.body.targets).toContainEqual({
      id: 'echo',
      type: 'function',
      kind: 'function',
      description: 'returns its input',
      maxConcurrency: null,
    });
    expect(r.body.targets).toContainEqual({
      id: 'shout',
      type: 'agent',
      kind: 'function',
      description: null,
      maxConcurrency: 3,
    });
    expect(r.body.targets).toContainEqual(expect.objectContaining({ id: 'flow', type: 'workflow' }));
  });

  it('GET /scorers lists the built-in scorers and the configured ones', async () => {
    const r = await req('GET', '/scorers');
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.scorers.map((s: any) => [s.id, s]));
    expect(Object.keys(byId).sort()).toEqual([
      'contains',
      'contains-all',
      'exact-match',
      'half',
      'json-valid',
      'levenshtein',
      'numeric-close',
      'out-of-range',
      'regex',
      'throws-on-2',
    ]);
    expect(byId['exact-match']).toMatchObject({ builtIn: true, description: expect.any(String) });
    expect(byId.contains).toMatchObject({ builtIn: true });
    expect(byId.half).toEqual({ id: 'half', description: 'always 0.5', builtIn: false, kind: 'quality' });
    expect(byId['throws-on-2']).toEqual({ id: 'throws-on-2', description: null, builtIn: false, kind: 'quality' });
  });
});

// ── datasets ───────────────────────────────────────────────────────────────

describe('datasets CRUD', () => {
  it('POST /datasets → 201 with the full dataset at version 0', async () => {
    const r = await req('POST', '/datasets', {
      name: '  qa set  ',
      description: 'questions',
      metadata: { owner: 'me', tags: ['a'] },
      inputSchema: { type: 'object' },
      groundTruthSchema: { type: 'string' },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.stringMatching(/^ds_/),
      name: 'qa set',
      description: 'questions',
      metadata: { owner: 'me', tags: ['a'] },
      inputSchema: { type: 'object' },
      groundTruthSchema: { type: 'string' },
      scorerIds: null,
      version: 0,
      itemCount: 0,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    const minimal = await req('POST', '/datasets', { name: 'm' });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toMatchObject({ name: 'm', description: null, metadata: null, inputSchema: null });
  });

  it('GET /datasets/:id returns what was created', async () => {
    const created = await req('POST', '/datasets', { name: 'get me', metadata: { k: 1 } });
    const r = await req('GET', `/datasets/${created.body.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(created.body);
  });

  it('PATCH /datasets/:id changes only the given fields and never the version', async () => {
    const ds = await datasetWith([{ input: 1 }], 'before');
    const before = await getDataset(ds);
    const r = await req('PATCH', `/datasets/${ds}`, { name: 'after', metadata: { x: true } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: ds,
      name: 'after',
      description: null,
      metadata: { x: true },
      version: before.version,
      itemCount: 1,
      createdAt: before.createdAt,
    });
    expect(r.body.updatedAt >= before.updatedAt).toBe(true);
    const cleared = await req('PATCH', `/datasets/${ds}`, { description: 'd' });
    expect(cleared.body).toMatchObject({ name: 'after', description: 'd', metadata: { x: true } });
    const nulls = await req('PATCH', `/datasets/${ds}`, { description: null, metadata: null });
    expect(nulls.status).toBe(200);
    expect(nulls.body).toMatchObject({ name: 'after', description: null, metadata: null });
    expect(await getDataset(ds)).toEqual(nulls.body);
  });

  it('DELETE /datasets/:id removes it with its items and runs', async () => {
    const ds = await datasetWith([{ input: 1, groundTruth: 1 }, { input: 2 }]);
    const runId = await trigger(ds, { targetId: 'echo' });
    await waitRun(ds, runId);
    const items = await itemsAt(ds);
    const r = await req('DELETE', `/datasets/${ds}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ deleted: true, id: ds });
    expectError(await req('GET', `/datasets/${ds}`), 404, 'NOT_FOUND');
    expectError(await req('GET', `/datasets/${ds}/items`), 404, 'NOT_FOUND');
    expectError(await req('GET', `/datasets/${ds}/items/${items[0].id}`), 404, 'NOT_FOUND');
    expectError(await req('GET', `/datasets/${ds}/runs`), 404, 'NOT_FOUND');
    expectError(await req('GET', `/datasets/${ds}/runs/${runId}`), 404, 'NOT_FOUND');
    expectError(await req('GET', `/datasets/${ds}/runs/${runId}/results`), 404, 'NOT_FOUND');
    expectError(await req('DELETE', `/datasets/${ds}`), 404, 'NOT_FOUND');
  });

  it('GET /datasets paginates newest first with {datasets, pagination}', async () => {
    const before = (await req('GET', '/datasets?perPage=1')).body.pagination.total as number;
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push(await newDataset(`page-${i}`));
    const first = await req('GET', '/datasets?page=0&perPage=2');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['datasets', 'pagination']);
    expect(first.body.pagination).toEqual({ total: before + 5, page: 0, perPage: 2, hasMore: true });
    expect(first.body.datasets.map((d: any) => d.id)).toEqual([mine[4], mine[3]]);
    const second = await req('GET', '/datasets?page=1&perPage=2');
    expect(second.body.datasets.map((d: any) => d.id)).toEqual([mine[2], mine[1]]);
    // Walk every page: each dataset exactly once, hasMore false only on the last page.
    const seen: string[] = [];
    const total = before + 5;
    const lastPage = Math.ceil(total / 3) - 1;
    for (let page = 0; page <= lastPage; page++) {
      const r = await req('GET', `/datasets?page=${page}&perPage=3`);
      expect(r.body.pagination).toEqual({ total, page, perPage: 3, hasMore: page < lastPage });
      seen.push(...r.body.datasets.map((d: any) => d.id));
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const beyond = await req('GET', `/datasets?page=${lastPage + 10}&perPage=3`);
    expect(beyond.status).toBe(200);
    expect(beyond.body.datasets).toEqual([]);
    expect(beyond.body.pagination).toMatchObject({ total, hasMore: false });
    const defaults = await req('GET', '/datasets');
    expect(defaults.body.pagination).toMatchObject({ page: 0, perPage: 50 });
  });
});

// ── items and versions ─────────────────────────────────────────────────────

describe('items', () => {
  it('add, get, update, delete one item; each mutation bumps version by exactly 1', async () => {
    const ds = await newDataset('items');
    const add = await req('POST', `/datasets/${ds}/items`, {
      input: { q: 'capital of France?' },
      groundTruth: 'Paris',
      metadata: { lang: 'en' },
      externalId: 'q-1',
    });
    expect(add.status).toBe(201);
    expect(add.body).toEqual({
      id: expect.stringMatching(/^item_/),
      datasetId: ds,
      externalId: 'q-1',
      input: { q: 'capital of France?' },
      groundTruth: 'Paris',
      metadata: { lang: 'en' },
      version: 1,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    const id = add.body.id;
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 1 });

    const got = await req('GET', `/datasets/${ds}/items/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(add.body);

    const upd = await req('PATCH', `/datasets/${ds}/items/${id}`, { groundTruth: 'paris', metadata: null });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({
      id,
      externalId: 'q-1',
      input: { q: 'capital of France?' },
      groundTruth: 'paris',
      metadata: null,
      version: 2,
      createdAt: add.body.createdAt,
    });
    expect((await req('GET', `/datasets/${ds}/items/${id}`)).body).toEqual(upd.body);
    expect(await getDataset(ds)).toMatchObject({ version: 2, itemCount: 1 });

    const upd2 = await req('PATCH', `/datasets/${ds}/items/${id}`, { input: null, externalId: null });
    expect(upd2.status).toBe(200);
    expect(upd2.body).toMatchObject({ input: null, externalId: null, groundTruth: 'paris', version: 3 });

    const del = await req('DELETE', `/datasets/${ds}/items/${id}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ deleted: true, id, version: 4 });
    expectError(await req('GET', `/datasets/${ds}/items/${id}`), 404, 'NOT_FOUND');
    expectError(await req('PATCH', `/datasets/${ds}/items/${id}`, { input: 1 }), 404, 'NOT_FOUND');
    expectError(await req('DELETE', `/datasets/${ds}/items/${id}`), 404, 'NOT_FOUND');
    expect(await getDataset(ds)).toMatchObject({ version: 4, itemCount: 0 });
  });

  it('stores any JSON value as input and ground truth, unchanged', async () => {
    const ds = await newDataset('json');
    const values = [0, -1.5, 'text', '', true, false, null, [], {}, [1, [2, [3]]], { a: { b: [null, 'é', '😀'] } }];
    const r = await addBatch(
      ds,
      values.map((v) => ({ input: v, groundTruth: v })),
    );
    expect(r.body.items.map((i: any) => i.input)).toEqual(values);
    const listed = await itemsAt(ds);
    expect(listed.map((i) => i.input)).toEqual(expect.arrayContaining(values));
    for (const item of r.body.items) {
      const got = await req('GET', `/datasets/${ds}/items/${item.id}`);
      expect(got.body.input).toEqual(item.input);
      expect(got.body.groundTruth).toEqual(item.groundTruth);
    }
  });

  it('POST /items/batch takes 1,000 items in one request as one version', async () => {
    const ds = await newDataset('big');
    const items = Array.from({ length: 1000 }, (_, n) => ({
      input: { n, text: `question ${n}` },
      groundTruth: `answer ${n}`,
      externalId: `ext-${n}`,
      metadata: { bucket: n % 7 },
    }));
    const r = await req('POST', `/datasets/${ds}/items/batch`, { items });
    expect(r.status).toBe(201);
    expect(r.body.count).toBe(1000);
    expect(r.body.version).toBe(1);
    expect(r.body.items).toHaveLength(1000);
    expect(new Set(r.body.items.map((i: any) => i.id)).size).toBe(1000);
    expect(r.body.items.every((i: any) => i.version === 1 && i.datasetId === ds)).toBe(true);
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 1000 });

    const all = await itemsAt(ds);
    expect(all).toHaveLength(1000);
    expect(new Set(all.map((i) => i.input.n))).toEqual(new Set(items.map((i) => i.input.n)));

    const p0 = await req('GET', `/datasets/${ds}/items?page=0&perPage=400`);
    const p1 = await req('GET', `/datasets/${ds}/items?page=1&perPage=400`);
    const p2 = await req('GET', `/datasets/${ds}/items?page=2&perPage=400`);
    expect(p0.body.pagination).toEqual({ total: 1000, page: 0, perPage: 400, hasMore: true });
    expect(p1.body.pagination).toEqual({ total: 1000, page: 1, perPage: 400, hasMore: true });
    expect(p2.body.pagination).toEqual({ total: 1000, page: 2, perPage: 400, hasMore: false });
    expect(p2.body.items).toHaveLength(200);
    expect(p0.body.version).toBe(1);
    const ids = [...p0.body.items, ...p1.body.items, ...p2.body.items].map((i: any) => i.id);
    expect(new Set(ids).size).toBe(1000);

    // Second batch of 1,000: exactly one more version.
    const more = await req('POST', `/datasets/${ds}/items/batch`, {
      items: Array.from({ length: 1000 }, (_, n) => ({ input: n })),
    });
    expect(more.body).toMatchObject({ count: 1000, version: 2 });
    expect(await getDataset(ds)).toMatchObject({ version: 2, itemCount: 2000 });

    // Batch delete of 500 ids: one version, count 500.
    const del = await req('DELETE', `/datasets/${ds}/items/batch`, {
      itemIds: r.body.items.slice(0, 500).map((i: any) => i.id),
    });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ version: 3, count: 500 });
    expect(await getDataset(ds)).toMatchObject({ version: 3, itemCount: 1500 });
    expectError(await req('GET', `/datasets/${ds}/items/${r.body.items[0].id}`), 404, 'NOT_FOUND');
    expect((await req('GET', `/datasets/${ds}/items/${r.body.items[500].id}`)).status).toBe(200);
  });

  it('DELETE /items/batch: duplicates count once; an unknown id is a 404 and nothing changes', async () => {
    const ds = await datasetWith([{ input: 'a' }, { input: 'b' }, { input: 'c' }]);
    const [a, b, c] = await itemsAt(ds);
    const bad = await req('DELETE', `/datasets/${ds}/items/batch`, { itemIds: [a.id, 'item_missing'] });
    expectError(bad, 404, 'NOT_FOUND');
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 3 });
    expect(await itemsAt(ds)).toHaveLength(3);
    const ok = await req('DELETE', `/datasets/${ds}/items/batch`, { itemIds: [a.id, b.id, a.id] });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ version: 2, count: 2 });
    expect((await itemsAt(ds)).map((i) => i.id)).toEqual([c.id]);
    // Deleting an already deleted item is a 404, not a silent new version.
    expectError(await req('DELETE', `/datasets/${ds}/items/batch`, { itemIds: [a.id] }), 404, 'NOT_FOUND');
    expect(await getDataset(ds)).toMatchObject({ version: 2, itemCount: 1 });
  });

  it('GET /versions lists every mutation batch, newest first, with its counts', async () => {
    const ds = await newDataset('versions');
    const empty = await req('GET', `/datasets/${ds}/versions`);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ versions: [], pagination: { total: 0, page: 0, perPage: 50, hasMore: false } });
    const batch = await addBatch(ds, [{ input: 1 }, { input: 2 }, { input: 3 }]);
    const ids = batch.body.items.map((i: any) => i.id);
    await req('POST', `/datasets/${ds}/items`, { input: 4 });
    await req('PATCH', `/datasets/${ds}/items/${ids[0]}`, { input: 10 });
    await req('DELETE', `/datasets/${ds}/items/batch`, { itemIds: [ids[1], ids[2]] });
    const r = await req('GET', `/datasets/${ds}/versions`);
    expect(r.status).toBe(200);
    expect(r.body.pagination).toEqual({ total: 4, page: 0, perPage: 50, hasMore: false });
    expect(r.body.versions.map((v: any) => [v.version, v.added, v.updated, v.deleted])).toEqual([
      [4, 0, 0, 2],
      [3, 0, 1, 0],
      [2, 1, 0, 0],
      [1, 3, 0, 0],
    ]);
    for (const v of r.body.versions) {
      expect(v).toEqual({
        datasetId: ds,
        version: expect.any(Number),
        added: expect.any(Number),
        updated: expect.any(Number),
        deleted: expect.any(Number),
        createdAt: expect.stringMatching(ISO),
      });
    }
    const paged = await req('GET', `/datasets/${ds}/versions?page=1&perPage=3`);
    expect(paged.body.versions.map((v: any) => v.version)).toEqual([1]);
    expect(paged.body.pagination).toEqual({ total: 4, page: 1, perPage: 3, hasMore: false });
    // PATCH of the dataset itself is not an item mutation: no new version.
    await req('PATCH', `/datasets/${ds}`, { name: 'renamed' });
    expect((await req('GET', `/datasets/${ds}/versions`)).body.pagination.total).toBe(4);
  });

  it('GET /items?version=N returns exactly the items valid at N after updates and deletes', async () => {
    const ds = await newDataset('time travel');
    const v1 = await addBatch(ds, [
      { input: 'a1', externalId: 'A' },
      { input: 'b1', externalId: 'B' },
      { input: 'c1', externalId: 'C' },
    ]);
    const [a, b, c] = v1.body.items.map((i: any) => i.id);
    const d = (await req('POST', `/datasets/${ds}/items`, { input: 'd1', externalId: 'D' })).body.id; // v2
    await req('PATCH', `/datasets/${ds}/items/${a}`, { input: 'a2' }); // v3
    await req('DELETE', `/datasets/${ds}/items/${b}`); // v4
    await req('PATCH', `/datasets/${ds}/items/${a}`, { input: 'a3', groundTruth: 'g' }); // v5
    await req('DELETE', `/datasets/${ds}/items/batch`, { itemIds: [c, d] }); // v6
    expect(await getDataset(ds)).toMatchObject({ version: 6, itemCount: 1 });

    const inputsAt = async (v?: number) =>
      Object.fromEntries((await itemsAt(ds, v)).map((i) => [i.externalId, i.input]));
    expect(await inputsAt(0)).toEqual({});
    expect(await inputsAt(1)).toEqual({ A: 'a1', B: 'b1', C: 'c1' });
    expect(await inputsAt(2)).toEqual({ A: 'a1', B: 'b1', C: 'c1', D: 'd1' });
    expect(await inputsAt(3)).toEqual({ A: 'a2', B: 'b1', C: 'c1', D: 'd1' });
    expect(await inputsAt(4)).toEqual({ A: 'a2', C: 'c1', D: 'd1' });
    expect(await inputsAt(5)).toEqual({ A: 'a3', C: 'c1', D: 'd1' });
    expect(await inputsAt(6)).toEqual({ A: 'a3' });
    expect(await inputsAt()).toEqual({ A: 'a3' });

    const listed = await req('GET', `/datasets/${ds}/items?version=3&perPage=2`);
    expect(listed.body.version).toBe(3);
    expect(listed.body.pagination).toEqual({ total: 4, page: 0, perPage: 2, hasMore: true });
    const latest = await req('GET', `/datasets/${ds}/items`);
    expect(latest.body.version).toBe(6);

    // One item at a version: the revision valid then; the revision's own version is reported.
    const aAt1 = await req('GET', `/datasets/${ds}/items/${a}?version=1`);
    expect(aAt1.body).toMatchObject({ id: a, input: 'a1', groundTruth: null, version: 1 });
    const aAt4 = await req('GET', `/datasets/${ds}/items/${a}?version=4`);
    expect(aAt4.body).toMatchObject({ id: a, input: 'a2', version: 3 });
    expect((await req('GET', `/datasets/${ds}/items/${a}`)).body).toMatchObject({ input: 'a3', version: 5 });
    expect((await req('GET', `/datasets/${ds}/items/${b}?version=3`)).body).toMatchObject({ input: 'b1' });
    expectError(await req('GET', `/datasets/${ds}/items/${b}?version=4`), 404, 'NOT_FOUND');
    expectError(await req('GET', `/datasets/${ds}/items/${d}?version=1`), 404, 'NOT_FOUND');
  });

  it('version beyond the latest is a 400 UNKNOWN_VERSION, for the list and for one item', async () => {
    const ds = await datasetWith([{ input: 1 }]);
    const [item] = await itemsAt(ds);
    expectError(await req('GET', `/datasets/${ds}/items?version=2`), 400, 'UNKNOWN_VERSION');
    expectError(await req('GET', `/datasets/${ds}/items?version=999999`), 400, 'UNKNOWN_VERSION');
    expectError(await req('GET', `/datasets/${ds}/items/${item.id}?version=2`), 400, 'UNKNOWN_VERSION');
  });

  it('search matches input, ground truth and externalId, case-insensitively, with LIKE wildcards escaped', async () => {
    const ds = await newDataset('search');
    await addBatch(ds, [
      { input: { question: 'What is the Capital of France?' }, groundTruth: 'Paris', externalId: 'geo-1' },
      { input: 'weather in Oslo', groundTruth: 'cold', externalId: 'wx-1' },
      { input: '100% sure', groundTruth: 'yes' },
      { input: 'snake_case_name', groundTruth: 'ok' },
      { input: 'plain', groundTruth: 'nothing here' },
    ]);
    const search = async (s: string, extra = '') => {
      const r = await req('GET', `/datasets/${ds}/items?search=${encodeURIComponent(s)}${extra}`);
      expect(r.status, r.text).toBe(200);
      return r.body;
    };
    const inputs = async (s: string) => (await search(s)).items.map((i: any) => i.input);
    expect(await inputs('capital')).toEqual([{ question: 'What is the Capital of France?' }]);
    expect(await inputs('PARIS')).toEqual([{ question: 'What is the Capital of France?' }]);
    expect(await inputs('wx-1')).toEqual(['weather in Oslo']);
    expect(await inputs('100%')).toEqual(['100% sure']);
    expect(await inputs('%')).toEqual(['100% sure']);
    expect(await inputs('e_c')).toEqual(['snake_case_name']);
    expect(await inputs('_')).toEqual(['snake_case_name']);
    expect(await inputs('no such text')).toEqual([]);
    const paged = await search('e', '&perPage=2');
    expect(paged.pagination).toMatchObject({ perPage: 2, hasMore: true });
    expect(paged.pagination.total).toBeGreaterThan(2);
  });

  it('search finds text containing quotes, backslashes and newlines (not only their JSON escapes)', async () => {
    const ds = await datasetWith([
      { input: 'she said "hi" twice' },
      { input: 'C:\\temp\\file' },
      { input: 'line one\nline two' },
      { input: 'unrelated' },
    ]);
    const inputs = async (s: string) =>
      (await req('GET', `/datasets/${ds}/items?search=${encodeURIComponent(s)}`)).body.items.map((i: any) => i.input);
    expect(await inputs('"hi"')).toEqual(['she said "hi" twice']);
    expect(await inputs('C:\\temp')).toEqual(['C:\\temp\\file']);
    expect(await inputs('one\nline')).toEqual(['line one\nline two']);
    // ...and JSON syntax is not content: a quote matches only the item that contains one.
    expect(await inputs('"')).toEqual(['she said "hi" twice']);
  });

  it('search for a NUL character does not match every item', async () => {
    const ds = await datasetWith([{ input: 'hello' }, { input: 'world' }]);
    const r = await req('GET', `/datasets/${ds}/items?search=%00`);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([]);
  });

  it('search is combined with version', async () => {
    const ds = await datasetWith([{ input: 'alpha' }, { input: 'beta' }]);
    const [alpha] = await itemsAt(ds);
    await req('PATCH', `/datasets/${ds}/items/${alpha.id}`, { input: 'gamma' });
    const at1 = await req('GET', `/datasets/${ds}/items?version=1&search=alpha`);
    expect(at1.body.items.map((i: any) => i.input)).toEqual(['alpha']);
    const at2 = await req('GET', `/datasets/${ds}/items?version=2&search=alpha`);
    expect(at2.body.items).toEqual([]);
  });
});

describe('externalId is unique per dataset', () => {
  it('409 on reuse, 400 on duplicates within a batch, and a failed mutation changes nothing', async () => {
    const ds = await newDataset('ext');
    const first = await req('POST', `/datasets/${ds}/items`, { input: 1, externalId: 'same' });
    expect(first.status).toBe(201);

    const again = await req('POST', `/datasets/${ds}/items`, { input: 2, externalId: 'same' });
    expectError(again, 409, 'CONFLICT');
    expect(again.body.error.details).toEqual({ externalIds: ['same'] });

    const inBatch = await req('POST', `/datasets/${ds}/items/batch`, {
      items: [{ input: 3, externalId: 'x' }, { input: 4, externalId: 'x' }, { input: 5 }],
    });
    expectError(inBatch, 400, 'VALIDATION_ERROR');
    expect(inBatch.body.error.details).toMatchObject({ duplicates: ['x'] });

    const batchReuse = await req('POST', `/datasets/${ds}/items/batch`, {
      items: [
        { input: 6, externalId: 'fresh' },
        { input: 7, externalId: 'same' },
      ],
    });
    expectError(batchReuse, 409, 'CONFLICT');

    // None of the failed requests added an item or a version.
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 1 });
    expect((await req('GET', `/datasets/${ds}/items?search=fresh`)).body.items).toEqual([]);

    // Items without externalId never collide.
    const nulls = await req('POST', `/datasets/${ds}/items/batch`, {
      items: [{ input: 8 }, { input: 9, externalId: null }, { input: 10 }],
    });
    expect(nulls.status).toBe(201);

    // Updating another item onto a used externalId is a 409; keeping its own is fine.
    const other = (await req('POST', `/datasets/${ds}/items`, { input: 11, externalId: 'other' })).body;
    expectError(await req('PATCH', `/datasets/${ds}/items/${other.id}`, { externalId: 'same' }), 409, 'CONFLICT');
    const keep = await req('PATCH', `/datasets/${ds}/items/${other.id}`, { externalId: 'other', input: 12 });
    expect(keep.status).toBe(200);
    expect(keep.body).toMatchObject({ externalId: 'other', input: 12 });

    // Once its item is deleted, an externalId is free again.
    await req('DELETE', `/datasets/${ds}/items/${first.body.id}`);
    const reused = await req('POST', `/datasets/${ds}/items`, { input: 13, externalId: 'same' });
    expect(reused.status).toBe(201);
    expect(reused.body.id).not.toBe(first.body.id);

    // Another dataset has its own namespace.
    const ds2 = await newDataset('ext2');
    expect((await req('POST', `/datasets/${ds2}/items`, { input: 1, externalId: 'same' })).status).toBe(201);
  });
});

// ── runs ───────────────────────────────────────────────────────────────────

const RUN_KEYS = [
  'id',
  'status',
  'totalItems',
  'succeededCount',
  'failedCount',
  'skippedCount',
  'startedAt',
  'completedAt',
  'summary',
  'error',
];

describe('runs', () => {
  it('trigger → 202 pending at once (target not yet called); GET run has the documented shape', async () => {
    gate = deferred();
    gatedCalls = 0;
    const ds = await datasetWith(
      Array.from({ length: 6 }, (_, n) => ({ input: n, groundTruth: n })),
      'gated',
    );
    const r = await req('POST', `/datasets/${ds}/runs`, {
      targetId: 'gated',
      scorerIds: ['exact-match'],
      maxConcurrency: 2,
      name: 'first',
      metadata: { commit: 'abc' },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      runId: expect.stringMatching(/^run_/),
      status: 'pending',
      totalItems: 6,
      datasetVersion: 1,
      succeededCount: 0,
      failedCount: 0,
      skippedCount: 0,
      startedAt: null,
      completedAt: null,
      summary: null,
      error: null,
    });
    expect(r.body.id).toBe(r.body.runId);
    const runId = r.body.runId;
    const run = await getRun(ds, runId);
    for (const k of RUN_KEYS) expect(run).toHaveProperty(k);
    expect(run).not.toHaveProperty('plannedAt');
    expect(run).toMatchObject({
      id: runId,
      datasetId: ds,
      datasetVersion: 1,
      targetId: 'gated',
      targetType: 'function',
      scorerIds: ['exact-match'],
      name: 'first',
      metadata: { commit: 'abc' },
      options: expect.objectContaining({ maxConcurrency: 2 }),
    });
    expect(['pending', 'running']).toContain(run.status);

    const running = await waitFor(
      () => getRun(ds, runId),
      (x) => x.status === 'running' && gatedCalls === 2,
    );
    expect(running.startedAt).toMatch(ISO);
    expect(running.completedAt).toBeNull();
    gate.resolve();
    const done = await waitRun(ds, runId);
    expect(done).toMatchObject({
      status: 'completed',
      totalItems: 6,
      succeededCount: 6,
      failedCount: 0,
      skippedCount: 0,
      error: null,
    });
    expect(done.completedAt).toMatch(ISO);
    expect(done.completedAt >= done.startedAt).toBe(true);
    expect(gatedCalls).toBe(6);
  });

  it('results carry scores inline; summary has per-scorer mean/passRate/count/errors and latency p50/p95', async () => {
    const ds = await datasetWith(
      Array.from({ length: 10 }, (_, n) => ({ input: n, groundTruth: n < 7 ? n : n + 100, metadata: { n } })),
      'scored',
    );
    const runId = await trigger(ds, {
      targetId: 'echo',
      targetType: 'function',
      scorerIds: ['exact-match', 'contains', 'half', 'throws-on-2', 'out-of-range'],
    });
    const run = await waitRun(ds, runId);
    expect(run).toMatchObject({ status: 'completed', totalItems: 10, succeededCount: 10, failedCount: 0 });
    const s = run.summary;
    expect(s).toMatchObject({ total: 10, succeeded: 10, failed: 0, skipped: 0, cancelled: 0 });
    const byId = Object.fromEntries(s.scorers.map((x: any) => [x.scorerId, x]));
    expect(Object.keys(byId).sort()).toEqual(['contains', 'exact-match', 'half', 'out-of-range', 'throws-on-2']);
    expect(byId['exact-match']).toEqual({
      scorerId: 'exact-match',
      mean: 0.7,
      median: 1,
      passRate: 0.7,
      count: 10,
      errors: 0,
    });
    expect(byId.contains).toMatchObject({ mean: 0.7, passRate: 0.7, count: 10, errors: 0 });
    expect(byId.half).toMatchObject({ mean: 0.5, passRate: 1, count: 10, errors: 0 });
    expect(byId['throws-on-2']).toMatchObject({ mean: 1, passRate: 1, count: 9, errors: 1 });
    expect(byId['out-of-range']).toMatchObject({ mean: null, passRate: null, count: 0, errors: 10 });
    expect(s.latencyMs.p50).toBeTypeOf('number');
    expect(s.latencyMs.p95).toBeTypeOf('number');
    expect(s.latencyMs.p50).toBeGreaterThanOrEqual(0);
    expect(s.latencyMs.p95).toBeGreaterThanOrEqual(s.latencyMs.p50);

    const results = await allResults(ds, runId);
    expect(results).toHaveLength(10);
    const two = results.find((x) => x.input === 2);
    expect(two).toMatchObject({
      itemId: expect.stringMatching(/^item_/),
      repetition: 0,
      status: 'succeeded',
      input: 2,
      groundTruth: 2,
      metadata: { n: 2 },
      output: 2,
      error: null,
      latencyMs: expect.any(Number),
    });
    const scores = Object.fromEntries(two.scores.map((x: any) => [x.scorerId, x]));
    expect(scores['exact-match']).toEqual({ scorerId: 'exact-match', score: 1, reason: null, error: null });
    expect(scores.contains).toEqual({
      scorerId: 'contains',
      score: 1,
      reason: expect.any(String),
      error: null,
    });
    expect(scores.half).toEqual({ scorerId: 'half', score: 0.5, reason: 'half', error: null });
    expect(scores['throws-on-2']).toEqual({
      scorerId: 'throws-on-2',
      score: null,
      reason: null,
      error: 'cannot score 2',
    });
    expect(scores['out-of-range']).toMatchObject({ score: null, error: expect.stringContaining('[0, 1]') });
    const eight = results.find((x) => x.input === 8);
    expect(eight.scores.find((x: any) => x.scorerId === 'exact-match').score).toBe(0);
    for (const res of results) expect(res.scores).toHaveLength(5);

    // Pages of results.
    const p = await req('GET', `/datasets/${ds}/runs/${runId}/results?page=1&perPage=4`);
    expect(p.status).toBe(200);
    expect(p.body.pagination).toEqual({ total: 10, page: 1, perPage: 4, hasMore: true });
    expect(p.body.results).toHaveLength(4);
    const last = await req('GET', `/datasets/${ds}/runs/${runId}/results?page=2&perPage=4`);
    expect(last.body.pagination).toEqual({ total: 10, page: 2, perPage: 4, hasMore: false });
    expect(last.body.results).toHaveLength(2);
    const walked: any[] = [];
    for (let page = 0; page < 3; page++) {
      walked.push(...(await req('GET', `/datasets/${ds}/runs/${runId}/results?page=${page}&perPage=4`)).body.results);
    }
    expect(new Set(walked.map((x) => x.itemId)).size).toBe(10);
  });

  it('a throwing target fails its item only; results filter by status', async () => {
    const ds = await datasetWith(
      Array.from({ length: 9 }, (_, n) => ({ input: n, groundTruth: n })),
      'flaky',
    );
    const runId = await trigger(ds, { targetId: 'flaky', scorerIds: ['exact-match'], maxRetries: 0 });
    const run = await waitRun(ds, runId);
    expect(run).toMatchObject({ status: 'completed', succeededCount: 6, failedCount: 3, skippedCount: 0, error: null });
    expect(run.summary.scorers).toEqual([
      { scorerId: 'exact-match', mean: 1, median: 1, passRate: 1, count: 6, errors: 0 },
    ]);
    const failed = await req('GET', `/datasets/${ds}/runs/${runId}/results?status=failed`);
    expect(failed.status).toBe(200);
    expect(failed.body.pagination.total).toBe(3);
    expect(failed.body.results.map((x: any) => x.input).sort()).toEqual([0, 3, 6]);
    for (const x of failed.body.results) {
      expect(x).toMatchObject({
        status: 'failed',
        output: null,
        scores: [],
        error: { message: `boom ${x.input}`, code: expect.any(String), retryable: false },
      });
    }
    const ok = await req('GET', `/datasets/${ds}/runs/${runId}/results?status=succeeded&perPage=2`);
    expect(ok.body.pagination).toEqual({ total: 6, page: 0, perPage: 2, hasMore: true });
    expect(ok.body.results.every((x: any) => x.status === 'succeeded')).toBe(true);
    const none = await req('GET', `/datasets/${ds}/runs/${runId}/results?status=queued`);
    expect(none.body).toEqual({ results: [], pagination: { total: 0, page: 0, perPage: 50, hasMore: false } });
  });

  it('a run where every item fails ends failed with a clear error', async () => {
    const ds = await datasetWith([{ input: 1 }, { input: 2 }, { input: 3 }], 'doomed');
    const runId = await trigger(ds, { targetId: 'always-fails', maxRetries: 0 });
    const run = await waitRun(ds, runId);
    expect(run.status).toBe('failed');
    expect(run.failedCount).toBe(3);
    expect(run.error).toEqual(expect.stringContaining('3'));
    expect(run.error).toEqual(expect.stringContaining('nope'));
    expect(run.completedAt).toMatch(ISO);
  });

  it('a target that exceeds itemTimeoutMs fails its item with a TIMEOUT error', async () => {
    const ds = await datasetWith([{ input: 1 }], 'slow');
    const runId = await trigger(ds, { targetId: 'hang', itemTimeoutMs: 30, maxRetries: 0 });
    const run = await waitRun(ds, runId);
    expect(run.status).toBe('failed');
    const [res] = await allResults(ds, runId);
    expect(res).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT', retryable: true } });
  });

  it('agent and workflow targets; repetitions multiply totalItems', async () => {
    const ds = await datasetWith([{ input: 'abc', groundTruth: 'ABC' }, { input: 'x' }], 'types');
    const a = await req('POST', `/datasets/${ds}/runs`, {
      targetId: 'shout',
      targetType: 'agent',
      scorerIds: ['exact-match'],
      repetitions: 3,
    });
    expect(a.status).toBe(202);
    expect(a.body.totalItems).toBe(6);
    const aRun = await waitRun(ds, a.body.runId);
    expect(aRun).toMatchObject({ status: 'completed', totalItems: 6, succeededCount: 6 });
    const aRes = await allResults(ds, a.body.runId);
    expect(aRes).toHaveLength(6);
    expect(aRes.map((x) => x.repetition).sort()).toEqual([0, 0, 1, 1, 2, 2]);
    expect(aRes.filter((x) => x.input === 'abc').every((x) => x.output === 'ABC')).toBe(true);
    const w = await trigger(ds, { targetId: 'flow', targetType: 'workflow' });
    const wRes = await allResults(ds, (await waitRun(ds, w)).id);
    expect(wRes.map((x) => x.output)).toEqual(expect.arrayContaining([{ wrapped: 'abc' }, { wrapped: 'x' }]));
  });

  it('a run is pinned to its version: later edits never change what it ran; an older version can be run', async () => {
    gate = deferred();
    const ds = await datasetWith([{ input: 'v1-a' }, { input: 'v1-b' }, { input: 'v1-c' }], 'pinned');
    const [a, b] = await itemsAt(ds);
    const runId = await trigger(ds, { targetId: 'gated', maxConcurrency: 1 });
    await waitFor(
      () => getRun(ds, runId),
      (r) => r.status === 'running',
    );
    await req('PATCH', `/datasets/${ds}/items/${a.id}`, { input: 'v2-a' });
    await req('DELETE', `/datasets/${ds}/items/${b.id}`);
    await req('POST', `/datasets/${ds}/items`, { input: 'v4-d' });
    gate.resolve();
    const run = await waitRun(ds, runId);
    expect(run).toMatchObject({ status: 'completed', datasetVersion: 1, totalItems: 3, succeededCount: 3 });
    const outputs = (await allResults(ds, runId)).map((x) => x.output).sort();
    expect(outputs).toEqual(['v1-a', 'v1-b', 'v1-c']);

    const old = await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', version: 1 });
    expect(old.status).toBe(202);
    expect(old.body).toMatchObject({ datasetVersion: 1, totalItems: 3 });
    expect((await allResults(ds, (await waitRun(ds, old.body.runId)).id)).map((x) => x.output).sort()).toEqual([
      'v1-a',
      'v1-b',
      'v1-c',
    ]);
    const latest = await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo' });
    expect(latest.body).toMatchObject({ datasetVersion: 4, totalItems: 3 });
    expect((await allResults(ds, (await waitRun(ds, latest.body.runId)).id)).map((x) => x.output).sort()).toEqual([
      'v1-c',
      'v2-a',
      'v4-d',
    ]);
  });

  it('GET /datasets/:id/runs lists runs newest first, paginated', async () => {
    const ds = await datasetWith([{ input: 1 }], 'listing');
    const empty = await req('GET', `/datasets/${ds}/runs`);
    expect(empty.body).toEqual({ runs: [], pagination: { total: 0, page: 0, perPage: 50, hasMore: false } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await trigger(ds, { targetId: 'echo', name: `run ${i}` }));
    for (const id of ids) await waitRun(ds, id);
    const all = await req('GET', `/datasets/${ds}/runs`);
    expect(all.status).toBe(200);
    expect(all.body.runs.map((r: any) => r.id)).toEqual([...ids].reverse());
    expect(all.body.runs.map((r: any) => r.name)).toEqual(['run 2', 'run 1', 'run 0']);
    for (const r of all.body.runs) {
      for (const k of RUN_KEYS) expect(r).toHaveProperty(k);
      expect(r).not.toHaveProperty('plannedAt');
    }
    const createdAt = all.body.runs.map((r: any) => r.createdAt);
    expect([...createdAt].sort().reverse()).toEqual(createdAt);
    const p0 = await req('GET', `/datasets/${ds}/runs?perPage=2`);
    expect(p0.body.pagination).toEqual({ total: 3, page: 0, perPage: 2, hasMore: true });
    expect(p0.body.runs.map((r: any) => r.id)).toEqual([ids[2], ids[1]]);
    const p1 = await req('GET', `/datasets/${ds}/runs?page=1&perPage=2`);
    expect(p1.body.pagination).toEqual({ total: 3, page: 1, perPage: 2, hasMore: false });
    expect(p1.body.runs.map((r: any) => r.id)).toEqual([ids[0]]);
    // Runs of another dataset never show up here.
    const other = await datasetWith([{ input: 1 }], 'other');
    await waitRun(other, await trigger(other, { targetId: 'echo' }));
    expect((await req('GET', `/datasets/${ds}/runs`)).body.pagination.total).toBe(3);
  });

  it('Idempotency-Key: same key and body → same run; other body → 409; bad key → 400', async () => {
    const ds = await datasetWith([{ input: 1 }], 'idem');
    const body = { targetId: 'echo', scorerIds: ['half'] };
    const a = await req('POST', `/datasets/${ds}/runs`, body, { headers: { 'idempotency-key': 'k-1' } });
    const b = await req('POST', `/datasets/${ds}/runs`, body, { headers: { 'idempotency-key': 'k-1' } });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.runId).toBe(a.body.runId);
    const c = await req(
      'POST',
      `/datasets/${ds}/runs`,
      { targetId: 'shout' },
      { headers: { 'idempotency-key': 'k-1' } },
    );
    expectError(c, 409, 'IDEMPOTENCY_KEY_REUSED');
    expectError(
      await req('POST', `/datasets/${ds}/runs`, body, { headers: { 'idempotency-key': 'k'.repeat(256) } }),
      400,
      'VALIDATION_ERROR',
    );
    await waitRun(ds, a.body.runId);
    expect((await req('GET', `/datasets/${ds}/runs`)).body.pagination.total).toBe(1);
  });

  it('SSE events of a finished run: the current state, then the stream ends', async () => {
    const ds = await datasetWith([{ input: 1 }], 'sse');
    const runId = await trigger(ds, { targetId: 'echo' });
    await waitRun(ds, runId);
    const res = await assay.app.request(`/api/datasets/${ds}/runs/${runId}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toContain('event: run');
    const data = text.split('\n').find((l) => l.startsWith('data: '));
    expect(JSON.parse(data!.slice(6))).toMatchObject({ id: runId, status: 'completed' });
  });

  it('deleting a dataset with an active run is a 409; once the run ends it can be deleted', async () => {
    gate = deferred();
    const ds = await datasetWith([{ input: 1 }, { input: 2 }], 'busy');
    const runId = await trigger(ds, { targetId: 'gated' });
    const del = await req('DELETE', `/datasets/${ds}`);
    expectError(del, 409, 'CONFLICT');
    expect((await req('GET', `/datasets/${ds}`)).status).toBe(200);
    expect(['pending', 'running']).toContain((await getRun(ds, runId)).status);
    await waitFor(
      () => getRun(ds, runId),
      (r) => r.status === 'running',
    );
    expectError(await req('DELETE', `/datasets/${ds}`), 409, 'CONFLICT');
    gate.resolve();
    await waitRun(ds, runId);
    const ok = await req('DELETE', `/datasets/${ds}`);
    expect(ok.status).toBe(200);
    expectError(await req('GET', `/datasets/${ds}/runs/${runId}`), 404, 'NOT_FOUND');
  });
});

// ── every 4xx ──────────────────────────────────────────────────────────────

describe('client errors', () => {
  let ds: string; // one item, one finished run
  let itemId: string;
  let runId: string;
  let otherDs: string;
  let otherRunId: string;

  beforeAll(async () => {
    ds = await datasetWith([{ input: 1, groundTruth: 1, externalId: 'e1' }], 'errors');
    itemId = (await itemsAt(ds))[0].id;
    runId = await trigger(ds, { targetId: 'echo' });
    await waitRun(ds, runId);
    otherDs = await datasetWith([{ input: 2 }], 'errors-other');
    otherRunId = await trigger(otherDs, { targetId: 'echo' });
    await waitRun(otherDs, otherRunId);
  });

  it('malformed JSON is a 400 INVALID_JSON on every endpoint with a body', async () => {
    const bad = ['{', '{"name":', "{'name':'x'}", '{"name":"x",}', 'undefined', 'NaN', '[1,]', '{"a":1}}', 'nul'];
    const endpoints: [string, string][] = [
      ['POST', '/datasets'],
      ['PATCH', `/datasets/${ds}`],
      ['POST', `/datasets/${ds}/items`],
      ['POST', `/datasets/${ds}/items/batch`],
      ['DELETE', `/datasets/${ds}/items/batch`],
      ['PATCH', `/datasets/${ds}/items/${itemId}`],
      ['POST', `/datasets/${ds}/runs`],
    ];
    for (const [method, path] of endpoints) {
      for (const raw of bad) {
        expectError(await req(method, path, undefined, { raw }), 400, 'INVALID_JSON');
      }
    }
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 1, name: 'errors' });
  });

  it('dataset schema violations are 400 VALIDATION_ERROR with details.issues', async () => {
    const bodies: unknown[] = [
      {},
      { name: '' },
      { name: '   ' },
      { name: 123 },
      { name: null },
      { name: ['a'] },
      { name: 'x'.repeat(201) },
      { name: 'ok', description: 5 },
      { name: 'ok', description: 'd'.repeat(10_001) },
      { name: 'ok', metadata: [] },
      { name: 'ok', metadata: 'm' },
      { name: 'ok', metadata: 1 },
      { name: 'ok', inputSchema: 'object' },
      { name: 'ok', groundTruthSchema: [1] },
      { name: 'ok', unknownField: 1 },
      { name: 'ok', id: 'ds_mine' },
      { name: 'ok', version: 5 },
      [],
      [{ name: 'ok' }],
      null,
      'name',
      42,
      true,
    ];
    for (const body of bodies) {
      const r = await req('POST', '/datasets', undefined, { raw: JSON.stringify(body) });
      expectError(r, 400, 'VALIDATION_ERROR');
      expect(r.body.error.details.issues.length, JSON.stringify(body)).toBeGreaterThan(0);
      expect(r.body.error.details.issues[0]).toEqual({ path: expect.any(String), message: expect.any(String) });
    }
    for (const body of [{ name: '' }, { name: 5 }, { version: 3 }, { itemCount: 0 }, { description: [] }, []]) {
      expectError(await req('PATCH', `/datasets/${ds}`, body), 400, 'VALIDATION_ERROR');
    }
    expect(await getDataset(ds)).toMatchObject({ name: 'errors', version: 1 });
  });

  it('item schema violations are 400 and change nothing', async () => {
    const itemBodies: unknown[] = [
      {},
      { groundTruth: 1 },
      { input: 1, metadata: [] },
      { input: 1, metadata: 'm' },
      { input: 1, externalId: '' },
      { input: 1, externalId: 5 },
      { input: 1, externalId: 'x'.repeat(501) },
      { input: 1, extra: true },
      [],
      null,
      'input',
    ];
    for (const body of itemBodies) {
      expectError(await req('POST', `/datasets/${ds}/items`, body), 400, 'VALIDATION_ERROR');
      expectError(await req('POST', `/datasets/${ds}/items/batch`, { items: [body] }), 400, 'VALIDATION_ERROR');
    }
    const batchBodies: unknown[] = [
      {},
      { items: [] },
      { items: {} },
      { items: 'x' },
      { items: null },
      { items: [{ input: 1 }], extra: 1 },
      { items: Array.from({ length: 10_001 }, () => ({ input: 0 })) },
    ];
    for (const body of batchBodies) {
      expectError(await req('POST', `/datasets/${ds}/items/batch`, body), 400, 'VALIDATION_ERROR');
    }
    const deleteBodies: unknown[] = [
      {},
      { itemIds: [] },
      { itemIds: [''] },
      { itemIds: [1] },
      { itemIds: itemId },
      { itemIds: [itemId], extra: 1 },
      { ids: [itemId] },
    ];
    for (const body of deleteBodies) {
      expectError(await req('DELETE', `/datasets/${ds}/items/batch`, body), 400, 'VALIDATION_ERROR');
    }
    const patchBodies: unknown[] = [{}, { metadata: [] }, { externalId: '' }, { externalId: 3 }, { id: 'x' }, []];
    for (const body of patchBodies) {
      expectError(await req('PATCH', `/datasets/${ds}/items/${itemId}`, body), 400, 'VALIDATION_ERROR');
    }
    // An empty body is `{}`: missing fields, not malformed JSON.
    expectError(await req('POST', `/datasets/${ds}/items`, undefined, { raw: '' }), 400, 'VALIDATION_ERROR');
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 1 });
  });

  it('trigger schema violations are 400 (wrong types, negative numbers, out of range, unknown fields)', async () => {
    const bodies: Record<string, unknown>[] = [
      {},
      { targetId: '' },
      { targetId: 5 },
      { targetId: null },
      { targetId: ['echo'] },
      { targetId: 'echo', targetType: 'robot' },
      { targetId: 'echo', targetType: 1 },
      { targetId: 'echo', scorerIds: 'exact-match' },
      { targetId: 'echo', scorerIds: [''] },
      { targetId: 'echo', scorerIds: [1] },
      { targetId: 'echo', scorerIds: Array.from({ length: 101 }, (_, i) => `s${i}`) },
      { targetId: 'echo', version: -1 },
      { targetId: 'echo', version: 1.5 },
      { targetId: 'echo', version: '1' },
      { targetId: 'echo', maxConcurrency: 0 },
      { targetId: 'echo', maxConcurrency: -5 },
      { targetId: 'echo', maxConcurrency: 2.5 },
      { targetId: 'echo', maxConcurrency: '10' },
      { targetId: 'echo', maxConcurrency: 1001 },
      { targetId: 'echo', maxConcurrency: 1e300 },
      { targetId: 'echo', itemTimeoutMs: 0 },
      { targetId: 'echo', itemTimeoutMs: -1 },
      { targetId: 'echo', itemTimeoutMs: 3_600_001 },
      { targetId: 'echo', maxRetries: -1 },
      { targetId: 'echo', maxRetries: 21 },
      { targetId: 'echo', repetitions: 0 },
      { targetId: 'echo', repetitions: 101 },
      { targetId: 'echo', maxConsecutiveFailures: -1 },
      { targetId: 'echo', name: 'n'.repeat(201) },
      { targetId: 'echo', name: 5 },
      { targetId: 'echo', metadata: [] },
      { targetId: 'echo', metadata: 'm' },
      { targetId: 'echo', unknown: true },
      { targetId: 'echo', datasetId: ds },
    ];
    for (const body of bodies) {
      const r = await req('POST', `/datasets/${ds}/runs`, body);
      expectError(r, 400, 'VALIDATION_ERROR');
    }
    for (const raw of ['[]', 'null', '"echo"', '7', '{"targetId":"echo","version":1e400}']) {
      expectError(await req('POST', `/datasets/${ds}/runs`, undefined, { raw }), 400, 'VALIDATION_ERROR');
    }
    expect((await req('GET', `/datasets/${ds}/runs`)).body.pagination.total).toBe(1);
  });

  it('trigger refuses an empty dataset, unknown target or scorer, type mismatch, unknown version (400)', async () => {
    const empty = await newDataset('empty');
    const e = await req('POST', `/datasets/${empty}/runs`, { targetId: 'echo' });
    expectError(e, 400, 'EMPTY_DATASET');

    // Items added then all deleted: still empty at the latest version.
    const emptied = await datasetWith([{ input: 1 }], 'emptied');
    const [only] = await itemsAt(emptied);
    await req('DELETE', `/datasets/${emptied}/items/${only.id}`);
    expectError(await req('POST', `/datasets/${emptied}/runs`, { targetId: 'echo' }), 400, 'EMPTY_DATASET');
    // ...but its version 1 had an item.
    expect((await req('POST', `/datasets/${emptied}/runs`, { targetId: 'echo', version: 1 })).status).toBe(202);
    expectError(await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', version: 0 }), 400, 'EMPTY_DATASET');

    const t = await req('POST', `/datasets/${ds}/runs`, { targetId: 'no-such-target' });
    expectError(t, 400, 'UNKNOWN_TARGET');
    expect(t.body.error.details.available).toEqual(expect.arrayContaining(['echo', 'shout']));

    const m = await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', targetType: 'agent' });
    expectError(m, 400, 'TARGET_TYPE_MISMATCH');
    expectError(
      await req('POST', `/datasets/${ds}/runs`, { targetId: 'shout', targetType: 'workflow' }),
      400,
      'TARGET_TYPE_MISMATCH',
    );

    const s = await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: ['exact-match', 'nope'] });
    expectError(s, 400, 'UNKNOWN_SCORER');
    expect(s.body.error.details.scorerIds).toEqual(['nope']);

    const v = await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', version: 2 });
    expectError(v, 400, 'UNKNOWN_VERSION');
    expectError(
      await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', version: Number.MAX_SAFE_INTEGER }),
      400,
      'UNKNOWN_VERSION',
    );
    // None of them created a run.
    expect((await req('GET', `/datasets/${ds}/runs`)).body.pagination.total).toBe(1);
    // A finished run can be neither cancelled nor retried when nothing failed (409).
    expectError(await req('POST', `/datasets/${ds}/runs/${runId}/cancel`), 409, 'CONFLICT');
    expectError(await req('POST', `/datasets/${ds}/runs/${runId}/retry`), 409, 'CONFLICT');
    expect(await getRun(ds, runId)).toMatchObject({ status: 'completed', succeededCount: 1 });
    expect((await req('GET', `/datasets/${empty}/runs`)).body.pagination.total).toBe(0);
  });

  it('bad query strings are 400 (page=-1, perPage=100000, non-numbers, unknown status)', async () => {
    const lists = [
      '/datasets',
      `/datasets/${ds}/items`,
      `/datasets/${ds}/versions`,
      `/datasets/${ds}/runs`,
      `/datasets/${ds}/runs/${runId}/results`,
    ];
    const badQueries = [
      'page=-1',
      'perPage=100000',
      'perPage=0',
      'perPage=-3',
      'page=abc',
      'perPage=ten',
      'page=1.5',
      'page=Infinity',
      'page=1e400',
      'page=NaN',
      'page=2000000',
    ];
    for (const path of lists) {
      for (const q of badQueries) expectError(await req('GET', `${path}?${q}`), 400, 'VALIDATION_ERROR');
    }
    for (const q of ['version=-1', 'version=abc', 'version=1.5', `search=${'s'.repeat(501)}`]) {
      expectError(await req('GET', `/datasets/${ds}/items?${q}`), 400, 'VALIDATION_ERROR');
    }
    expectError(await req('GET', `/datasets/${ds}/items/${itemId}?version=-1`), 400, 'VALIDATION_ERROR');
    for (const q of ['status=done', 'status=SUCCEEDED', 'status=']) {
      expectError(await req('GET', `/datasets/${ds}/runs/${runId}/results?${q}`), 400, 'VALIDATION_ERROR');
    }
    // The edges are fine.
    expect((await req('GET', '/datasets?page=0&perPage=1')).status).toBe(200);
    expect((await req('GET', '/datasets?page=1000000&perPage=1000')).status).toBe(200);
    expect((await req('GET', `/datasets/${ds}/items?version=0`)).body.items).toEqual([]);
    expect((await req('GET', `/datasets/${ds}/runs/${runId}/results?status=skipped`)).status).toBe(200);
  });

  it('unknown dataset, item, run and route are 404 NOT_FOUND', async () => {
    const nd = 'ds_does_not_exist';
    const cases: [string, string, unknown?][] = [
      ['GET', `/datasets/${nd}`],
      ['PATCH', `/datasets/${nd}`, { name: 'x' }],
      ['DELETE', `/datasets/${nd}`],
      ['GET', `/datasets/${nd}/versions`],
      ['GET', `/datasets/${nd}/items`],
      ['POST', `/datasets/${nd}/items`, { input: 1 }],
      ['POST', `/datasets/${nd}/items`, { input: 1, externalId: 'e1' }],
      ['POST', `/datasets/${nd}/items/batch`, { items: [{ input: 1 }] }],
      ['DELETE', `/datasets/${nd}/items/batch`, { itemIds: [itemId] }],
      ['GET', `/datasets/${nd}/items/${itemId}`],
      ['PATCH', `/datasets/${nd}/items/${itemId}`, { input: 1 }],
      ['DELETE', `/datasets/${nd}/items/${itemId}`],
      ['GET', `/datasets/${nd}/runs`],
      ['POST', `/datasets/${nd}/runs`, { targetId: 'echo' }],
      ['GET', `/datasets/${nd}/runs/${runId}`],
      ['GET', `/datasets/${nd}/runs/${runId}/results`],
      ['GET', `/datasets/${nd}/runs/${runId}/events`],
      ['POST', `/datasets/${nd}/runs/${runId}/cancel`],
      ['POST', `/datasets/${nd}/runs/${runId}/retry`],
      // unknown item
      ['GET', `/datasets/${ds}/items/item_nope`],
      ['PATCH', `/datasets/${ds}/items/item_nope`, { input: 1 }],
      ['DELETE', `/datasets/${ds}/items/item_nope`],
      ['DELETE', `/datasets/${ds}/items/batch`, { itemIds: ['item_nope'] }],
      ['GET', `/datasets/${ds}/items/batch`],
      ['GET', `/datasets/${ds}/items/${otherRunId}`],
      // unknown run
      ['GET', `/datasets/${ds}/runs/run_nope`],
      ['GET', `/datasets/${ds}/runs/run_nope/results`],
      ['GET', `/datasets/${ds}/runs/run_nope/events`],
      ['POST', `/datasets/${ds}/runs/run_nope/cancel`],
      ['POST', `/datasets/${ds}/runs/run_nope/retry`],
      ['GET', `/datasets/${ds}/runs/${runId}/items/item_nope/attempts`],
      // a run of another dataset
      ['GET', `/datasets/${ds}/runs/${otherRunId}`],
      ['GET', `/datasets/${ds}/runs/${otherRunId}/results`],
      ['GET', `/datasets/${ds}/runs/${otherRunId}/events`],
      ['POST', `/datasets/${ds}/runs/${otherRunId}/cancel`],
      ['POST', `/datasets/${ds}/runs/${otherRunId}/retry`],
      ['GET', `/datasets/${otherDs}/runs/${runId}`],
      // an item of another dataset
      ['GET', `/datasets/${otherDs}/items/${itemId}`],
      ['PATCH', `/datasets/${otherDs}/items/${itemId}`, { input: 5 }],
      ['DELETE', `/datasets/${otherDs}/items/${itemId}`],
      // unknown routes and methods
      ['GET', '/nope'],
      ['GET', '/datasets/a/b/c/d/e'],
      ['POST', '/health'],
      ['PUT', `/datasets/${ds}`],
      ['POST', `/datasets/${ds}`, { name: 'x' }],
      ['DELETE', '/datasets'],
      ['GET', '//api'], // '/api' itself (paths outside /api are the web UI's, served with its index.html)
      ['GET', '//api/'],
    ];
    for (const [method, path, body] of cases) {
      const r = await req(method, path, body);
      expect(r.status, `${method} ${path}: ${r.text.slice(0, 200)}`).toBe(404);
      expectErrorShape(r);
      expect(r.body.error.code).toBe('NOT_FOUND');
    }
    // The item of the other dataset is untouched.
    expect((await req('GET', `/datasets/${ds}/items/${itemId}`)).body.input).toBe(1);
    expect(await getDataset(ds)).toMatchObject({ version: 1 });
  });

  it('unknown ids with odd characters are a 404, never a 500', async () => {
    for (const id of ['%ZZ', '%00', '..', 'a'.repeat(5000), '%F0%9F%98%80', "'; drop table runs; --", '%2F']) {
      for (const path of [`/datasets/${id}`, `/datasets/${ds}/items/${id}`, `/datasets/${ds}/runs/${id}`]) {
        const r = await req('GET', path);
        expectNoServerError(r, `GET ${path.slice(0, 60)}`);
        expect(r.status, path.slice(0, 60)).toBe(404);
      }
    }
  });
});

// ── body limit and API key (apps built with createApp over the same deps) ──

describe('body too large (413)', () => {
  const deps = () => ({ storage: assay.storage, registry: assay.registry, runs: assay.runs, events: assay.events });

  it('a body over maxBodyBytes is a 413 PAYLOAD_TOO_LARGE, with or without Content-Length', async () => {
    const app = createApp({ ...deps(), maxBodyBytes: 1024 });
    const small = apiClient(() => app);
    const ds = await newDataset('limits');
    const big = { items: Array.from({ length: 100 }, (_, n) => ({ input: `item number ${n}` })) };
    const text = JSON.stringify(big);
    expect(text.length).toBeGreaterThan(1024);
    expectError(await small('POST', `/datasets/${ds}/items/batch`, big), 413, 'PAYLOAD_TOO_LARGE');
    expectError(
      await small('POST', `/datasets/${ds}/items/batch`, undefined, {
        raw: text,
        headers: { 'content-length': String(Buffer.byteLength(text)) },
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    // Multi-byte characters count as bytes, not as UTF-16 units.
    const emoji = { name: 'e', description: '😀'.repeat(300) };
    expect(JSON.stringify(emoji).length).toBeLessThan(1024);
    expect(Buffer.byteLength(JSON.stringify(emoji))).toBeGreaterThan(1024);
    expectError(await small('POST', '/datasets', emoji), 413, 'PAYLOAD_TOO_LARGE');
    expect(await getDataset(ds)).toMatchObject({ version: 0, itemCount: 0 });

    // Exactly the limit is accepted.
    const prefix = '{"name":"exact","description":"';
    const exact = `${prefix}${'d'.repeat(1024 - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(exact)).toBe(1024);
    const ok = await small('POST', '/datasets', undefined, { raw: exact });
    expect(ok.status, ok.text).toBe(201);
    // GETs are unaffected.
    expect((await small('GET', `/datasets/${ds}`)).status).toBe(200);
  });

  it('the default app refuses a body over 32 MiB with a 413', async () => {
    const ds = await newDataset('huge');
    const raw = `{"items":[{"input":"${'x'.repeat(33 * 1024 * 1024)}"}]}`;
    expectError(await req('POST', `/datasets/${ds}/items/batch`, undefined, { raw }), 413, 'PAYLOAD_TOO_LARGE');
    expect(await getDataset(ds)).toMatchObject({ version: 0 });
  });
});

describe('API key', () => {
  const withKey = () =>
    createApp({
      storage: assay.storage,
      registry: assay.registry,
      runs: assay.runs,
      events: assay.events,
      apiKey: 'k',
    });

  it('401 without or with a wrong bearer, 200 with it; /api/health stays open', async () => {
    const app = withKey();
    const call = apiClient(() => app);
    expect((await call('GET', '/health')).status).toBe(200);
    const wrong: Record<string, string>[] = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer ' },
      { authorization: 'Bearer wrong' },
      { authorization: 'Bearer kk' },
      { authorization: 'Bearer  k' },
      { authorization: 'Bearer k, Bearer k' },
      { authorization: 'Basic k' },
      { authorization: 'k' },
      { 'x-api-key': 'k' },
    ];
    for (const headers of wrong) {
      const r = await call('GET', '/datasets', undefined, { headers });
      expectError(r, 401, 'UNAUTHORIZED');
    }
    const ok = await call('GET', '/datasets', undefined, { headers: { authorization: 'Bearer k' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveProperty('datasets');
    expect((await call('GET', '/targets', undefined, { headers: { authorization: 'Bearer k' } })).status).toBe(200);
  });

  it('every /api route is protected, writes included, and a refused write changes nothing', async () => {
    const app = withKey();
    const call = apiClient(() => app);
    const ds = await datasetWith([{ input: 1 }], 'protected');
    const total = (await req('GET', '/datasets?perPage=1')).body.pagination.total;
    const routes: [string, string, unknown?][] = [
      ['GET', '/targets'],
      ['GET', '/scorers'],
      ['POST', '/datasets', { name: 'sneaky' }],
      ['PATCH', `/datasets/${ds}`, { name: 'sneaky' }],
      ['DELETE', `/datasets/${ds}`],
      ['POST', `/datasets/${ds}/items`, { input: 2 }],
      ['POST', `/datasets/${ds}/runs`, { targetId: 'echo' }],
      ['GET', `/datasets/${ds}/items`],
      ['GET', `/datasets/${ds}/runs`],
    ];
    for (const [method, path, body] of routes) {
      expectError(await call(method, path, body, { headers: { authorization: 'Bearer nope' } }), 401, 'UNAUTHORIZED');
    }
    // Unknown routes under /api never answer 2xx without a key.
    const unknown = await call('GET', '/nope');
    expect([401, 404]).toContain(unknown.status);
    expectErrorShape(unknown);
    expect((await req('GET', '/datasets?perPage=1')).body.pagination.total).toBe(total);
    expect(await getDataset(ds)).toMatchObject({ name: 'protected', version: 1 });
    const created = await call('POST', '/datasets', { name: 'allowed' }, { headers: { authorization: 'Bearer k' } });
    expect(created.status).toBe(201);
  });
});

// ── garbage never yields a 500 ──────────────────────────────────────────────

describe('garbage in, never a 500', () => {
  let ds: string;
  let itemId: string;
  let runId: string;

  beforeAll(async () => {
    ds = await datasetWith([{ input: 1, groundTruth: 1 }], 'garbage');
    itemId = (await itemsAt(ds))[0].id;
    runId = await trigger(ds, { targetId: 'echo' });
    await waitRun(ds, runId);
  });

  it('random JSON bodies (whole body or one field) on every write endpoint', async () => {
    const r = prng(20_251_128);
    const writes: { method: string; path: () => string; template: Record<string, unknown> }[] = [
      { method: 'POST', path: () => '/datasets', template: { name: 'g' } },
      { method: 'PATCH', path: () => `/datasets/${ds}`, template: { name: 'garbage' } },
      { method: 'POST', path: () => `/datasets/${ds}/items`, template: { input: 1 } },
      { method: 'POST', path: () => `/datasets/${ds}/items/batch`, template: { items: [{ input: 1 }] } },
      { method: 'DELETE', path: () => `/datasets/${ds}/items/batch`, template: { itemIds: ['item_nope'] } },
      { method: 'PATCH', path: () => `/datasets/${ds}/items/${itemId}`, template: { input: 1 } },
      { method: 'POST', path: () => `/datasets/${ds}/runs`, template: { targetId: 'echo' } },
      { method: 'POST', path: () => `/datasets/${ds}/runs/${runId}/cancel`, template: {} },
      { method: 'POST', path: () => `/datasets/${ds}/runs/${runId}/retry`, template: {} },
    ];
    const fields = [
      'name',
      'description',
      'metadata',
      'inputSchema',
      'input',
      'groundTruth',
      'externalId',
      'items',
      'itemIds',
      'targetId',
      'targetType',
      'scorerIds',
      'version',
      'maxConcurrency',
      'itemTimeoutMs',
      'maxRetries',
      'repetitions',
      'maxConsecutiveFailures',
      'page',
      'zzz',
    ];
    let n = 0;
    for (let i = 0; i < 400; i++) {
      const w = writes[i % writes.length];
      let raw: string;
      const mode = r.int(3);
      if (mode === 0) raw = garbageJson(r);
      else if (mode === 1) {
        const field = r.pick(fields);
        const body = `{${Object.entries(w.template)
          .filter(([k]) => k !== field)
          .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
          .concat(`${JSON.stringify(field)}:${garbageJson(r)}`)
          .join(',')}}`;
        raw = body;
      } else {
        // Garbage inside a batch item.
        raw = `{"items":[{"input":${garbageJson(r)},${JSON.stringify(r.pick(fields))}:${garbageJson(r)}}]}`;
      }
      const res = await req(w.method, w.path(), undefined, { raw });
      expectNoServerError(res, `#${i} ${w.method} ${w.path()} ${raw.slice(0, 200)}`);
      n++;
    }
    expect(n).toBe(400);
    // Scalars as the whole body, on every write endpoint.
    for (const w of writes) {
      for (const raw of GARBAGE_SCALARS) {
        expectNoServerError(await req(w.method, w.path(), undefined, { raw }), `${w.method} ${w.path()} ${raw}`);
      }
    }
    // The dataset still answers; whatever the garbage did, it is consistent.
    const after = await req('GET', `/datasets/${ds}`);
    expect(after.status).toBe(200);
    const items = await req('GET', `/datasets/${ds}/items?perPage=1000`);
    expect(items.body.pagination.total).toBe(after.body.itemCount);
  });

  it('random query strings on every list endpoint', async () => {
    const r = prng(7);
    const values = [
      '-1',
      '0',
      '1',
      '2',
      '100000',
      '1000',
      '1001',
      '1e3',
      '1e309',
      '-1e309',
      'abc',
      '',
      '0x10',
      '0b1',
      '1.5',
      ' 2 ',
      '-0',
      'NaN',
      'Infinity',
      '9007199254740993',
      '99999999999999999999999',
      '%00',
      '%ZZ',
      '%',
      'x'.repeat(600),
      '[]',
      'null',
      'true',
      'succeeded',
      'failed',
      'bogus',
      '%E2%82%AC',
      "'",
      '"',
      '\\',
      '_',
    ];
    const keys = ['page', 'perPage', 'version', 'search', 'status', 'page[]', 'x'];
    const paths = () => [
      '/datasets',
      `/datasets/${ds}/items`,
      `/datasets/${ds}/items/${itemId}`,
      `/datasets/${ds}/versions`,
      `/datasets/${ds}/runs`,
      `/datasets/${ds}/runs/${runId}/results`,
      `/datasets/${ds}/runs/${runId}`,
    ];
    for (let i = 0; i < 300; i++) {
      const path = r.pick(paths());
      const parts = Array.from({ length: 1 + r.int(3) }, () => `${r.pick(keys)}=${r.pick(values)}`);
      const url = `${path}?${parts.join('&')}`;
      expectNoServerError(await req('GET', url), `GET ${url.slice(0, 200)}`);
    }
    // The named edge cases, on every list.
    for (const path of paths()) {
      for (const q of ['page=-1', 'perPage=100000', 'page=1e309', 'perPage=abc', 'page=1&page=2', 'version=-1']) {
        expectNoServerError(await req('GET', `${path}?${q}`), `GET ${path}?${q}`);
      }
    }
  });

  it('odd headers and methods', async () => {
    const odd: [string, string, RequestInit['headers']?, string?][] = [
      ['POST', '/datasets', { 'content-type': 'text/plain' }, '{"name":"plain"}'],
      ['POST', '/datasets', { 'content-type': 'application/x-www-form-urlencoded' }, 'name=x'],
      ['POST', '/datasets', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
      ['POST', `/datasets/${ds}/runs`, { 'idempotency-key': 'x'.repeat(1000) }, '{"targetId":"echo"}'],
      ['OPTIONS', '/datasets'],
      ['HEAD', '/datasets'],
      ['PATCH', '/datasets'],
      ['TRACE', '/datasets'],
    ];
    for (const [method, path, headers, raw] of odd) {
      let res: Response;
      try {
        res = await assay.app.request(`/api${path}`, { method, headers, body: raw });
      } catch {
        continue; // a method the Request constructor itself refuses never reaches the app
      }
      const text = await res.text();
      expect(res.status, `${method} ${path} → ${text.slice(0, 200)}`).toBeLessThan(500);
    }
  });

  it('deeply nested JSON is refused with a 4xx, not a 500', async () => {
    const ds = await datasetWith([{ input: 1 }], 'deep');
    const itemId = (await itemsAt(ds))[0].id;
    const depth = 100_000;
    const deep = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    const cases: [string, string, string][] = [
      ['POST', '/datasets', `{"name":"deep","metadata":{"a":${deep}}}`],
      ['POST', `/datasets/${ds}/items`, `{"input":${deep}}`],
      ['POST', `/datasets/${ds}/items/batch`, `{"items":[{"input":1,"groundTruth":${deep}}]}`],
      ['PATCH', `/datasets/${ds}/items/${itemId}`, `{"input":${deep}}`],
      ['POST', `/datasets/${ds}/runs`, `{"targetId":"echo","metadata":{"a":${deep}}}`],
    ];
    // The same trigger with an Idempotency-Key too (its body is hashed before the run is created).
    const keyed = { 'idempotency-key': 'deep' };
    cases.push(['POST', `/datasets/${ds}/runs`, `{"targetId":"echo","metadata":{"a":${deep}}}`]);
    for (const [i, [method, path, raw]] of cases.entries()) {
      const res = await req(method, path, undefined, { raw, headers: i === cases.length - 1 ? keyed : {} });
      // Soft, so one run reports every endpoint that fails.
      expect
        .soft(res.status, `${method} ${path} → ${res.status} ${res.text.slice(0, 200)}`)
        .toBeGreaterThanOrEqual(400);
      expect.soft(res.status, `${method} ${path} → ${res.status} ${res.text.slice(0, 200)}`).toBeLessThan(500);
      if (res.status >= 400 && res.status < 500) expectErrorShape(res);
    }
    // Nothing was stored by the refused requests.
    expect(await getDataset(ds)).toMatchObject({ version: 1, itemCount: 1 });
    expect((await req('GET', `/datasets/${ds}/runs`)).body.pagination.total).toBe(0);
    expect((await req('GET', `/datasets/${ds}/items/${itemId}`)).body.input).toBe(1);
  });
});
