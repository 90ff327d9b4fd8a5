import { createConnection } from 'node:net';
import pg from 'pg';

/**
 * The PostgreSQL and Redis the scale-out tests use. Without them (a laptop) those suites skip
 * with one line; with `ASSAY_REQUIRE_SERVICES=1` (CI) a missing service fails the file instead.
 */
export const REDIS_URL = process.env.ASSAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PG_URL = process.env.ASSAY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = createConnection({ host: hostname, port: Number(port || defaultPort) });
    s.setTimeout(2_000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** True when every named service answers; otherwise skips (one line) or, in CI, throws. */
export async function servicesUp(what: string, needs: { redis?: boolean; postgres?: boolean }): Promise<boolean> {
  const missing: string[] = [];
  if (needs.redis && !(await reachable(REDIS_URL, 6379))) missing.push(`Redis at ${REDIS_URL}`);
  if (needs.postgres && !(await reachable(PG_URL, 5432))) missing.push(`PostgreSQL at ${new URL(PG_URL).host}`);
  if (!missing.length) return true;
  if (process.env.ASSAY_REQUIRE_SERVICES === '1')
    throw new Error(`${what}: ASSAY_REQUIRE_SERVICES=1 but ${missing.join(' and ')} unreachable`);
  console.warn(`[skip] ${what}: no ${missing.join(' and no ')}`);
  return false;
}

/** Runs `fn` with a client connected to the PostgreSQL admin database (`PG_URL`). */
export async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database `name` (dropped first if it exists); returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  await pgAdmin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export const dropDatabase = (name: string) =>
  pgAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => {});
