export type { DB } from './db-types.js';
export type { SqlDialectAdapter, SqlParamType } from './dialect/adapter.js';
export { postgresMigrations } from './migrations/postgres.js';
export { sqliteMigrations } from './migrations/sqlite.js';
export { createPostgresStorage, openPostgres, type PostgresOptions, postgresAdapter } from './postgres.js';
export { createPostgresHealth, type PostgresHealthOptions } from './postgres-health.js';
export { SqlStorage, type SqlStorageOptions } from './sql-storage.js';
export { createSqliteStorage, openSqlite, type SqliteOptions, sqliteAdapter } from './sqlite.js';
export { isStorageFault, SqliteHealth, type SqliteHealthOptions } from './sqlite-health.js';
