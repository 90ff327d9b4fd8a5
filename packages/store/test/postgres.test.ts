import type { Clock, ItemOutcome } from '@assay/core';
import { ManualClock } from '@assay/testkit/clock';
import { createTestDatabase, describeWithService, pgAvailable, type TestDatabase } from '@assay/testkit/vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../src/dialect/postgres/adapter.js';
import type { SqlStorage } from '../src/index.js';
import { createPostgresStorage } from '../src/postgres.js';
import { createPendingRun } from './runs.js';

/** What only PostgreSQL can get wrong: several processes (pools) on one database at once. */
describeWithService(await pgAvailable())('PostgreSQL adapter', () => {
  let database: TestDatabase;
  const open: SqlStorage[] = [];
  /** A storage with its own pool, as a separate process would have; closed after the file. */
  const connect = (max = 4, clock?: Clock) => {
    const storage = createPostgresStorage({ connectionString: database.url, max, clock });
    open.push(storage);
    return storage;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await connect().migrate();
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await database?.drop();
  });

  const seedRun = async (storage: SqlStorage, n: number) => {
    const ds = await storage.createDataset({ name: `seed-${n}` });
    const { items, version } = await storage.addItems(
      ds.id,
      Array.from({ length: n }, (_, i) => ({ input: i })),
    );
    const runId = await createPendingRun(storage, ds.id, version, { scorerIds: ['a', 'b'], totalItems: n });
    let cursor: string | null = '';
    while (cursor !== null) ({ cursor } = await storage.planRunItems(runId, cursor, 1000));
    return { runId, items };
  };
  const tokens = new Map<string, number>();
  /** Claims every item of a run for `workerId`, recording the claim tokens. */
  const claimAll = async (storage: SqlStorage, runId: string, workerId: string, leaseMs = 60_000) => {
    const ids: string[] = [];
    for (;;) {
      const batch = await storage.claimWork(runId, workerId, 1000, leaseMs);
      if (!batch.length) return ids;
      for (const c of batch) {
        tokens.set(c.itemId, c.claimToken);
        ids.push(c.itemId);
      }
    }
  };
  const outcome = (itemId: string, status: 'succeeded' | 'failed', scorerId: string): ItemOutcome => ({
    itemId,
    claimToken: tokens.get(itemId) ?? -1,
    workerId: 'w',
    repetition: 0,
    status,
    attempt: 1,
    output: status,
    error: status === 'failed' ? { message: 'no', code: 'X', retryable: false } : null,
    latencyMs: 1,
    usage: null,
    startedAt: new Date().toISOString(),
    completedAt: new Date().toISOString(),
    scores: [{ scorerId, score: 1, reason: null, error: null }],
  });
  const finalCounts = async (storage: SqlStorage, runId: string) => {
    const rows = await storage.db
      .selectFrom('run_items')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('run_id', '=', runId)
      .groupBy('status')
      .execute();
    const of = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    return { succeeded: of('succeeded'), failed: of('failed') };
  };

  it('migrates a fresh database once when several processes start together', async () => {
    const fresh = await createTestDatabase();
    const local: SqlStorage[] = [];
    const process = () => {
      const storage = createPostgresStorage({ connectionString: fresh.url, max: 2 });
      local.push(storage);
      return storage;
    };
    try {
      // While another session holds the migration lock, a migrator waits and creates nothing.
      const holder = new pg.Client({ connectionString: fresh.url });
      await holder.connect();
      await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const first = process().migrate();
      await new Promise((r) => setTimeout(r, 300));
      const { rows } = await holder.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`);
      expect(rows[0].n).toBe(0);
      const others = Array.from({ length: 5 }, () => process().migrate());
      await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      await holder.end();
      await Promise.all([first, ...others]);

      const storage = process();
      const applied = await sql<{ name: string }>`select name from assay_migrations order by name`.execute(storage.db);
      expect(applied.rows.map((r) => r.name)).toEqual([
        '0001_init',
        '0002_cancel_retry_idempotency',
        '0003_item_claims',
        '0004_usage_default_scorers',
        '0005_lost_claims',
        '0006_latency_index',
        '0007_target_cache',
        '0008_model_call_cache',
        '0009_score_usage',
        '0010_result_trace',
      ]);
      await storage.migrate(); // and again later: nothing to do
      const ds = await storage.createDataset({ name: 'after-migrate' });
      expect((await storage.addItems(ds.id, [{ input: 1 }])).version).toBe(1);
    } finally {
      await Promise.all(local.map((s) => s.close()));
      await fresh.drop();
    }
  });

  it('counts each item once when two processes write the same outcomes under one claim', async () => {
    const a = connect();
    const b = connect();
    const { runId, items } = await seedRun(a, 600);
    await claimAll(a, runId, 'w');
    // A reports every item succeeded (scorer a), B failed (scorer b), in opposite orders, in
    // batches, at the same time: each item must end with exactly one of them, scores included.
    const write = async (storage: SqlStorage, ids: string[], status: 'succeeded' | 'failed', scorer: string) => {
      for (let i = 0; i < ids.length; i += 50) {
        await storage.writeOutcomes(
          runId,
          ids.slice(i, i + 50).map((id) => outcome(id, status, scorer)),
        );
      }
    };
    const ids = items.map((i) => i.id);
    await Promise.all([
      write(a, ids, 'succeeded', 'a'),
      write(b, [...ids].reverse(), 'failed', 'b'),
      write(a, ids.slice(100, 300), 'succeeded', 'a'),
      write(b, ids.slice(200, 400), 'failed', 'b'),
    ]);
    const stored = await finalCounts(a, runId);
    expect(stored.succeeded + stored.failed).toBe(600);
    expect(stored.succeeded).toBeGreaterThan(0);
    expect(stored.failed).toBeGreaterThan(0);
    const run = (await b.getRun(runId))!;
    expect({ succeeded: run.succeededCount, failed: run.failedCount }).toEqual(stored);
    const mismatched = await sql<{ n: number }>`select count(*) as n from run_items ri join scores s
        on s.run_id = ri.run_id and s.item_id = ri.item_id and s.repetition = ri.repetition
        where ri.run_id = ${runId} and s.scorer_id <> case ri.status when 'succeeded' then 'a' else 'b' end`.execute(
      a.db,
    );
    expect(mismatched.rows[0].n).toBe(0);
    const scored = await a.db
      .selectFrom('scores')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(scored.n).toBe(600);
  });

  it('drops every outcome of a worker whose claims were taken over, and claims never overlap', async () => {
    // The processes share one manual clock: A's lease runs out when the test moves it.
    const clock = new ManualClock();
    const a = connect(4, clock);
    const b = connect(4, clock);
    const { runId, items } = await seedRun(a, 400);
    const ids = items.map((i) => i.id);
    const first = await a.claimWork(runId, 'A', 1000, 1);
    expect(first).toHaveLength(400);
    const old = new Map(first.map((c) => [c.itemId, c.claimToken]));
    await clock.advance(2);
    // Four processes reclaim concurrently: every item exactly once.
    const c = connect(4, clock);
    const d = connect(4, clock);
    const grabbed = (await Promise.all([b, c, d, b].map((s, i) => claimAll(s, runId, `W${i}`)))).flat();
    expect(grabbed).toHaveLength(400);
    expect(new Set(grabbed).size).toBe(400);
    const late = ids.map((id) => ({ ...outcome(id, 'succeeded', 'a'), claimToken: old.get(id)! }));
    expect(await a.writeOutcomes(runId, late)).toEqual({ succeeded: 0, failed: 0 });
    expect(
      await b.writeOutcomes(
        runId,
        ids.map((id) => outcome(id, 'failed', 'b')),
      ),
    ).toEqual({ succeeded: 0, failed: 400 });
    expect(await finalCounts(a, runId)).toEqual({ succeeded: 0, failed: 400 });
  });

  it('plans 10,000 items and claims all of them in key order', async () => {
    const storage = connect();
    const { runId, items } = await seedRun(storage, 10_000);
    const seen = await claimAll(storage, runId, 'w');
    expect(seen).toHaveLength(10_000);
    // Byte order, as in SQLite (ids are COLLATE "C") and as JavaScript compares strings.
    expect(seen).toEqual(items.map((i) => i.id).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    const { n } = await storage.db
      .selectFrom('run_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(n).toBe(10_000); // int8 arrives as a number
  });

  it('works on a pool of one connection (a write never needs a second one)', async () => {
    const storage = connect(1);
    await storage.migrate();
    const { runId, items } = await seedRun(storage, 3);
    const datasetId = (await storage.getRun(runId))!.datasetId;
    await Promise.all([
      storage.updateItems(datasetId, [{ id: items[1].id, input: 'new' }]),
      storage.addItems(datasetId, [{ input: 'more', externalId: 'e' }]),
      storage.updateDataset(datasetId, { description: 'one connection' }),
    ]);
    await storage.deleteItems(datasetId, [items[1].id]);
    await claimAll(storage, runId, 'w');
    await Promise.all([
      storage.writeOutcomes(runId, [outcome(items[0].id, 'failed', 'a')]),
      storage.closePendingItems(runId, 'skipped'),
      storage.listResults(runId, { page: 0, perPage: 10 }),
    ]);
    expect(await storage.transaction((tx) => tx.resetForRetry(runId))).toBeGreaterThan(0);
  });
});
