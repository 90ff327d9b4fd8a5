export type { DB } from './db-types.js';
export type { SqlDialectAdapter, SqlParamType } from './dialect/adapter.js';
export { sqliteAdapter } from './dialect/sqlite/adapter.js';
export { isStorageFault, SqliteHealth, type SqliteHealthOptions } from './dialect/sqlite/health.js';
export { createLedgerThread, type LedgerWrites } from './dialect/sqlite/ledger-thread.js';
export { sqliteMigrations } from './dialect/sqlite/migrations.js';
export { createSqliteStorage, openSqlite, type SqliteOptions } from './dialect/sqlite/open.js';
export { SqlStorage, type SqlStorageOptions } from './sql-storage.js';
