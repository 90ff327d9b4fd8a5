import type { Clock } from '@assay/core';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { DB } from './db-types.js';
import type { SqlDialectAdapter } from './dialect/adapter.js';
import { sqliteMigrations } from './migrations/sqlite.js';
import { SqlStorage } from './sql-storage.js';
import { guardedDatabase } from './sqlite-guard.js';
import { assertWritableDatabase, isStorageFault, readonlyDatabaseError, SqliteHealth } from './sqlite-health.js';

export const sqliteAdapter: SqlDialectAdapter = {
  name: 'sqlite',
  migrations: sqliteMigrations,
  // IMMEDIATE takes the write lock at BEGIN, so busy_timeout applies instead of a deadlock error.
  beginWrite: 'begin immediate',
  // Every write transaction already holds the database's only write lock.
  supportsRowLocks: false,
  // SQLite's LIKE ignores ASCII case.
  caseInsensitiveLike: 'like',
  isUniqueViolation: (e) => (e as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE',
  isForeignKeyViolation: (e) => (e as { code?: string })?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY',
  // Values keep the type they were bound with.
  typedParam: (value) => sql`${value}`,
  jsonObjectArray: (fields) =>
    sql<string>`json_group_array(json_object(${sql.join(fields.map(([k, v]) => sql`${sql.lit(k)}, ${v}`))}))`,
  // `->>` (SQLite 3.38+) reads a key of JSON text as an SQL value (true/false as 1/0).
  jsonField: (json, key) => sql`(${json} ->> ${sql.lit(key)})`,
  // Kysely runs SQLite migrations outside any transaction and without a lock. One IMMEDIATE
  // transaction around the whole migrator makes them atomic and makes another process wait
  // (busy_timeout) until they are done; SQLite's DDL is transactional.
  async withMigrationLock(db, fn) {
    return db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw e;
      }
    });
  },
};

export interface SqliteOptions {
  /** Path of the database file; the folder is created when missing. */
  file: string;
  /**
   * `FULL` (default) fsyncs every commit, so a stored result survives a power cut; `NORMAL`
   * survives a process crash only. Results are group-committed, so FULL costs little.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /** How often the file's health is checked in the background, in ms. Default 1 000. */
  healthIntervalMs?: number;
  /** Where storage health changes are reported (once per change). Default console.error. */
  log?: (message: string) => void;
  /** Where the store's times come from (timestamps, claim leases). Default the system clock. */
  clock?: Clock;
}

/**
 * Opens (or creates) a SQLite database in WAL mode, for the store and the embedded queue. Refuses a
 * data directory or file it cannot write, naming the path and the fix. `health` (null for
 * `:memory:`) watches the file while it is open: writes fail with 503 STORAGE_UNAVAILABLE once it
 * was deleted, replaced or made read-only (sqlite-health.ts).
 */
export function openSqlite(opts: SqliteOptions): {
  db: Kysely<DB>;
  raw: Database.Database;
  health: SqliteHealth | null;
} {
  const memory = opts.file === ':memory:';
  if (!memory) assertWritableDatabase(opts.file);
  let raw: Database.Database | undefined;
  try {
    raw = new Database(opts.file);
    raw.pragma('journal_mode = WAL');
    raw.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
    raw.pragma('busy_timeout = 10000');
    raw.pragma('foreign_keys = ON');
  } catch (e) {
    raw?.close();
    throw isStorageFault(e) ? readonlyDatabaseError(opts.file, e) : e;
  }
  const health = memory ? null : new SqliteHealth(opts.file, raw, { intervalMs: opts.healthIntervalMs, log: opts.log });
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: health ? guardedDatabase(raw, health) : raw }) });
  return { db, raw, health };
}

/** A ready {@link SqlStorage} on a SQLite file (call `migrate()` before use). */
export function createSqliteStorage(opts: SqliteOptions): SqlStorage {
  const { db } = openSqlite(opts);
  return new SqlStorage(db, sqliteAdapter, { clock: opts.clock });
}
