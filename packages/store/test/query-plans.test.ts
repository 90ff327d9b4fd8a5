/**
 * SQLite plans the work ledger's statements without statistics (no ANALYZE has run), and then
 * picks the primary key (run_id, item_id, repetition) for "this run's running items": a read of
 * every row of the run, 100–400 ms on a 1,000,000-item run, on the thread that serves HTTP — every
 * lease renewal (every leaseMs / 3) and every claim of expired work at the end of a run (issue 10,
 * H1). This test runs each ledger statement that looks for a run's items by status and checks, with
 * EXPLAIN QUERY PLAN on the statement exactly as it was sent, that it goes through an index on
 * (run_id, status) instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@assay/testkit/clock';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { type DB, SqlStorage, type SqlStorageOptions, sqliteAdapter } from '../src/index.js';
import { createPendingRun } from './runs.js';

const dir = mkdtempSync(join(tmpdir(), 'assay-plans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A store on a fresh SQLite file (`<name>.db`) that records every statement it sends (SQL and
 * parameters), with a planned run of a 40-item dataset; the record starts empty.
 */
async function recordingStore(name: string, options: SqlStorageOptions) {
  const raw = new Database(join(dir, `${name}.db`));
  const sent: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<DB>({
    dialect: new SqliteDialect({ database: raw }),
    log: (e) => {
      if (e.level === 'query') sent.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  const storage = new SqlStorage(db, sqliteAdapter, options);
  await storage.migrate();
  const ds = await storage.createDataset({ name });
  const { version } = await storage.addItems(
    ds.id,
    Array.from({ length: 40 }, (_, i) => ({ input: i })),
  );
  const runId = await createPendingRun(storage, ds.id, version);
  for (let cursor: string | null = ''; cursor !== null; ) ({ cursor } = await storage.planRunItems(runId, cursor, 100));
  sent.length = 0;
  return { raw, sent, storage, runId };
}

it("the ledger finds a run's queued and running items through the claim index, never by reading the whole run", async () => {
  const clock = new ManualClock({ now: Date.UTC(2026, 0, 1) });
  const { raw, sent, storage, runId } = await recordingStore('plans', { clock });
  await storage.claimWork(runId, 'A', 10, 1_000);
  await storage.extendClaims(runId, 'A', 1_000);
  await storage.listClaimOwners(runId);
  clock.advance(5_000);
  await storage.claimWork(runId, 'B', 40, 1_000); // 30 queued, then 10 whose lease ran out
  await storage.releaseClaims(runId, 'B', true);
  await storage.closePendingItems(runId, 'cancelled');

  const byStatus = sent.filter((q) => /\brun_items\b/.test(q.sql) && /\bstatus\b/.test(q.sql));
  expect(byStatus.length).toBeGreaterThanOrEqual(6);
  for (const q of byStatus) {
    const plan = raw
      .prepare(`explain query plan ${q.sql}`)
      .all(...(q.parameters as unknown[]))
      .map((r) => (r as { detail: string }).detail);
    const readsRun = plan.filter((d) => /\brun_items\b/.test(d));
    expect(readsRun.length, q.sql).toBeGreaterThan(0);
    for (const d of readsRun)
      expect(d, `${q.sql}\n${plan.join('\n')}`).toMatch(/INDEX run_items_claim|PRIMARY KEY \(run_id=\? AND item_id=\?/);
  }
  await storage.close();
});

it('the summary and the score cards read a run range by range of its primary key, never the whole run in one statement', async () => {
  const { raw, sent, storage, runId } = await recordingStore('ranges', { analysisRangeRows: 7 });
  await storage.summarizeRun(runId);
  await storage.scoreStats(runId, 10);
  const aggregates = sent.filter((q) => /\b(run_items|scores)\b/.test(q.sql) && /\b(count|sum)\(/.test(q.sql));
  expect(aggregates.length).toBeGreaterThanOrEqual(5 * 6); // ≥ 6 ranges of 7 rows, 5 aggregates each
  for (const q of aggregates) {
    const plan = raw
      .prepare(`explain query plan ${q.sql}`)
      .all(...(q.parameters as unknown[]))
      .map((r) => (r as { detail: string }).detail)
      .filter((d) => /\b(run_items|scores)\b/.test(d));
    for (const d of plan) expect(d, `${q.sql}\n${plan.join('\n')}`).toMatch(/PRIMARY KEY \(run_id=\? AND item_id[<>]/);
  }
  await storage.close();
});
