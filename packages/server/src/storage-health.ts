import type { Registry, StorageHealth } from '@assay/core';
import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './http.js';

/**
 * Storage health on the API: `GET /api/health` answers 503 with `storage: 'unavailable'` and the
 * reason while the database cannot be used, and write requests answer 503 `STORAGE_UNAVAILABLE`
 * instead of writing into a file that is gone (see the store's sqlite-health.ts).
 */

export interface HealthDeps {
  registry: Registry;
  storageHealth?: StorageHealth;
  info?: { storage: string; queue: string; worker: boolean; version: string };
}

/** `GET /api/health`: 200 `{ status: 'ok', … }`, or 503 `{ status: 'unavailable', storage: 'unavailable', reason, … }`. */
export function healthHandler(deps: HealthDeps) {
  return async (c: Context) => {
    const base = { ...(deps.info ?? {}), targets: deps.registry.targets.size, scorers: deps.registry.scorers.size };
    const state = deps.storageHealth ? await deps.storageHealth.check() : ({ ok: true } as const);
    if (state.ok) return c.json({ status: 'ok', ...base });
    return c.json(
      {
        status: 'unavailable',
        ...base,
        storage: 'unavailable',
        dialect: deps.info?.storage,
        reason: state.reason,
        since: state.since,
      },
      503,
    );
  };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Refuses write requests with 503 `STORAGE_UNAVAILABLE` while the (SQLite) storage is unavailable. */
export function storageGate(health: StorageHealth | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (!health?.checksWrites || READS.has(c.req.method)) return next();
    const state = await health.check();
    if (state.ok) return next();
    return c.json(
      errorBody('STORAGE_UNAVAILABLE', `storage unavailable, nothing was written: ${state.reason}`, {
        reason: state.reason,
        since: state.since,
      }),
      503,
    );
  };
}
