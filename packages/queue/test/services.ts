import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { BullJobQueue } from '../src/index.js';

/**
 * External services the queue tests use (Redis). A suite that needs a service which is down is
 * skipped with one line saying why, so `npm test` passes on a laptop without it; with
 * `ASSAY_REQUIRE_SERVICES=1` (CI) it fails instead, so CI never skips silently.
 */
export type ServiceCheck = { service: string } & ({ available: true } | { available: false; reason: string });

/** True when CI demands every service: a missing one is a failure, not a skip. */
export const servicesRequired = (): boolean => process.env.ASSAY_REQUIRE_SERVICES === '1';

/** The Redis the tests use; each test file works under a key prefix of its own. Override with `ASSAY_TEST_REDIS_URL`. */
export const REDIS_URL = process.env.ASSAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The URL without its password, for messages. */
const safeUrl = (url: string) => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
};

/** A connection that gives up at once instead of retrying (ioredis retries forever by default). */
export function redisClient(url: string = REDIS_URL): Redis {
  const client = new Redis({
    ...BullJobQueue.parseRedisUrl(url),
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  return client;
}

/** Connects once (2 s timeout) and sends PING. */
export async function redisAvailable(url: string = REDIS_URL): Promise<ServiceCheck> {
  const client = redisClient(url);
  // ioredis rejects with "Connection is closed."; the socket error says why.
  let cause: Error | undefined;
  client.on('error', (e: Error) => {
    cause ??= e;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
    return { service: 'Redis', available: true };
  } catch (e) {
    const error = cause ?? e;
    const reason = `cannot reach ${safeUrl(url)}: ${error instanceof Error ? error.message || error.name : String(error)}`;
    return { service: 'Redis', available: false, reason };
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (a test file's namespace). */
export async function deleteKeys(prefix: string, url: string = REDIS_URL): Promise<number> {
  const client = redisClient(url);
  await client.connect();
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}

/**
 * `describe` when the service is up. When it is down: `describe.skip` plus one console.warn, or,
 * under `ASSAY_REQUIRE_SERVICES=1`, a suite whose only test fails with the reason.
 *
 * @example
 * describeWithService(await redisAvailable())('BullMQ adapter', () => { ... });
 */
export function describeWithService(check: ServiceCheck): (name: string, fn: () => void) => void {
  if (check.available) return (name, fn) => describe(name, fn);
  const { service, reason } = check;
  if (servicesRequired()) {
    return (name) =>
      describe(name, () => {
        it(`needs ${service}`, () => {
          throw new Error(`${service} is required (ASSAY_REQUIRE_SERVICES=1) but unavailable: ${reason}`);
        });
      });
  }
  return (name, fn) => {
    console.warn(`[skip] ${name}: ${service} unavailable (${reason}); set ASSAY_REQUIRE_SERVICES=1 to fail instead`);
    describe.skip(name, fn);
  };
}
