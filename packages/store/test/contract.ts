import { type ClaimedItem, type ItemOutcome, RUN_DEFAULTS } from '@assay/core';
import { ManualClock } from '@assay/testkit/clock';
import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, beforeAll, describe } from 'vitest';
import type { SqlStorage } from '../src/index.js';
import { ADAPTERS } from './adapters.js';
import { createPendingRun } from './runs.js';

/**
 * The harness of the storage contract suites, one per port (catalog, runs, work ledger, results,
 * analysis): every suite runs against every adapter of the Storage port (a real SQLite file, and
 * PostgreSQL when it is reachable, see `@assay/testkit`), each on a fresh database whose store
 * takes its time from a {@link ManualClock}, so leases expire when a test moves the clock.
 */
export interface StorageFixture {
  /** The adapter's name: `sqlite` or `postgres`. */
  readonly adapter: string;
  /** The store under test (set before the first test). */
  readonly storage: SqlStorage;
  /** The store's clock: only {@link ManualClock.advance} moves it. */
  readonly clock: ManualClock;
  /** Creates a pending run of `datasetId` pinned to `version` (as the trigger does). */
  newRun(datasetId: string, version: number, repetitions?: number, passThreshold?: number): Promise<string>;
  /** Plans every run item, `pageSize` items per call; returns the number of calls. */
  planAll(runId: string, pageSize?: number): Promise<number>;
  /** Claims every claimable item for `workerId`, recording the claim tokens for {@link outcome}. */
  claimAll(runId: string, workerId?: string, leaseMs?: number): Promise<ClaimedItem[]>;
  /** An outcome of worker `w` for an item claimed last by {@link claimAll} (its claim token). */
  outcome(itemId: string, status: 'succeeded' | 'failed', extra?: Partial<ItemOutcome>): ItemOutcome;
}

/**
 * Declares `body` once per adapter (`<port> contract: <adapter>`); an adapter whose service is
 * down is skipped locally and fails under `ASSAY_REQUIRE_SERVICES=1`.
 *
 * @example
 * await describeStorage('Catalog', (f) => { it('…', async () => { await f.storage.createDataset({ name: 'x' }); }); });
 */
export async function describeStorage(port: string, body: (f: StorageFixture) => void): Promise<void> {
  for (const adapter of ADAPTERS) {
    const describeAdapter = adapter.requires ? describeWithService(await adapter.requires()) : describe;
    describeAdapter(`${port} contract: ${adapter.name}`, () => {
      const clock = new ManualClock({ now: Date.UTC(2026, 0, 1) });
      let storage: SqlStorage | undefined;
      let cleanup: () => Promise<void> = async () => {};
      beforeAll(async () => {
        ({ storage, cleanup } = await adapter.open({ clock }));
        await storage.migrate(); // migrating twice is harmless
      });
      afterAll(async () => {
        await storage?.close();
        await cleanup();
      });
      const store = () => {
        if (!storage) throw new Error('the store is opened in beforeAll');
        return storage;
      };
      /** Claim tokens of the items claimed last, by `itemId:repetition`. */
      const tokens = new Map<string, number>();
      body({
        adapter: adapter.name,
        get storage() {
          return store();
        },
        clock,
        async newRun(datasetId, version, repetitions = 1, passThreshold) {
          return createPendingRun(store(), datasetId, version, {
            options: { ...RUN_DEFAULTS, repetitions, ...(passThreshold === undefined ? {} : { passThreshold }) },
          });
        },
        async planAll(runId, pageSize = 7) {
          let cursor: string | null = '';
          let pages = 0;
          while (cursor !== null) {
            ({ cursor } = await store().planRunItems(runId, cursor, pageSize));
            pages++;
          }
          return pages;
        },
        async claimAll(runId, workerId = 'w', leaseMs = 60_000) {
          const all: ClaimedItem[] = [];
          for (;;) {
            const batch = await store().claimWork(runId, workerId, 7, leaseMs);
            if (!batch.length) return all;
            for (const c of batch) tokens.set(`${c.itemId}:${c.repetition}`, c.claimToken);
            all.push(...batch);
          }
        },
        outcome(itemId, status, extra = {}) {
          return {
            itemId,
            claimToken: tokens.get(`${itemId}:${extra.repetition ?? 0}`) ?? -1,
            workerId: 'w',
            repetition: 0,
            status,
            attempt: 1,
            output: status === 'succeeded' ? { ok: itemId } : null,
            error: status === 'failed' ? { message: 'nope', code: 'X', retryable: false } : null,
            latencyMs: 10,
            usage: null,
            startedAt: new Date(clock.now()).toISOString(),
            completedAt: new Date(clock.now()).toISOString(),
            scores: status === 'succeeded' ? [{ scorerId: 's', score: 1, reason: 'r', error: null }] : [],
            ...extra,
          };
        },
      });
    });
  }
}
