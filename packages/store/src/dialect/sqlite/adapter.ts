import { sql } from 'kysely';
import type { SqlDialectAdapter } from '../adapter.js';
import { sqliteMigrations } from './migrations.js';

/** SQLite (better-sqlite3, WAL): one writer at a time, so no row locks are needed. */
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
  placeholder: () => '?',
  jsonObjectArray: (fields) =>
    sql<string>`json_group_array(json_object(${sql.join(fields.map(([k, v]) => sql`${sql.lit(k)}, ${v}`))}))`,
  // A hint its planner must follow (an error, not a slow plan, if the index is ever missing).
  indexed: (table, index) => sql`${sql.table(table)} indexed by ${sql.id(index)}`,
  // `->>` (SQLite 3.38+) reads a key of JSON text as an SQL value (true/false as 1/0).
  jsonField: (json, key) => sql`(${json} ->> ${sql.lit(key)})`,
  // WAL with synchronous = NORMAL appends the commit to the WAL file without an fsync; SQLite
  // refuses to change the level inside a transaction, hence around it. A connection opened with
  // NORMAL (or OFF) already is left as it is. Pragmas are not writes to the storage guard, so the
  // level is put back even while the file is unavailable.
  async lightCommit(conn, transaction) {
    const level = (await sql<{ synchronous: number }>`pragma synchronous`.execute(conn)).rows[0]?.synchronous ?? 0;
    if (level < 2) return transaction();
    await sql`pragma synchronous = normal`.execute(conn);
    try {
      return await transaction();
    } finally {
      await sql.raw(`pragma synchronous = ${Number(level)}`).execute(conn);
    }
  },
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
