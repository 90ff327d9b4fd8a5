import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@assay/core';
import { createTestDatabase, pgAvailable, type ServiceCheck } from '@assay/testkit/services';
import { createLedgerThread, createSqliteStorage, openSqlite, SqlStorage, sqliteAdapter } from '../src/index.js';
import { createPostgresStorage } from '../src/postgres.js';

/** Every adapter of the Storage port, each opened on a fresh database (a real SQLite file, or PostgreSQL). */
export const ADAPTERS: {
  name: string;
  /** A service the adapter needs, checked once per test file. */
  requires?: () => Promise<ServiceCheck>;
  /** A migrated store on a fresh database; `clock` (default the system clock) gives its times. */
  open(options?: { clock?: Clock }): Promise<{ storage: SqlStorage; cleanup(): Promise<void> }>;
}[] = [
  {
    name: 'sqlite',
    async open(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'assay-store-'));
      const storage = createSqliteStorage({ file: join(dir, 'assay.db'), clock: options.clock });
      await storage.migrate();
      return { storage, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    // What `assay serve --config` opens: the work ledger's writes on a thread of their own.
    name: 'sqlite, ledger thread',
    async open(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'assay-store-'));
      const file = join(dir, 'assay.db');
      const { db } = openSqlite({ file, clock: options.clock });
      const ledgerWrites = createLedgerThread({ file, clock: options.clock });
      const storage = new SqlStorage(db, sqliteAdapter, {
        clock: options.clock,
        ledgerWrites,
        onClose: () => ledgerWrites.close(),
      });
      await storage.migrate();
      return {
        storage,
        cleanup: async () => {
          await storage.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    requires: pgAvailable,
    async open(options = {}) {
      const database = await createTestDatabase();
      const storage = createPostgresStorage({ connectionString: database.url, max: 4, clock: options.clock });
      await storage.migrate();
      return { storage, cleanup: database.drop };
    },
  },
];
