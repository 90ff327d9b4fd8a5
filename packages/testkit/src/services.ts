/**
 * The PostgreSQL and Redis the tests use, named once for the whole repo:
 *
 * - `ASSAY_TEST_PG_URL`: a PostgreSQL server, as a URL to its maintenance database (default
 *   `postgres://postgres@127.0.0.1:5432/postgres`); each test file creates its own database there.
 * - `ASSAY_TEST_REDIS_URL`: a Redis (default `redis://127.0.0.1:6379`); each test file works under
 *   a key prefix of its own.
 * - `ASSAY_REQUIRE_SERVICES=1` (set by `.ci/run`): a missing service fails the suite instead of
 *   skipping it, so CI never skips silently.
 *
 * Nothing here imports vitest, so bench and soak scripts can use it too (see `./vitest.ts` for
 * `describeWithService`).
 */
import { randomBytes } from 'node:crypto';
import { redactUrl } from '@assay/core';
import { Redis } from 'ioredis';
import pg from 'pg';

/** The PostgreSQL server's maintenance database. Override with `ASSAY_TEST_PG_URL`. */
export const PG_URL = process.env.ASSAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The Redis the tests use. Override with `ASSAY_TEST_REDIS_URL`. */
export const REDIS_URL = process.env.ASSAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a service answered, and why not when it did not. */
export type ServiceCheck = { service: string } & ({ available: true } | { available: false; reason: string });

/** True when CI demands every service: a missing one is a failure, not a skip. */
export const servicesRequired = (): boolean => process.env.ASSAY_REQUIRE_SERVICES === '1';

/** The URL without its password, for messages (core's {@link redactUrl}). */
export const safeUrl = redactUrl;

const why = (url: string, e: unknown) =>
  `cannot reach ${safeUrl(url)}: ${e instanceof Error ? e.message || e.name : String(e)}`;

// ── PostgreSQL ──

/** Connects once (2 s timeout) and runs `select 1`. */
export async function pgAvailable(url: string = PG_URL): Promise<ServiceCheck> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return { service: 'PostgreSQL', available: true };
  } catch (e) {
    return { service: 'PostgreSQL', available: false, reason: why(url, e) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `fn` with a client connected to the maintenance database ({@link PG_URL}). */
export async function pgAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** {@link PG_URL} pointed at database `name`. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops database `name` (closing any connection still open to it); never throws. */
export const dropDatabase = (name: string): Promise<void> =>
  pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(
    () => {},
    () => {},
  );

/** A fresh, empty database `name` (dropped first if it exists); returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  await pgAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  return databaseUrl(name);
}

/** A database of its own for one test file, created on {@link PG_URL}'s server. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty database `assay_test_<random>`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `assay_test_${randomBytes(6).toString('hex')}`;
  await pgAdmin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

// ── Redis ──

/** A connection that gives up at once instead of retrying (ioredis retries forever by default). */
export function redisClient(url: string = REDIS_URL): Redis {
  const client = new Redis(url, {
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
    return { service: 'Redis', available: false, reason: why(url, cause ?? e) };
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (a test file's namespace); returns how many. */
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

// ── both ──

/**
 * True when every named service answers. Otherwise false with one `[skip]` line, or, under
 * `ASSAY_REQUIRE_SERVICES=1`, it throws with the reasons.
 *
 * @example
 * const up = await servicesUp('scale-out e2e', { redis: true, postgres: true });
 * describe.skipIf(!up)('scale-out', () => { ... });
 */
export async function servicesUp(what: string, needs: { redis?: boolean; postgres?: boolean }): Promise<boolean> {
  const checks = await Promise.all([
    needs.redis ? redisAvailable() : undefined,
    needs.postgres ? pgAvailable() : undefined,
  ]);
  const missing = checks.flatMap((c) => (c && !c.available ? [`${c.service} (${c.reason})`] : []));
  if (!missing.length) return true;
  if (servicesRequired()) throw new Error(`${what}: ASSAY_REQUIRE_SERVICES=1 but ${missing.join(' and ')} unreachable`);
  console.warn(`[skip] ${what}: no ${missing.join(' and no ')}`);
  return false;
}
