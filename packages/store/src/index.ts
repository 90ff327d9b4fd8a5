export type { DB } from './db-types.js';
export { sqliteMigrations } from './migrations/sqlite.js';
export { type SqlDialectAdapter, SqlStorage } from './sql-storage.js';
export { createSqliteStorage, openSqlite, type SqliteOptions, sqliteAdapter } from './sqlite.js';
