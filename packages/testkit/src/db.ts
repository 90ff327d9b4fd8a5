/** Reading a local-mode server's SQLite file directly, to check what the API says against the rows. */
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Item statuses after which an item of a run is done. */
export const FINAL_ITEM_STATUSES = ['succeeded', 'failed', 'cancelled', 'skipped'];

/** Opens `<dataDir>/assay.db` read-only, runs `fn`, closes it. */
export function withDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'assay.db'), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Count of a run's run_items rows per status, straight from the database. */
export function itemStatusCounts(dataDir: string, runId: string): Record<string, number> {
  return withDb(dataDir, (db) => {
    const rows = db
      .prepare('SELECT status, count(*) AS n FROM run_items WHERE run_id = ? GROUP BY status')
      .all(runId) as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  });
}

/** How many items of {@link itemStatusCounts}' answer are in a final status. */
export const finalItems = (counts: Record<string, number>): number =>
  FINAL_ITEM_STATUSES.reduce((a, s) => a + (counts[s] ?? 0), 0);
