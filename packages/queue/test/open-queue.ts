// Opens a queue adapter from a plain config, in the test process or in a child process
// (queue-worker.ts), so both sides of a crash test reach the same jobs. No vitest imports here.
import type { JobQueue } from '@assay/core';
import { openSqlite } from '@assay/store';
import { SqliteJobQueue } from '../src/index.js';
import { BullJobQueue } from '../src/redis.js';

export interface Tuning {
  /** Lock (lease) length in ms. */
  lockMs: number;
  /** First retry delay in ms. */
  retryBaseMs: number;
}

export type QueueConfig = Tuning &
  ({ adapter: 'sqlite'; file: string } | { adapter: 'bullmq'; url: string; prefix: string });

/** A queue and what to call to let go of it (its handle on the file or Redis). */
export async function openQueue(config: QueueConfig): Promise<{ queue: JobQueue; close(): Promise<void> }> {
  if (config.adapter === 'sqlite') {
    const { db } = openSqlite({ file: config.file, synchronous: 'NORMAL' });
    const queue = new SqliteJobQueue(db, { leaseMs: config.lockMs, retryBaseMs: config.retryBaseMs, pollMs: 20 });
    await queue.migrate();
    return { queue, close: () => db.destroy() };
  }
  const queue = new BullJobQueue({
    connection: config.url,
    prefix: config.prefix,
    lockDurationMs: config.lockMs,
    // Frequent checks so a crashed worker's job comes back soon after its lock expired.
    stalledIntervalMs: Math.max(100, Math.floor(config.lockMs / 4)),
    retryBaseMs: config.retryBaseMs,
  });
  return { queue, close: () => queue.close() };
}
