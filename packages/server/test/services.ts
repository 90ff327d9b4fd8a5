import { createConnection } from 'node:net';

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
