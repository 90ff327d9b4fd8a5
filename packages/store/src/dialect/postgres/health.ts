import type { StorageHealth, StorageHealthState } from '@assay/core';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db-types.js';

export interface PostgresHealthOptions {
  /** How long `select 1` may take before the database counts as unreachable, in ms. Default 2 000. */
  timeoutMs?: number;
  /** Where a change of state is reported (once per change). Default console.error. */
  log?: (message: string) => void;
}

/**
 * The {@link StorageHealth} of a PostgreSQL store: `select 1` with a timeout, run by
 * `GET /api/health`. Writes are not gated: PostgreSQL's own errors already fail them.
 */
export function createPostgresHealth(db: Kysely<DB>, opts: PostgresHealthOptions = {}): StorageHealth {
  let state: StorageHealthState = { ok: true };
  const log = opts.log ?? ((m: string) => console.error(m));
  const timeoutMs = opts.timeoutMs ?? 2_000;
  return {
    checksWrites: false,
    current: () => state,
    async check() {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          sql`select 1`.execute(db),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        if (!state.ok) log('[assay] storage is available again: PostgreSQL answers');
        state = { ok: true };
      } catch (e) {
        const reason = `PostgreSQL is unreachable (${e instanceof Error ? e.message || e.name : String(e)})`;
        if (state.ok || state.reason !== reason) log(`[assay] storage unavailable: ${reason}`);
        state = { ok: false, reason, since: state.ok ? new Date().toISOString() : state.since };
      } finally {
        clearTimeout(timer);
      }
      return state;
    },
    close() {},
  };
}
