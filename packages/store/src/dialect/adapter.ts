import type { Kysely, Migration, RawBuilder } from 'kysely';
import type { DB } from '../db-types.js';

/** Column types a bound parameter may need to be declared as (see {@link SqlDialectAdapter.placeholder}). */
export type SqlParamType = 'text' | 'integer' | 'real';

/**
 * What differs between SQL engines; everything else is shared Kysely code. Differences are
 * capabilities and small SQL fragments, never `if (dialect === …)` in the queries.
 */
export interface SqlDialectAdapter {
  readonly name: string;
  readonly migrations: Record<string, Migration>;
  /** Statement that opens a write transaction (SQLite takes the write lock up front). */
  readonly beginWrite: string;
  /**
   * True when a write transaction must lock the rows it reads with `select … for update` to keep
   * concurrent writers apart (PostgreSQL). False when `beginWrite` already serializes all writers
   * (SQLite's `begin immediate` holds the database's single write lock).
   */
  readonly supportsRowLocks: boolean;
  /** `like` operator that ignores (at least ASCII) case: SQLite's `like` does, PostgreSQL needs `ilike`. */
  readonly caseInsensitiveLike: 'like' | 'ilike';
  /** True when a unique-constraint violation error comes from this engine. */
  isUniqueViolation(error: unknown): boolean;
  /** True when a foreign-key violation error comes from this engine (e.g. a run whose dataset is gone). */
  isForeignKeyViolation(error: unknown): boolean;
  /**
   * The text of bound parameter number `index` (1-based) in SQL built by hand, declared as `type`
   * where the engine cannot infer it (a `VALUES` list feeding an `insert … select`: PostgreSQL
   * would type every parameter as text). Placeholders must appear in the text in index order
   * (SQLite numbers its `?` by position).
   */
  placeholder(index: number, type: SqlParamType | null): string;
  /**
   * An aggregate expression folding the rows it runs over into a JSON array (as text) of objects
   * with these fields, in this order; `'[]'` when there are no rows.
   */
  jsonObjectArray(fields: [key: string, value: RawBuilder<unknown>][]): RawBuilder<string>;
  /**
   * `table` in a FROM or UPDATE clause, read through `index`: SQLite's `INDEXED BY` where its
   * planner, without statistics, would pick the primary key and scan every row of a run (the
   * running items of a 1,000,000-item run: 100–400 ms per lease renewal); PostgreSQL plans from the
   * statistics autovacuum keeps, so the plain table.
   */
  indexed(table: string, index: string): RawBuilder<unknown>;
  /** One top-level key of a JSON text column as SQL text (`->>`), e.g. the code of a stored error. */
  jsonField(json: RawBuilder<unknown>, key: string): RawBuilder<unknown>;
  /**
   * Runs `fn` (the migrator, on the connection it is given) while holding a lock that every other
   * process migrating the same database waits for, so processes starting together migrate once.
   * `fn` throws when a migration failed.
   */
  withMigrationLock<T>(db: Kysely<DB>, fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  /**
   * Optional: sends `statement` (SQL text without bound parameters) and the commit of the open
   * transaction to the server as one message, so the locks the statement takes are released by
   * the server alone, whatever happens to this process meanwhile (a process stopped between two
   * round trips would hold them). Rows the statement returns are not read. Without it, the
   * statement and the commit are two round trips.
   */
  commitWith?(conn: Kysely<DB>, statement: string): Promise<void>;
  /**
   * Optional: runs `transaction` (a whole write transaction on `conn`, begin to commit) so that its
   * commit does not wait for the disk. Only for writes whose loss in a power cut or an OS crash
   * harms nothing, because nothing was promised on them: a claim (its items are queued again, as
   * after any lost lease). A process crash loses nothing (the commit has reached the OS), and the
   * next durable commit makes it durable too. Without it, every commit waits for the disk.
   */
  lightCommit?<T>(conn: Kysely<DB>, transaction: () => Promise<T>): Promise<T>;
}
