import { createLocalLimiter, type Target, type TargetLimiter } from '@assay/core';
import { REDIS_URL, servicesUp } from '@assay/testkit/services';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisLimiter } from '../src/redis-limits.js';

const up = await servicesUp('Redis limiter tests', { redis: true });

const target = (over: Partial<Target>): Target => ({
  id: `t-${process.pid}-${Math.random().toString(36).slice(2)}`,
  type: 'function',
  run: () => null,
  ...over,
});

/** Calls `n` times through the limiters in turn; records concurrency and start times. */
async function hammer(limiters: TargetLimiter[], t: Target, n: number, workMs: number) {
  let active = 0;
  let peak = 0;
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const release = await limiters[i % limiters.length].acquire(t, new AbortController().signal);
      active++;
      peak = Math.max(peak, active);
      starts.push(Date.now());
      await new Promise((r) => setTimeout(r, workMs));
      active--;
      release();
    }),
  );
  return { peak, starts: starts.sort((a, b) => a - b) };
}

/**
 * The most calls that started within any window of `perMs` minus a 50 ms slack: the test records
 * a start when its promise resolves, which a busy event loop can delay after the limiter's grant.
 */
const busiestWindow = (starts: number[], windowMs: number) => {
  const perMs = windowMs - 50;
  let most = 0;
  for (let i = 0, j = 0; j < starts.length; j++) {
    while (starts[j] - starts[i] >= perMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
};

describe('target limits in one process', () => {
  it('maxConcurrency and rateLimit hold, and a waiting call gives up when its signal aborts', async () => {
    const limiter = createLocalLimiter();
    const t = target({ maxConcurrency: 3, rateLimit: { max: 6, perMs: 300 } });
    const { peak, starts } = await hammer([limiter], t, 15, 20);
    expect(peak).toBe(3);
    expect(busiestWindow(starts, 300)).toBeLessThanOrEqual(6);

    const one = target({ maxConcurrency: 1 });
    const held = await limiter.acquire(one, new AbortController().signal);
    const ac = new AbortController();
    const waiting = limiter.acquire(one, ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    held();
    // The aborted waiter did not take the slot: the next caller gets it.
    (await limiter.acquire(one, new AbortController().signal))();
  });
});

describe.skipIf(!up)('target limits across workers (Redis)', () => {
  const open: TargetLimiter[] = [];
  const limiter = (holdMs?: number) => {
    const l = createRedisLimiter(REDIS_URL, { prefix: `assay-test-limits-${process.pid}`, holdMs });
    open.push(l);
    return l;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((l) => l.close?.()));
  });

  it('maxConcurrency holds across three workers together, and every call gets its turn', async () => {
    const t = target({ maxConcurrency: 4 });
    const { peak, starts } = await hammer([limiter(), limiter(), limiter()], t, 40, 15);
    expect(starts).toHaveLength(40);
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThan(1); // the workers really share the slots
  });

  it('rateLimit holds across workers: never more than max starts in any window', async () => {
    const t = target({ rateLimit: { max: 5, perMs: 400 } });
    const { starts } = await hammer([limiter(), limiter()], t, 15, 1);
    expect(starts).toHaveLength(15);
    expect(busiestWindow(starts, 400)).toBeLessThanOrEqual(5);
  });

  it('a waiting call aborts at once; slots of a worker that died free themselves after holdMs', async () => {
    const t = target({ maxConcurrency: 1 });
    const dying = limiter(300);
    await dying.acquire(t, new AbortController().signal); // never released: the worker "dies"
    await dying.close?.();

    const other = limiter(300);
    const ac = new AbortController();
    const waiting = other.acquire(t, ac.signal);
    setTimeout(() => ac.abort(new Error('run cancelled')), 50);
    await expect(waiting).rejects.toThrow('run cancelled');
    // After the dead holder's hold ran out, the slot is free again.
    const release = await other.acquire(t, new AbortController().signal);
    release();
  });
});
