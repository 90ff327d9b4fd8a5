import { type JobQueue, RUN_EXEC_JOB, RUN_JOB, type Storage, type StorageHealth } from '@assay/core';
import type { Context } from 'hono';
import { errorBody } from './http.js';

/** `p`, or a rejection naming `what` once `ms` have passed (Redis commands wait for a reconnect). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ReadyDeps {
  storage: Pick<Storage, 'dialect' | 'countRunsByStatus'>;
  storageHealth?: StorageHealth;
  queue?: Pick<JobQueue, 'kind' | 'counts'>;
  /** How long each probe may take, in ms. Default 2 000. */
  timeoutMs?: number;
}

type Check = { ok: true } | { ok: false; reason: string };

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * `GET /api/ready`, the readiness probe (`/api/health` is the liveness probe): 200 when the
 * storage answers (its health check: the SQLite file is there and writable, or PostgreSQL answers
 * `select 1`) and the queue answers (a count of its jobs), else 503 `NOT_READY` naming what is not
 * and why. Both probes run at once, each bounded by `timeoutMs`.
 */
export function readyHandler(deps: ReadyDeps) {
  const ms = deps.timeoutMs ?? 2_000;
  const probe = async (p: () => Promise<unknown>, what: string): Promise<Check> => {
    try {
      await within(p(), ms, what);
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: reasonOf(e) };
    }
  };
  const storageProbe = async () => {
    if (!deps.storageHealth) return deps.storage.countRunsByStatus();
    const state = await deps.storageHealth.check();
    if (!state.ok) throw new Error(state.reason);
  };
  return async (c: Context) => {
    const [storage, queue] = await Promise.all([
      probe(storageProbe, 'the storage check'),
      deps.queue
        ? probe(() => deps.queue!.counts([RUN_JOB, RUN_EXEC_JOB]), 'the queue check')
        : ({ ok: true } as const),
    ]);
    if (storage.ok && queue.ok) {
      return c.json({ status: 'ready' as const, storage: deps.storage.dialect, queue: deps.queue?.kind ?? null }, 200);
    }
    const down = [
      ...(storage.ok ? [] : [`storage (${deps.storage.dialect}): ${storage.reason}`]),
      ...(queue.ok ? [] : [`queue (${deps.queue?.kind}): ${queue.reason}`]),
    ];
    return c.json(
      errorBody('NOT_READY', `not ready: ${down.join('; ')}`, {
        storage: storage.ok ? 'ok' : storage.reason,
        queue: queue.ok ? 'ok' : queue.reason,
      }),
      503,
    );
  };
}
