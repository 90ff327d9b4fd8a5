import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Clock, systemClock } from '@assay/core';
import { openSqlite, SqlStorage, sqliteAdapter } from '@assay/store';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteJobQueue } from '../src/index.js';

/** A clock whose time only moves when the test says so. */
function manualClock(start = 1_000_000): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => t, random: () => 0.5, sleep: systemClock.sleep, advance: (ms) => (t += ms) };
}

let dir: string;
let file: string;
const opened: { destroy(): Promise<void> }[] = [];

function open(clock: Clock, leaseMs = 1000, retryBaseMs = 1000) {
  const { db } = openSqlite({ file, synchronous: 'NORMAL' });
  opened.push(db);
  return { db, queue: new SqliteJobQueue(db, { leaseMs, clock, retryBaseMs, retryMaxMs: 8000, pollMs: 20 }) };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assay-queue-'));
  file = join(dir, 'q.db');
  await open(manualClock()).queue.migrate();
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteJobQueue on a real file', () => {
  it('claims atomically: two connections never get the same job', async () => {
    const clock = manualClock();
    const a = open(clock).queue;
    const b = open(clock).queue;
    for (let i = 0; i < 200; i++) await a.enqueue('work', { i });
    const seen: string[] = [];
    const drain = async (q: SqliteJobQueue) => {
      for (;;) {
        const job = await q.claim(['work']);
        if (!job) return;
        seen.push(job.id);
        await q.complete(job.id, job.lease_token);
      }
    };
    await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
    expect(await a.stats()).toEqual({});
  });

  it('claims atomically across real processes: 4 processes, 400 jobs, each claimed once', async () => {
    const { queue } = open(manualClock());
    for (let i = 0; i < 400; i++) await queue.enqueue('work', { i });
    const script = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', script, file], (err, stdout) =>
          err ? reject(err) : resolve(JSON.parse(stdout)),
        );
      });
    const all = (await Promise.all([run(), run(), run(), run()])).flat();
    expect(all).toHaveLength(400);
    expect(new Set(all).size).toBe(400);
  });

  it('only claims jobs of the named kinds and not before run_at', async () => {
    const clock = manualClock();
    const { queue } = open(clock);
    await queue.enqueue('later', {}, { delayMs: 500 });
    await queue.enqueue('other', {});
    expect(await queue.claim(['later'])).toBeUndefined();
    clock.advance(500);
    expect((await queue.claim(['later']))?.name).toBe('later');
  });

  it('an expired lease lets another worker take the job; the stale token is fenced off', async () => {
    const clock = manualClock();
    const a = open(clock, 1000).queue;
    const b = open(clock, 1000).queue;
    await a.enqueue('work', { n: 1 });
    const first = (await a.claim(['work']))!;
    expect(await b.claim(['work'])).toBeUndefined(); // lease held
    clock.advance(600);
    expect(await a.extend(first.id, first.lease_token)).toBe(true); // heartbeat pushes expiry to +1600
    clock.advance(600);
    expect(await b.claim(['work'])).toBeUndefined();
    clock.advance(1100);
    const second = (await b.claim(['work']))!;
    expect(second.id).toBe(first.id);
    expect(second.lease_token).toBeGreaterThan(first.lease_token);
    expect(second.attempts).toBe(2);
    // The old owner wakes up: every write with its token is rejected.
    expect(await a.extend(first.id, first.lease_token)).toBe(false);
    expect(await a.complete(first.id, first.lease_token)).toBe(false);
    expect(await a.fail(first, new Error('late'))).toBe('stale');
    expect(await a.release(first.id, first.lease_token)).toBe(false);
    expect(await b.complete(second.id, second.lease_token)).toBe(true);
    expect(await b.stats()).toEqual({});
  });

  it('dedup key: a second enqueue of unfinished work is a no-op; after completion it enqueues again', async () => {
    const { queue } = open(manualClock());
    const one = await queue.enqueue('work', { v: 1 }, { dedupKey: 'k' });
    const two = await queue.enqueue('work', { v: 2 }, { dedupKey: 'k' });
    expect(two).toEqual({ id: one.id, deduplicated: true });
    const job = (await queue.claim(['work']))!;
    expect(JSON.parse(job.payload)).toEqual({ v: 1 });
    // still active: deduplicated
    expect((await queue.enqueue('work', {}, { dedupKey: 'k' })).deduplicated).toBe(true);
    await queue.complete(job.id, job.lease_token);
    expect((await queue.enqueue('work', {}, { dedupKey: 'k' })).deduplicated).toBe(false);
  });

  it('retries with exponential backoff and jitter, then gives up after maxAttempts', async () => {
    const clock = manualClock();
    const { queue, db } = open(clock);
    await queue.enqueue('work', {}, { maxAttempts: 3 });
    const runAt = async () =>
      Number((await sql<{ run_at: number }>`SELECT run_at FROM assay_jobs`.execute(db)).rows[0].run_at);
    let job = (await queue.claim(['work']))!;
    expect(await queue.fail(job, new Error('boom 1'))).toBe('retry');
    // random() = 0.5 → delay = exp/2 + exp/4 = 0.75 × 1000
    expect((await runAt()) - clock.now()).toBe(750);
    expect(await queue.claim(['work'])).toBeUndefined();
    clock.advance(750);
    job = (await queue.claim(['work']))!;
    expect(job.attempts).toBe(2);
    expect(await queue.fail(job, new Error('boom 2'))).toBe('retry');
    expect((await runAt()) - clock.now()).toBe(1500);
    clock.advance(1500);
    job = (await queue.claim(['work']))!;
    expect(await queue.fail(job, new Error('boom 3'))).toBe('failed');
    clock.advance(100_000);
    expect(await queue.claim(['work'])).toBeUndefined();
    const row = (
      await sql<{ status: string; last_error: string }>`SELECT status, last_error FROM assay_jobs`.execute(db)
    ).rows[0];
    expect(row).toEqual({ status: 'failed', last_error: 'boom 3' });
  });

  it('enqueue joins the store transaction: rollback leaves no job, commit leaves one', async () => {
    const { db, queue } = open(manualClock());
    const storage = new SqlStorage(db, sqliteAdapter);
    await expect(
      storage.transaction(async (tx) => {
        await queue.enqueue('work', { n: 1 }, { tx });
        throw new Error('abort the transaction');
      }),
    ).rejects.toThrow('abort the transaction');
    expect(await queue.stats()).toEqual({});
    await storage.transaction(async (tx) => {
      await queue.enqueue('work', { n: 2 }, { tx });
    });
    expect(await queue.stats()).toEqual({ queued: 1 });
  });

  it('frees at once the jobs of a dead process on this host', async () => {
    const clock = manualClock();
    const { queue, db } = open(clock, 60_000);
    await queue.enqueue('work', {});
    await queue.claim(['work']);
    // Pretend the owner was a process that no longer exists.
    await sql`UPDATE assay_jobs SET locked_by = ${`${(await import('node:os')).hostname()}:999999:w_x`}`.execute(db);
    expect(await queue.claim(['work'])).toBeUndefined();
    expect(await queue.reclaimDead()).toBe(1);
    expect((await queue.claim(['work']))?.attempts).toBe(2);
  });
});
