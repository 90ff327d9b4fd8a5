import type { Clock } from '@assay/core';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from '../db-types.js';
import type { SqlDialectAdapter } from '../dialect/adapter.js';

/** A connection or an open transaction: reads take either. */
export type Db = Kysely<DB> | Transaction<DB>;

/** Runs `fn` in one write transaction on one connection (see {@link createWriter}). */
export type Write = <T>(
  fn: (trx: Transaction<DB>) => Promise<T>,
  /** A last statement (literals only) for `fn`'s result, sent with the commit where the engine can. */
  last?: ((result: T) => RawBuilder<unknown> | undefined) | null,
  /**
   * `light`: losing this write in a power cut harms nothing (a claim), so where the engine can,
   * its commit does not wait for the disk ({@link SqlDialectAdapter.lightCommit}).
   */
  opts?: { light?: boolean },
) => Promise<T>;

/**
 * What every query module of the store takes: the database, the dialect adapter (its
 * capabilities and SQL fragments), the clock all stored times come from, and the write helper.
 */
export interface SqlContext {
  readonly db: Kysely<DB>;
  readonly adapter: SqlDialectAdapter;
  readonly clock: Clock;
  readonly write: Write;
}

/** The clock's time as the ISO-8601 text stored in timestamp columns. */
export const isoNow = (clock: Clock): string => new Date(clock.now()).toISOString();

/**
 * Lets timers, requests and lease renewals in between the statements of a long read: SQLite
 * answers synchronously, so awaiting one query after another never returns to the event loop.
 */
export const breathe = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** The write helper: `beginWrite`, `fn`, then the commit (with `last` where the engine can). */
export function createWriter(db: Kysely<DB>, adapter: SqlDialectAdapter): Write {
  return (fn, last, opts) =>
    db.connection().execute(async (conn) => {
      const transaction = () => writeOn(conn, adapter, fn, last ?? undefined);
      return opts?.light && adapter.lightCommit ? adapter.lightCommit(conn, transaction) : transaction();
    });
}

async function writeOn<T>(
  conn: Kysely<DB>,
  adapter: SqlDialectAdapter,
  fn: (trx: Transaction<DB>) => Promise<T>,
  last: ((result: T) => RawBuilder<unknown> | undefined) | undefined,
): Promise<T> {
  await sql.raw(adapter.beginWrite).execute(conn);
  try {
    // A Kysely connection is usable as a transaction-scoped executor for our queries.
    const result = await fn(conn as unknown as Transaction<DB>);
    const statement = last?.(result);
    if (statement && adapter.commitWith) {
      const q = statement.compile(conn);
      if (q.parameters.length) throw new Error('a statement sent with the commit must have no bound parameters');
      await adapter.commitWith(conn, q.sql);
    } else {
      if (statement) await statement.execute(conn);
      await sql.raw('commit').execute(conn);
    }
    return result;
  } catch (e) {
    await sql
      .raw('rollback')
      .execute(conn)
      .catch(() => {});
    throw e;
  }
}

/**
 * Reads a run inside a write transaction; on engines with row locks it also locks the row, so
 * writers of one run (planning, retry, cancel) run one at a time. Outcome writes do not take it
 * first (see the ledger's writeOutcomes): they are fenced per run-item row.
 */
export async function lockRun(ctx: SqlContext, trx: Transaction<DB>, runId: string) {
  let q = trx.selectFrom('runs').select(['fence', 'dataset_id', 'dataset_version', 'options']).where('id', '=', runId);
  if (ctx.adapter.supportsRowLocks) q = q.forNoKeyUpdate();
  return q.executeTakeFirst();
}

/** Orders run items by (itemId, repetition). */
export const byItemKey = (x: { itemId: string; repetition: number }, y: { itemId: string; repetition: number }) =>
  x.itemId < y.itemId ? -1 : x.itemId > y.itemId ? 1 : x.repetition - y.repetition;
