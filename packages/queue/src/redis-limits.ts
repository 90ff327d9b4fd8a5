import { abortableSleep, type Logger, newId, silentLogger, type Target, type TargetLimiter } from '@assay/core';
import { Redis } from 'ioredis';

/*
 * Both scripts read the time from Redis (`TIME`), so workers on machines with skewed clocks agree.
 *
 * Concurrency: a sorted set of holders scored by the time their hold expires. A holder renews its
 * hold while its call runs; a worker that died stops renewing, and its slots free themselves
 * after `holdMs`.
 */
const ACQUIRE_SLOT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return 1
end
return 0`;

const RENEW_SLOTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 1`;

/**
 * Rate: a sliding log of call start times within the last `perMs`. Returns 0 when the call may
 * start (and records it), else how many ms until the oldest start leaves the window.
 */
const TAKE_RATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perMs = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - perMs)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], perMs + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + perMs - now)`;

type LimitRedis = Redis & {
  assayAcquireSlot(key: string, max: number, member: string, holdMs: number): Promise<number>;
  assayRenewSlots(key: string, holdMs: number, ...members: string[]): Promise<number>;
  assayTakeRate(key: string, max: number, perMs: number, member: string): Promise<number>;
};

export interface RedisLimiterOptions {
  /** Key prefix, as for the queue. Default `assay`. */
  prefix?: string;
  /** How long a slot outlives a worker that stopped renewing it, in ms. Default 30 000. */
  holdMs?: number;
  /** Where Redis errors are reported (once per 5 s burst). Default: nowhere. */
  log?: Logger;
}

/**
 * A target's `maxConcurrency` and `rateLimit` across every worker process: LLM providers limit
 * per account, not per process. Waiters of one process queue locally (FIFO) and one loop per
 * target asks Redis for them, so a full target costs one Redis call per retry per process, not
 * one per waiting item. While Redis is unreachable, waiters keep waiting (nothing fails).
 */
export function createRedisLimiter(url: string, opts: RedisLimiterOptions = {}): TargetLimiter {
  const prefix = opts.prefix ?? 'assay';
  const holdMs = opts.holdMs ?? 30_000;
  const log = opts.log ?? silentLogger;
  const redis = new Redis(url, { maxRetriesPerRequest: null }) as LimitRedis;
  redis.defineCommand('assayAcquireSlot', { numberOfKeys: 1, lua: ACQUIRE_SLOT });
  redis.defineCommand('assayRenewSlots', { numberOfKeys: 1, lua: RENEW_SLOTS });
  redis.defineCommand('assayTakeRate', { numberOfKeys: 1, lua: TAKE_RATE });
  let lastLog = 0;
  redis.on('error', (e: Error) => {
    if (Date.now() - lastLog > 5000) log.warn({ err: e }, `redis limits: ${e.message}`);
    lastLog = Date.now();
  });

  const slotKey = (id: string) => `${prefix}:limit:${id}:slots`;
  const rateKey = (id: string) => `${prefix}:limit:${id}:rate`;
  /** Slots this process holds, per target id: renewed together. */
  const held = new Map<string, Set<string>>();
  const renewer = setInterval(
    () => {
      for (const [id, members] of held) {
        if (members.size) redis.assayRenewSlots(slotKey(id), holdMs, ...members).catch(() => {});
      }
    },
    Math.max(100, Math.floor(holdMs / 3)),
  );
  renewer.unref();

  /** Retries `attempt` with a growing pause until it answers a wait of 0 (or the signal aborts). */
  const until = async (attempt: () => Promise<number>, signal: AbortSignal) => {
    let pause = 5;
    for (;;) {
      signal.throwIfAborted();
      let wait: number;
      try {
        wait = await attempt();
      } catch {
        wait = 500; // Redis unreachable: keep waiting, never fail the item for it
      }
      if (wait === 0) return;
      pause = Math.min(100, pause * 2);
      await abortableSleep(Math.max(wait, pause * (0.5 + Math.random() / 2)), signal);
    }
  };

  /**
   * Per target: a local FIFO of waiters, served one at a time. A waiter whose signal aborts
   * leaves the line at once; the one behind it still waits for those ahead.
   */
  const lines = new Map<string, Promise<void>>();
  const inLine = async <T>(id: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> => {
    const before = lines.get(id) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    lines.set(id, mine);
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        void before.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
      return await fn();
    } finally {
      void before.then(() => {
        done();
        if (lines.get(id) === mine) lines.delete(id);
      });
    }
  };

  return {
    async acquire(target: Target, signal: AbortSignal) {
      if (!target.maxConcurrency && !target.rateLimit) return () => {};
      const member = newId('slot');
      return inLine(target.id, signal, async () => {
        if (target.maxConcurrency) {
          const max = target.maxConcurrency;
          await until(
            async () => ((await redis.assayAcquireSlot(slotKey(target.id), max, member, holdMs)) === 1 ? 0 : 1),
            signal,
          );
          const members = held.get(target.id) ?? new Set<string>();
          held.set(target.id, members);
          members.add(member);
        }
        const release = () => {
          const members = held.get(target.id);
          if (!members?.delete(member)) return;
          redis.zrem(slotKey(target.id), member).catch(() => {}); // else it expires after holdMs
        };
        if (target.rateLimit) {
          const { max, perMs } = target.rateLimit;
          try {
            await until(() => redis.assayTakeRate(rateKey(target.id), max, perMs, member), signal);
          } catch (e) {
            release();
            throw e;
          }
        }
        return release;
      });
    },
    async close() {
      clearInterval(renewer);
      redis.disconnect();
    },
  };
}
