import { randomBytes } from 'node:crypto';
import { deleteKeys, describeWithService, REDIS_URL, redisAvailable } from '@assay/testkit/vitest';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { BullJobQueue } from '../src/redis.js';

// BullMQ-specific behaviour; what every adapter must do is in queue.contract.test.ts.

describe('BullJobQueue.parseRedisUrl', () => {
  it('reads host, port, database, credentials and TLS', () => {
    expect(BullJobQueue.parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(BullJobQueue.parseRedisUrl('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(BullJobQueue.parseRedisUrl('redis://app:p%40ss@cache/0')).toEqual({
      host: 'cache',
      port: 6379,
      db: 0,
      username: 'app',
      password: 'p@ss',
    });
    expect(BullJobQueue.parseRedisUrl('redis://:secret@cache:7000')).toEqual({
      host: 'cache',
      port: 7000,
      password: 'secret',
    });
    expect(BullJobQueue.parseRedisUrl('rediss://cache.example.com')).toEqual({
      host: 'cache.example.com',
      port: 6379,
      tls: {},
    });
    expect(BullJobQueue.parseRedisUrl('redis://[::1]:6379')).toEqual({ host: '::1', port: 6379 });
  });

  it('rejects what is not a Redis URL, without echoing credentials', () => {
    expect(() => BullJobQueue.parseRedisUrl('http://cache:6379')).toThrow(/protocol http:/);
    expect(() => BullJobQueue.parseRedisUrl('redis://u:hunter2@cache/abc')).toThrow(/database "abc"/);
    expect(() => BullJobQueue.parseRedisUrl('not a url')).toThrow(/invalid Redis URL/);
    try {
      BullJobQueue.parseRedisUrl('redis://u:hunter2@cache/abc');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('BullJobQueue job names', () => {
  it('refuses names BullMQ cannot use as a queue name', async () => {
    const queue = new BullJobQueue({ connection: 'redis://127.0.0.1:1' });
    await expect(queue.enqueue('a:b', {})).rejects.toThrow(/cannot contain|without ":"/);
    expect(() => queue.work({ 'a:b': async () => {} })).toThrow(/without ":"/);
    await queue.close();
  });
});

const PREFIX = `assay-test-bullmq-${randomBytes(4).toString('hex')}`;

describeWithService(await redisAvailable())('BullJobQueue on Redis', () => {
  afterAll(() => deleteKeys(PREFIX));

  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    for (const deadline = Date.now() + 20_000; !(await check()); await new Promise((r) => setTimeout(r, 10)))
      if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
  };

  it('keeps a failed job in BullMQ for inspection: payload, error, attempts', async () => {
    const prefix = `${PREFIX}-failed`;
    const queue = new BullJobQueue({ connection: REDIS_URL, prefix, retryBaseMs: 10 });
    const inspect = new Queue('doomed', { connection: { ...BullJobQueue.parseRedisUrl(REDIS_URL) }, prefix });
    try {
      const worker = queue.work(
        {
          doomed: async (ctx) => {
            throw new Error(`nope ${ctx.attempt}`);
          },
        },
        { onError: () => {} },
      );
      const { id } = await queue.enqueue('doomed', { keep: 'me' }, { maxAttempts: 2, dedupKey: 'k' });
      await until('the job to fail', async () => (await inspect.getJobState(id)) === 'failed');
      await worker.stop(1000);
      const [failed] = await inspect.getFailed();
      expect(failed.id).toBe(id);
      expect(failed.data).toEqual({ keep: 'me' });
      expect(failed.failedReason).toBe('nope 2');
      expect(failed.attemptsStarted).toBe(2);
    } finally {
      await inspect.close();
      await queue.close();
    }
  });

  it('close() stops the workers still running, handing their jobs back', async () => {
    const prefix = `${PREFIX}-close`;
    const queue = new BullJobQueue({ connection: REDIS_URL, prefix });
    let started = false;
    queue.work({
      slow: async (ctx) => {
        started = true;
        await new Promise((r) => ctx.stopping.addEventListener('abort', r));
        throw new Error('stopping');
      },
    });
    await queue.enqueue('slow', {});
    await until('the handler to start', () => started);
    await queue.close();

    const inspect = new Queue('slow', { connection: { ...BullJobQueue.parseRedisUrl(REDIS_URL) }, prefix });
    try {
      const [job] = await inspect.getWaiting();
      expect(job.data).toEqual({});
      expect(job.attemptsStarted).toBe(0);
    } finally {
      await inspect.close();
    }
  });
});
