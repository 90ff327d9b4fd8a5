/**
 * Bounded sizes end to end (issue 10): the per-item limit on create, import and update (413
 * ITEM_TOO_LARGE), list pages that stay small whatever their items hold (markers cut in SQL), and
 * the single routes that still return every value in full. A real SQLite file, a real worker.
 */
import { type AssayConfig, isTruncated } from '@assay/core';
import type { Assay } from '@assay/runtime';
import { createApp } from '@assay/server';
import { describe, expect, it } from 'vitest';
import { bodyLimitFor, DEFAULT_MAX_ITEM_BYTES, itemBytes, maxItemBytesFromEnv } from '../src/item-size.js';
import { apiClient, expectError, waitFor } from './api-helpers.js';
import { useAssay } from './helpers.js';

const config: AssayConfig = {
  targets: [
    { id: 'echo', type: 'function', run: async (input) => input },
    {
      id: 'fail-big',
      type: 'function',
      run: async () => {
        throw Object.assign(new Error('E'.repeat(2_000_000)), { retryable: false });
      },
    },
  ],
  scorers: [{ id: 'long-reason', score: () => ({ score: 1, reason: 'why '.repeat(500_000) }) }],
};

const MB = 1024 * 1024;
const start = useAssay();
let assay: Assay;
const req = apiClient(() => assay.app);

async function fresh() {
  assay = await start(config);
  return assay;
}

async function newDataset(name: string) {
  const r = await req('POST', '/datasets', { name });
  expect(r.status, r.text).toBe(201);
  return r.body.id as string;
}

describe('per-item size limit', () => {
  it('refuses an item over 4 MiB with 413 ITEM_TOO_LARGE naming it; a batch stores nothing', async () => {
    await fresh();
    const ds = await newDataset('limit');
    const big = 'x'.repeat(DEFAULT_MAX_ITEM_BYTES); // + 2 quotes: over the limit by 2 bytes
    const one = await req('POST', `/datasets/${ds}/items`, { input: big, externalId: 'huge' });
    expectError(one, 413, 'ITEM_TOO_LARGE');
    expect(one.body.error.details).toEqual({
      limit: DEFAULT_MAX_ITEM_BYTES,
      size: DEFAULT_MAX_ITEM_BYTES + 2,
      externalId: 'huge',
    });
    expect(one.body.error.message).toContain("externalId 'huge'");

    const batch = await req('POST', `/datasets/${ds}/items/batch`, {
      items: [{ input: 'a' }, { input: 'b' }, { input: 'c', groundTruth: big, externalId: 'third' }],
    });
    expectError(batch, 413, 'ITEM_TOO_LARGE');
    expect(batch.body.error.details).toMatchObject({ index: 2, externalId: 'third', limit: DEFAULT_MAX_ITEM_BYTES });
    expect(batch.body.error.message).toMatch(/^item 2 \(externalId 'third'\) is \d+ bytes/);
    expect((await req('GET', `/datasets/${ds}`)).body).toMatchObject({ version: 0, itemCount: 0 });

    // Exactly at the limit is fine; an update that makes it grow over the limit is not.
    const exact = 'y'.repeat(DEFAULT_MAX_ITEM_BYTES - 2);
    const ok = await req('POST', `/datasets/${ds}/items`, { input: exact });
    expect(ok.status, ok.text.slice(0, 200)).toBe(201);
    const grow = await req('PATCH', `/datasets/${ds}/items/${ok.body.id}`, { metadata: { more: 'z' } });
    expectError(grow, 413, 'ITEM_TOO_LARGE');
    expect(grow.body.error.message).toContain(ok.body.id);
    const shrink = await req('PATCH', `/datasets/${ds}/items/${ok.body.id}`, {
      input: 'small',
      metadata: { more: 'z' },
    });
    expect(shrink.status, shrink.text.slice(0, 200)).toBe(200);
  });

  it('the limit is a createApp option and ASSAY_MAX_ITEM_BYTES; the body limit follows it', async () => {
    await fresh();
    const deps = { storage: assay.storage, registry: assay.registry, runs: assay.runs, events: assay.events };
    const small = apiClient(() => createApp({ ...deps, maxItemBytes: 1000 }));
    const ds = await newDataset('option');
    const r = await small('POST', `/datasets/${ds}/items`, { input: 'x'.repeat(1000) });
    expectError(r, 413, 'ITEM_TOO_LARGE');
    expect(r.body.error.details).toEqual({ limit: 1000, size: 1002 });
    expect((await small('POST', `/datasets/${ds}/items`, { input: 'x'.repeat(998) })).status).toBe(201);

    expect(maxItemBytesFromEnv({ ASSAY_MAX_ITEM_BYTES: '2000' })).toBe(2000);
    expect(maxItemBytesFromEnv({})).toBeUndefined();
    expect(() => maxItemBytesFromEnv({ ASSAY_MAX_ITEM_BYTES: '4MB' })).toThrow(/ASSAY_MAX_ITEM_BYTES must be/);
    process.env.ASSAY_MAX_ITEM_BYTES = '2000';
    try {
      const viaEnv = apiClient(() => createApp(deps));
      const e = await viaEnv('POST', `/datasets/${ds}/items`, { input: 'x'.repeat(2000) });
      expect(e.body.error.details).toEqual({ limit: 2000, size: 2002 });
      process.env.ASSAY_MAX_ITEM_BYTES = 'lots';
      expect(() => createApp(deps)).toThrow(/ASSAY_MAX_ITEM_BYTES/);
    } finally {
      delete process.env.ASSAY_MAX_ITEM_BYTES;
    }
    // One item at the limit always fits a request; batches of small items keep 32 MiB.
    expect(bodyLimitFor(DEFAULT_MAX_ITEM_BYTES)).toBe(32 * MB);
    expect(bodyLimitFor(64 * MB)).toBeGreaterThan(2 * 64 * MB);
    expect(itemBytes({ input: 'é', groundTruth: null, metadata: { a: 1 } })).toBe(4 + 7);
  });

  it('a truncation marker sent back as a value is a 400, not stored', async () => {
    await fresh();
    const ds = await newDataset('marker');
    const r = await req('POST', `/datasets/${ds}/items`, { input: { $truncated: true, bytes: 10, preview: 'x' } });
    expectError(r, 400, 'VALIDATION_ERROR');
    expect(r.body.error.message).toContain('truncation marker');
  });
});

describe('bounded list pages', () => {
  it('12 items of 3 MB: list pages stay small, single routes return them whole', async () => {
    await fresh();
    const ds = await newDataset('big-items');
    const value = (i: number) => ({ i, text: String(i % 10).repeat(3 * 1000 * 1000) });
    for (let b = 0; b < 12; b += 4) {
      const items = Array.from({ length: 4 }, (_, k) => ({ input: value(b + k), externalId: `e${b + k}` }));
      const r = await req('POST', `/datasets/${ds}/items/batch`, { items });
      expect(r.status, r.text.slice(0, 300)).toBe(201);
    }
    // Before bounds: 36 MB for perPage=1000 and 30 MB for perPage=10.
    for (const perPage of [1000, 10]) {
      const page = await req('GET', `/datasets/${ds}/items?perPage=${perPage}`);
      expect(page.status).toBe(200);
      expect(page.text.length).toBeLessThan(100_000);
      expect(page.body.items.length).toBe(Math.min(perPage, 12));
      const first = page.body.items[0];
      expect(first.input).toEqual({
        $truncated: true,
        bytes: Buffer.byteLength(JSON.stringify(value(0))),
        preview: JSON.stringify(value(0)).slice(0, 1000),
      });
      expect(first.externalId).toBe('e0');
    }
    const listed = (await req('GET', `/datasets/${ds}/items?perPage=1`)).body.items[0];
    const whole = await req('GET', `/datasets/${ds}/items/${listed.id}`);
    expect(whole.body.input).toEqual(value(0));

    // A run echoes them: results pages are bounded the same way, one result is whole.
    const run = await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: ['long-reason'] });
    expect(run.status, run.text).toBe(202);
    await waitFor(
      async () => (await req('GET', `/datasets/${ds}/runs/${run.body.runId}`)).body,
      (r) => r.status === 'completed',
      60_000,
    );
    const results = await req('GET', `/datasets/${ds}/runs/${run.body.runId}/results?perPage=1000`);
    expect(results.status).toBe(200);
    expect(results.text.length).toBeLessThan(200_000);
    const r0 = results.body.results[0];
    expect(isTruncated(r0.input)).toBe(true);
    expect(isTruncated(r0.output)).toBe(true);
    expect(r0.scores[0]).toMatchObject({
      scorerId: 'long-reason',
      score: 1,
      reason: { $truncated: true, bytes: 2_000_000 },
    });
    const one = await req('GET', `/datasets/${ds}/runs/${run.body.runId}/results/${r0.itemId}?repetition=0`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ itemId: r0.itemId, repetition: 0, status: 'succeeded' });
    expect(one.body.output).toEqual(one.body.input);
    expect(one.body.output.text.length).toBe(3_000_000);
    expect(one.body.scores[0].reason).toHaveLength(2_000_000);
    // Without ?repetition it is repetition 0; an unknown one is a 404.
    expect((await req('GET', `/datasets/${ds}/runs/${run.body.runId}/results/${r0.itemId}`)).body.repetition).toBe(0);
    expectError(
      await req('GET', `/datasets/${ds}/runs/${run.body.runId}/results/${r0.itemId}?repetition=3`),
      404,
      'NOT_FOUND',
    );
    expectError(await req('GET', `/datasets/${ds}/runs/${run.body.runId}/results/nope`), 404, 'NOT_FOUND');
    expectError(
      await req('GET', `/datasets/${ds}/runs/${run.body.runId}/results/${r0.itemId}?repetition=-1`),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('compare: the changed items carry bounded outputs and errors', async () => {
    await fresh();
    const ds = await newDataset('compare');
    const items = Array.from({ length: 3 }, (_, i) => ({ input: { i, text: 'c'.repeat(3_000_000) } }));
    expect((await req('POST', `/datasets/${ds}/items/batch`, { items })).status).toBe(201);
    const trigger = async (targetId: string) => {
      const r = await req('POST', `/datasets/${ds}/runs`, { targetId, scorerIds: ['long-reason'] });
      expect(r.status, r.text).toBe(202);
      await waitFor(
        async () => (await req('GET', `/datasets/${ds}/runs/${r.body.runId}`)).body,
        (run) => run.status === 'completed' || run.status === 'failed',
        60_000,
      );
      return r.body.runId as string;
    };
    const a = await trigger('echo');
    const b = await trigger('fail-big');
    const cmp = await req('POST', `/datasets/${ds}/compare`, { runIdA: a, runIdB: b });
    expect(cmp.status, cmp.text.slice(0, 300)).toBe(200);
    // The items are bounded; run B's own error quotes its first failed item (the single run, as GET returns it).
    expect(cmp.text.length - JSON.stringify(cmp.body.runB).length).toBeLessThan(200_000);
    expect(cmp.body.counts).toMatchObject({ matched: 3, regressed: 3 });
    const [first] = cmp.body.items;
    expect(first.a).toMatchObject({ status: 'succeeded', output: { $truncated: true, bytes: 3_000_017 } });
    expect(first.b.status).toBe('failed');
    expect(first.b.error).toMatchObject({ message: { $truncated: true, bytes: 2_000_000 }, code: 'TARGET_ERROR' });
    expect(isTruncated(first.input)).toBe(true);
  });

  it('small values are never cut; a page over its budget cuts its largest values first', async () => {
    await fresh();
    const deps = { storage: assay.storage, registry: assay.registry, runs: assay.runs, events: assay.events };
    const tight = apiClient(() =>
      createApp({ ...deps, listBounds: { budgetBytes: 50_000, maxFieldBytes: 40_000, previewChars: 20 } }),
    );
    const ds = await newDataset('budget');
    const items = [5_000, 10_000, 20_000, 30_000, 45_000].map((n, i) => ({
      input: 'a'.repeat(n),
      externalId: `s${i}`,
    }));
    expect((await req('POST', `/datasets/${ds}/items/batch`, { items })).status).toBe(201);
    const page = await tight('GET', `/datasets/${ds}/items?perPage=50`);
    const cut = page.body.items.map((it: any) => (isTruncated(it.input) ? it.externalId : null)).filter(Boolean);
    // 5k + 10k + 20k fit 50k; 30k would not; 45k is over maxFieldBytes anyway.
    expect(cut).toEqual(['s3', 's4']);
    expect(page.body.items[3].input).toEqual({ $truncated: true, bytes: 30_002, preview: `"${'a'.repeat(19)}` });
    // The default app cuts none of them.
    const all = await req('GET', `/datasets/${ds}/items?perPage=50`);
    expect(all.body.items.some((it: any) => isTruncated(it.input))).toBe(false);
  });
});
