import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Storage } from '@assay/core';
import { createTestDatabase, pgAvailable, type ServiceCheck } from '@assay/testkit/services';
import { createPostgresStorage, createSqliteStorage } from '../src/index.js';

/** Every adapter of the Storage port, each opened on a fresh database (a real SQLite file, or PostgreSQL). */
export const ADAPTERS: {
  name: string;
  /** A service the adapter needs, checked once per test file. */
  requires?: () => Promise<ServiceCheck>;
  open(): Promise<{ storage: Storage; cleanup(): Promise<void> }>;
}[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'assay-store-'));
      const storage = createSqliteStorage({ file: join(dir, 'assay.db') });
      await storage.migrate();
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    requires: pgAvailable,
    async open() {
      const database = await createTestDatabase();
      const storage = createPostgresStorage({ connectionString: database.url, max: 4 });
      await storage.migrate();
      return { storage, cleanup: database.drop };
    },
  },
];
