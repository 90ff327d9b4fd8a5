import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, it } from 'vitest';

/**
 * External services the tests use (PostgreSQL here; the same pattern serves Redis). A suite that
 * needs a service which is down is skipped with one line saying why, so `npm test` passes on a
 * laptop without it; with `ASSAY_REQUIRE_SERVICES=1` (CI) it fails instead, so CI never skips
 * silently.
 */
export type ServiceCheck = { service: string } & ({ available: true } | { available: false; reason: string });

/** True when CI demands every service: a missing one is a failure, not a skip. */
export const servicesRequired = (): boolean => process.env.ASSAY_REQUIRE_SERVICES === '1';

/**
 * The PostgreSQL server the tests use, as a URL to its maintenance database; each test file
 * creates its own database there ({@link createTestDatabase}). Override with `ASSAY_TEST_PG_URL`.
 */
export const PG_URL = process.env.ASSAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

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

/** Connects once (2 s timeout) and runs `select 1`. */
export async function pgAvailable(url: string = PG_URL): Promise<ServiceCheck> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return { service: 'PostgreSQL', available: true };
  } catch (e) {
    const reason = `cannot reach ${safeUrl(url)}: ${e instanceof Error ? e.message || e.name : String(e)}`;
    return { service: 'PostgreSQL', available: false, reason };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `describe` when the service is up. When it is down: `describe.skip` plus one console.warn, or,
 * under `ASSAY_REQUIRE_SERVICES=1`, a suite whose only test fails with the reason.
 *
 * @example
 * const pgCheck = await pgAvailable();
 * describeWithService(pgCheck)('PostgreSQL adapter', () => { ... });
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

/** A database of its own for one test file, created on {@link PG_URL}'s server. */
export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database `assay_test_<random>`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `assay_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
