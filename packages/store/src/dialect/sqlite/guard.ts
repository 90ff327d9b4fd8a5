import { StorageUnavailableError } from '@assay/core';
import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import type { SqliteHealth } from './health.js';

/** Prepared statements kept per database (by SQL text). */
const STATEMENT_CACHE = 200;

/**
 * The better-sqlite3 database as Kysely sees it, with the storage health in between: while the
 * file is unavailable (deleted, replaced, read-only) every statement that would write fails at
 * once with {@link StorageUnavailableError} (503 `STORAGE_UNAVAILABLE`) instead of writing into a
 * file nobody will see again; reads go on. SQLite's I/O and read-only errors are reported to the
 * health and surface as the same error. `begin immediate` counts as a write; `commit` and
 * `rollback` do not, so a transaction can always be ended.
 */
export function guardedDatabase(raw: Database.Database, health: SqliteHealth): SqliteDatabase {
  // Kysely prepares every query it runs; preparing a large statement (a batch upsert of hundreds of
  // rows) costs more than running it. Statements are kept by their text, most recently used last.
  const statements = new Map<string, Database.Statement>();
  const prepared = (sqlText: string) => {
    let stmt = statements.get(sqlText);
    if (stmt) statements.delete(sqlText);
    else {
      stmt = raw.prepare(sqlText);
      if (statements.size >= STATEMENT_CACHE) statements.delete(statements.keys().next().value!);
    }
    statements.set(sqlText, stmt);
    return stmt;
  };
  return {
    close() {
      health.close();
      statements.clear();
      raw.close();
    },
    prepare(sqlText: string): SqliteStatement {
      const stmt = prepared(sqlText);
      const guard = <T>(fn: () => T): T => {
        if (!stmt.readonly) {
          const state = health.current();
          if (!state.ok) throw new StorageUnavailableError(state.reason);
        }
        try {
          return fn();
        } catch (e) {
          if (e instanceof StorageUnavailableError) throw e;
          health.reportError(e);
          const state = health.current();
          if (!state.ok) throw new StorageUnavailableError(state.reason, { cause: e });
          throw e;
        }
      };
      return {
        reader: stmt.reader,
        all: (params) => guard(() => stmt.all(params as unknown[])),
        run: (params) => guard(() => stmt.run(params as unknown[])),
        // A statement being iterated is busy until the iterator ends: a stream gets one of its own.
        iterate: (params) => {
          const own = raw.prepare(sqlText);
          return guard(() => own.iterate(params as unknown[]));
        },
      };
    },
  };
}
