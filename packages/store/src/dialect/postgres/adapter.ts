import { sql } from 'kysely';
import type { SqlDialectAdapter, SqlParamType } from '../adapter.js';
import { postgresMigrations } from './migrations.js';

const PG_TYPES: Record<SqlParamType, string> = { text: 'text', integer: 'integer', real: 'double precision' };

/** Key of the session-level advisory lock held while migrating (any constant unique to Assay). */
export const MIGRATION_LOCK_KEY = 4_172_839_405_616;

export const postgresAdapter: SqlDialectAdapter = {
  name: 'postgres',
  migrations: postgresMigrations,
  // READ COMMITTED; writers of one dataset or run are kept apart by row locks (supportsRowLocks).
  beginWrite: 'begin',
  supportsRowLocks: true,
  caseInsensitiveLike: 'ilike',
  isUniqueViolation: (e) => (e as { code?: string })?.code === '23505',
  isForeignKeyViolation: (e) => (e as { code?: string })?.code === '23503',
  indexed: (table) => sql.table(table),
  placeholder: (index, type) => (type ? `$${index}::${PG_TYPES[type]}` : `$${index}`),
  jsonObjectArray: (fields) =>
    sql<string>`coalesce(json_agg(json_build_object(${sql.join(fields.map(([k, v]) => sql`${sql.lit(k)}, ${v}`))}))::text, '[]')`,
  // The columns hold JSON as text: cast, then `->>` (booleans come back as 'true'/'false').
  jsonField: (json, key) => sql`((${json})::json ->> ${sql.lit(key)})`,
  // One simple-protocol message (no bound parameters, so pg sends it as one Query): the server
  // runs the statement and the commit back to back, and its locks never wait on this process.
  async commitWith(conn, statement) {
    await sql.raw(`${statement};\ncommit`).execute(conn);
  },
  // A session-level advisory lock on one connection, with the migrator running on that same
  // connection: a second process blocks in pg_advisory_lock until the first has committed, then
  // finds nothing left to do. Kysely's Migrator takes its own lock too, but only after creating
  // its bookkeeping tables (a race it survives by re-checking); one lock around everything keeps
  // the whole step serial. The lock dies with the session if the process does. Waiting for
  // another process's migration, and a migration itself, may take longer than the session
  // timeouts (see PostgresOptions) allow an ordinary statement: they are lifted on this connection
  // only, and reset to the session's defaults before it goes back to the pool.
  async withMigrationLock(db, fn) {
    return db.connection().execute(async (conn) => {
      await sql`set lock_timeout = 0`.execute(conn);
      await sql`set statement_timeout = 0`.execute(conn);
      try {
        await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`.execute(conn);
        try {
          return await fn(conn);
        } finally {
          await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`.execute(conn);
        }
      } finally {
        // A connection that broke during the migration is discarded by the pool anyway.
        await sql`reset lock_timeout`.execute(conn).catch(() => {});
        await sql`reset statement_timeout`.execute(conn).catch(() => {});
      }
    });
  },
};
