import type { Clock } from '@assay/core';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DB } from '../../db-types.js';
import { SqlStorage } from '../../sql-storage.js';
import { sqliteAdapter } from './adapter.js';
import { guardedDatabase } from './guard.js';
import { assertWritableDatabase, isStorageFault, readonlyDatabaseError, SqliteHealth } from './health.js';

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
