import type { Clock } from '@assay/core';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from '../../db-types.js';
import { SqlStorage } from '../../sql-storage.js';
import { postgresAdapter } from './adapter.js';

/** int8 (count(*), sum(), bigint ids) as a number when it fits exactly, else the string pg gives. */
const parseInt8 = (v: string): number | string => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};

// Per pool, so other users of `pg` in the process keep pg's defaults.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PostgresOptions {
  /** libpq-style URL, e.g. `postgres://assay@db.internal:5432/assay` (the `ASSAY_DATABASE_URL`). */
  connectionString: string;
  /** Most connections the pool opens. Default 10. One is enough: a write holds one connection. */
  max?: number;
  /**
   * Called with errors of idle pooled connections (the server restarted, the network dropped);
   * the pool drops such a connection and opens a new one on demand. Default: ignore them.
   */
  onPoolError?: (error: Error) => void;
  /**
   * PostgreSQL's `idle_in_transaction_session_timeout`, in ms: the server ends a session that
   * sits inside a transaction this long without sending its next statement, which rolls the
   * transaction back and frees its locks. Assay's transactions only ever wait for the database
   * between two statements, so this fires only for a process that stopped (SIGSTOP, a paused VM,
   * a blocked event loop) with locks that other workers need. Keep it well below the lease.
   * 0 disables it. Default 5 000.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * PostgreSQL's `lock_timeout`, in ms: a statement that waits longer than this for a lock fails
   * (and its write is retried by the caller) instead of waiting for ever. Above
   * `idleInTransactionTimeoutMs`, so a lock held by a stopped process is freed before its
   * waiters give up. 0 disables it. Default 10 000.
   */
  lockTimeoutMs?: number;
  /**
   * PostgreSQL's `statement_timeout`, in ms: the longest any one statement may run (migrations
   * are exempt). 0 disables it. Default 60 000.
   */
  statementTimeoutMs?: number;
  /** Where the store's times come from (timestamps, claim leases). Default the system clock. */
  clock?: Clock;
}

/** Default session timeouts, in ms (see {@link PostgresOptions}). */
export const POSTGRES_TIMEOUTS = {
  idleInTransactionTimeoutMs: 5_000,
  lockTimeoutMs: 10_000,
  statementTimeoutMs: 60_000,
} as const;

/**
 * The startup `options` that set the session timeouts on every connection the pool opens (no
 * extra round trip, and in force before the first statement). An `options` parameter in the
 * connection string replaces them (pg's rule), so an operator can still set them there.
 */
export function sessionOptions(opts: PostgresOptions): string {
  const ms = (v: number | undefined, fallback: number, what: string) => {
    const n = v ?? fallback;
    if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number of ms, 0 or more (got ${v})`);
    return n;
  };
  const t = POSTGRES_TIMEOUTS;
  return [
    `-c idle_in_transaction_session_timeout=${ms(opts.idleInTransactionTimeoutMs, t.idleInTransactionTimeoutMs, 'idleInTransactionTimeoutMs')}`,
    `-c lock_timeout=${ms(opts.lockTimeoutMs, t.lockTimeoutMs, 'lockTimeoutMs')}`,
    `-c statement_timeout=${ms(opts.statementTimeoutMs, t.statementTimeoutMs, 'statementTimeoutMs')}`,
  ].join(' ');
}

/**
 * Opens a pooled PostgreSQL connection for the store.
 *
 * @example
 * const { db, pool } = openPostgres({ connectionString: process.env.ASSAY_DATABASE_URL! });
 * const storage = new SqlStorage(db, postgresAdapter);
 */
export function openPostgres(opts: PostgresOptions): { db: Kysely<DB>; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    application_name: 'assay',
    options: sessionOptions(opts),
    types,
  });
  // Without a listener a connection's error would crash the process: the pool listens on idle
  // connections; a connection that is checked out (between two statements of a transaction) when
  // the server goes away emits on the client itself. Its statements then fail (and are retried by
  // the caller), and the pool discards it when it is released.
  const onError = opts.onPoolError ?? (() => {});
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

/**
 * A ready {@link SqlStorage} on PostgreSQL (call `migrate()` before use; `close()` ends the pool).
 *
 * @example
 * const storage = createPostgresStorage({ connectionString: 'postgres://postgres@127.0.0.1:5432/assay' });
 * await storage.migrate();
 */
export function createPostgresStorage(opts: PostgresOptions): SqlStorage {
  const { db, pool } = openPostgres(opts);
  // Kysely ends the pool only if it ever used it.
  return new SqlStorage(db, postgresAdapter, {
    clock: opts.clock,
    onClose: async () => {
      if (!pool.ended) await pool.end();
    },
  });
}
