/**
 * Storage health of the embedded deployment, on real files (issue 10): a SQLite file deleted or
 * replaced under the running server is noticed (health 503, writes 503 STORAGE_UNAVAILABLE, the
 * worker claims nothing, one log line), and a file put back is used again.
 */
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import type { AssayConfig } from '@assay/core';
import { SqliteJobQueue } from '@assay/queue';
import { createApp } from '@assay/server';
import type { SqliteHealth } from '@assay/store';
import { createPostgresHealth, createPostgresStorage } from '@assay/store/postgres';
import { describe, expect, it, vi } from 'vitest';
import { apiClient, expectError, waitFor } from './api-helpers.js';
import { useAssay } from './helpers.js';

const config: AssayConfig = { targets: [{ id: 'echo', type: 'function', run: async (input) => input }] };
const start = useAssay();

async function open() {
  const log: string[] = [];
  const assay = await start(config, { log: (m) => log.push(m) });
  const health = assay.storageHealth as SqliteHealth;
  return { assay, log, req: apiClient(() => assay.app), file: health.file, health };
}

const unavailable = (log: string[]) => log.filter((l) => l.includes('storage unavailable'));

describe('SQLite file health', () => {
  it('a deleted database file: health 503, writes 503 STORAGE_UNAVAILABLE, nothing claimed, logged once', async () => {
    const { assay, log, req, file } = await open();
    const ds = await req('POST', '/datasets', { name: 'before' });
    expect(ds.status).toBe(201);
    expect((await req('GET', '/health')).status).toBe(200);
    const claims = vi.spyOn(SqliteJobQueue.prototype, 'claim');
    await waitFor(
      async () => claims.mock.calls.length,
      (n) => n > 0,
    );

    rmSync(file);
    const health = await req('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', storage: 'unavailable', dialect: 'sqlite' });
    expect(health.body.reason).toContain(file);
    expect(health.body.reason).toContain('deleted');

    const create = await req('POST', '/datasets', { name: 'after' });
    expectError(create, 503, 'STORAGE_UNAVAILABLE');
    expect(create.body.error.details.reason).toContain('deleted');
    expectError(
      await req('POST', `/datasets/${ds.body.id}/items/batch`, { items: [{ input: 1 }] }),
      503,
      'STORAGE_UNAVAILABLE',
    );
    expectError(await req('POST', `/datasets/${ds.body.id}/runs`, { targetId: 'echo' }), 503, 'STORAGE_UNAVAILABLE');
    // Writes that bypass HTTP fail as well, instead of landing in the deleted file.
    await expect(assay.storage.createDataset({ name: 'direct' })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      status: 503,
    });
    // Reads still answer from the open file.
    expect((await req('GET', `/datasets/${ds.body.id}`)).status).toBe(200);

    // The worker pauses: no claims while the file is gone (the poll interval is 20 ms here).
    await new Promise((r) => setTimeout(r, 100));
    const before = claims.mock.calls.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(claims.mock.calls.length).toBe(before);
    claims.mockRestore();

    // Said once, however often it was noticed.
    for (let i = 0; i < 5; i++) await req('GET', '/health');
    expect(unavailable(log)).toHaveLength(1);
    expect(unavailable(log)[0]).toContain(file);
  });

  it('a replaced file is refused; putting the original back makes it available again', async () => {
    const { log, req, file } = await open();
    expect((await req('POST', '/datasets', { name: 'one' })).status).toBe(201);
    renameSync(file, `${file}.moved`);
    copyFileSync(`${file}.moved`, file); // same content, another inode
    const replaced = await req('GET', '/health');
    expect(replaced.status).toBe(503);
    expect(replaced.body.reason).toContain('replaced');
    expectError(await req('POST', '/datasets', { name: 'two' }), 503, 'STORAGE_UNAVAILABLE');

    rmSync(file);
    renameSync(`${file}.moved`, file); // the very file this process opened
    const back = await req('GET', '/health');
    expect(back.status, back.text).toBe(200);
    expect(back.body.status).toBe('ok');
    expect((await req('POST', '/datasets', { name: 'three' })).status).toBe(201);
    expect(log.filter((l) => l.includes('available again'))).toHaveLength(1);
  });

  it('the background check notices without any request, within about a second', async () => {
    const { log, file, health } = await open();
    rmSync(file);
    await waitFor(
      async () => health.current().ok,
      (ok) => !ok,
      5_000,
    );
    expect(unavailable(log)).toHaveLength(1);
  });

  it('a read-only or I/O error from SQLite makes it unavailable until a write works again', async () => {
    const { req, health, log } = await open();
    health.reportError(Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }));
    expect(health.current()).toMatchObject({ ok: false });
    expect((health.current() as { reason: string }).reason).toContain('SQLITE_READONLY');
    health.reportError(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' })); // not a fault
    // The next check probes with a real write: the file is fine, so it recovers.
    const r = await req('GET', '/health');
    expect(r.status).toBe(200);
    expect(unavailable(log)).toHaveLength(1);
    expect(log.some((l) => l.includes('available again'))).toBe(true);
  });
});

describe('PostgreSQL health on the API', () => {
  it('GET /health answers 503 with the reason when PostgreSQL does not answer; writes are left to PostgreSQL', async () => {
    const { assay } = await open();
    const pg = createPostgresStorage({ connectionString: 'postgres://assay@127.0.0.1:1/assay' });
    try {
      const app = createApp({
        storage: assay.storage,
        registry: assay.registry,
        runs: assay.runs,
        events: assay.events,
        storageHealth: createPostgresHealth(pg.db, { log: () => {} }),
        info: { storage: 'postgres', queue: 'bullmq', worker: false, version: 'test' },
      });
      const req = apiClient(() => app);
      const r = await req('GET', '/health');
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: 'unavailable', storage: 'unavailable', dialect: 'postgres' });
      expect(r.body.reason).toContain('PostgreSQL is unreachable');
      // No gate on writes for PostgreSQL (its own errors fail them): this app's storage is SQLite.
      expect((await req('POST', '/datasets', { name: 'still' })).status).toBe(201);
    } finally {
      await pg.close();
    }
  });
});
