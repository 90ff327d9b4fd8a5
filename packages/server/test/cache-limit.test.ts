/**
 * The cache's size limit as a deployment runs it (`cacheMaxMb`, `ASSAY_CACHE_MAX_MB`): the worker
 * checks the size on its own timer and deletes the oldest entries; the newest stay.
 */
import type { AssayConfig, Target } from '@assay/core';
import { afterEach, describe, expect, it } from 'vitest';
import { call, dataset, until, useAssay, waitRun } from './helpers.js';

const start = useAssay();

/** A cacheable code target answering 200 characters (a cache entry of 202 bytes of JSON). */
const target = (id: string): Target => ({
  id,
  type: 'function',
  version: '1',
  run: (input: { n: number }) => `${id}:${input.n}:`.padEnd(200, '.'),
});
const config: AssayConfig = { targets: [target('old'), target('new')] };

const bytesOf = (stats: { targetId: string; bytes: number; entries: number }[], id?: string) =>
  stats.filter((t) => id === undefined || t.targetId === id).reduce((s, t) => s + t.bytes, 0);

describe('cache size limit', () => {
  const env = process.env.ASSAY_CACHE_MAX_MB;
  afterEach(() => {
    if (env === undefined) delete process.env.ASSAY_CACHE_MAX_MB;
    else process.env.ASSAY_CACHE_MAX_MB = env;
  });

  it('keeps the cache under the limit, deleting the oldest entries; the newest stay', async () => {
    const limit = 0.01; // MiB: 10,486 bytes, about 51 entries
    const maxBytes = Math.round(limit * 1024 * 1024);
    const assay = await start(config, { cacheMaxMb: limit, cacheCheckMs: 50 });
    const first = await dataset(
      assay,
      Array.from({ length: 100 }, (_, n) => ({ input: { n } })),
    );
    const r1 = await call(assay, 'POST', `/datasets/${first}/runs`, { targetId: 'old', cache: 'readwrite' });
    expect((await waitRun(assay, first, r1.json.runId)).status).toBe('completed');
    const trimmed = await until(
      () => assay.storage.cacheStats(),
      (s) => bytesOf(s) <= maxBytes,
    );
    // Down to 90% of the limit, oldest first.
    expect(bytesOf(trimmed)).toBeGreaterThan(maxBytes * 0.8);

    const second = await dataset(
      assay,
      Array.from({ length: 10 }, (_, n) => ({ input: { n } })),
    );
    const r2 = await call(assay, 'POST', `/datasets/${second}/runs`, { targetId: 'new', cache: 'readwrite' });
    expect((await waitRun(assay, second, r2.json.runId)).status).toBe('completed');
    // Over the limit again: the older run's entries go, the 10 new ones stay.
    const after = await until(
      () => assay.storage.cacheStats(),
      (s) => bytesOf(s) <= maxBytes && bytesOf(s, 'old') < bytesOf(trimmed, 'old'),
    );
    expect(after.find((t) => t.targetId === 'new')?.entries).toBe(10);
    expect(bytesOf(after)).toBeLessThanOrEqual(maxBytes);
  });

  it('reads ASSAY_CACHE_MAX_MB, and refuses a value that is not a positive number', async () => {
    process.env.ASSAY_CACHE_MAX_MB = '0.5';
    const assay = await start(config);
    expect(assay.cacheLimit).toBeDefined();
    process.env.ASSAY_CACHE_MAX_MB = 'lots';
    await expect(start(config)).rejects.toThrow(/ASSAY_CACHE_MAX_MB must be a positive number of megabytes/);
    delete process.env.ASSAY_CACHE_MAX_MB;
    expect((await start(config)).cacheLimit).toBeUndefined();
  });
});
