/**
 * PostgreSQL storage (`@assay/store/postgres`): its own entry, since it needs the `pg` package,
 * an optional peer dependency that SQLite-only installs leave out.
 */
export { postgresAdapter } from './dialect/postgres/adapter.js';
export { createPostgresHealth, type PostgresHealthOptions } from './dialect/postgres/health.js';
export { postgresMigrations } from './dialect/postgres/migrations.js';
export { createPostgresStorage, openPostgres, type PostgresOptions } from './dialect/postgres/open.js';
