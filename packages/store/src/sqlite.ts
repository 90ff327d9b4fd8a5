import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { DB } from './db-types.js';
import { sqliteMigrations } from './migrations/sqlite.js';
import { type SqlDialectAdapter, SqlStorage } from './sql-storage.js';

export const sqliteAdapter: SqlDialectAdapter = {
  name: 'sqlite',
  migrations: sqliteMigrations,
  // IMMEDIATE takes the write lock at BEGIN, so busy_timeout applies instead of a deadlock error.
  beginWrite: 'begin immediate',
  isUniqueViolation: (e) => (e as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE',
};

export interface SqliteOptions {
  /** Path of the database file; the folder is created when missing. */
  file: string;
  /**
   * `FULL` (default) fsyncs every commit, so a stored result survives a power cut; `NORMAL`
   * survives a process crash only. Results are group-committed, so FULL costs little.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Opens (or creates) a SQLite database in WAL mode, for the store and the embedded queue. */
export function openSqlite(opts: SqliteOptions): { db: Kysely<DB>; raw: Database.Database } {
  if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
  const raw = new Database(opts.file);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  raw.pragma('busy_timeout = 10000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: raw }) });
  return { db, raw };
}

/** A ready {@link SqlStorage} on a SQLite file (call `migrate()` before use). */
export function createSqliteStorage(opts: SqliteOptions): SqlStorage {
  const { db } = openSqlite(opts);
  return new SqlStorage(db, sqliteAdapter);
}
