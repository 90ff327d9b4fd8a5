import { createTestDatabase, describeWithService, pgAvailable, type TestDatabase } from '@assay/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlStorage } from '../src/index.js';
import { createPostgresHealth, createPostgresStorage } from '../src/postgres.js';

describe('PostgreSQL health: unreachable', () => {
  it('a server that does not answer is unavailable, with the reason, logged once', async () => {
    // Nothing listens on port 1 of loopback: connections are refused at once.
    const storage = createPostgresStorage({ connectionString: 'postgres://assay@127.0.0.1:1/assay' });
    const log: string[] = [];
    const health = createPostgresHealth(storage.db, { log: (m) => log.push(m), timeoutMs: 2_000 });
    try {
      expect(health.checksWrites).toBe(false);
      const state = await health.check();
      expect(state.ok).toBe(false);
      expect((state as { reason: string }).reason).toMatch(/^PostgreSQL is unreachable \(.*ECONNREFUSED/);
      await health.check();
      expect(health.current().ok).toBe(false);
      expect(log.filter((l) => l.includes('storage unavailable'))).toHaveLength(1);
    } finally {
      await storage.close();
    }
  });
});

const check = await pgAvailable();
describeWithService(check)('PostgreSQL health: reachable', () => {
  let database: TestDatabase;
  let storage: SqlStorage;
  beforeAll(async () => {
    database = await createTestDatabase();
    storage = createPostgresStorage({ connectionString: database.url, max: 2 });
  });
  afterAll(async () => {
    await storage.close();
    await database.drop();
  });

  it('answers ok while select 1 works', async () => {
    const health = createPostgresHealth(storage.db, { log: () => {} });
    expect(await health.check()).toEqual({ ok: true });
  });
});
