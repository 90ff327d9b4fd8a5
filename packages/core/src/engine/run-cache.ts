import type { CacheEntry, ClaimedItem, TargetCache } from '../ports.js';
import type { ItemError } from '../types.js';
import { type CachePlan, itemCacheKey } from './cache.js';
import type { ModelCallReader, ModelCallsFound } from './model-call-cache.js';
import type { StoredModelCall } from './model-calls.js';
import { inFlightOutputs, type SharedOutputs } from './shared-outputs.js';

/** A stored output an item reuses instead of calling the target: the cache's, or a source run's. */
export type Reuse = Pick<CacheEntry, 'output' | 'latencyMs' | 'usage' | 'runId'>;

/**
 * What is stored for one item: its cache key (null: none) and the output found, or why the item
 * fails; and the stored answers of the model calls its attempt makes (model-call-cache.ts).
 */
export type CacheLookup =
  | { key: string | null; hit: Reuse | null; error?: undefined; calls?: Record<string, StoredModelCall> }
  | { key: null; hit: null; error: ItemError; calls?: undefined };

/** Where an execution finds outputs before calling the target (see {@link RunCache}, rescore.ts). */
export interface OutputSource {
  /** Store the outputs of the target calls made on a miss (under their key). */
  readonly write: boolean;
  /** The model calls of built-ins: looked up here, and stored with the outcomes (null: none are cached). */
  readonly modelCalls: ModelCallReader | null;
  /** Looks a claimed batch up at once where it can; returns the batch. */
  prepare(batch: ClaimedItem[]): Promise<ClaimedItem[]>;
  /** The lookup of one item. */
  lookup(item: ClaimedItem): Promise<CacheLookup>;
  /** How many items of a prepared batch call no target (their output is stored here). */
  reusedIn(batch: ClaimedItem[]): number;
  /** Whether an item of a prepared batch calls no target. */
  reuses(item: ClaimedItem): boolean;
  /** The output stored under a key now (not from a batch's earlier lookup), if the source has keys. */
  reread?(key: string): Promise<Reuse | null>;
  /** Where items with the same key as one being computed wait for its output (null: none are shared). */
  readonly shared?: SharedOutputs | null;
}

/** Reads at most this many keys per query. */
const READ_CHUNK = 1_000;

/**
 * The cache lookups of one execution of a run. Keys that need no user code (a declaration's
 * fingerprint, a code target's `version`) are computed on this thread and read for a whole claimed
 * batch in one query, before any target is called; a target with `cacheKey` has its part of the key
 * computed where the target runs (`customKey`), then read alone.
 */
export class RunCache implements OutputSource {
  private readonly found = new WeakMap<ClaimedItem, CacheLookup>();
  /** A run that reads the cache also reuses the outputs being computed meanwhile in this process. */
  readonly shared: SharedOutputs | null;

  constructor(
    readonly plan: CachePlan,
    private readonly store: Pick<TargetCache, 'readCache'>,
    /** Computes a target's `cacheKey` for an item (JSON text, or null: do not cache it). */
    private readonly customKey: (item: ClaimedItem) => Promise<{ key: string | null } | { error: ItemError }>,
    readonly modelCalls: ModelCallReader | null = null,
  ) {
    this.shared = plan.read ? inFlightOutputs : null;
  }

  get write(): boolean {
    return this.plan.write;
  }

  reusedIn(batch: ClaimedItem[]): number {
    let n = 0;
    for (const item of batch) if (this.found.get(item)?.hit) n++;
    return n;
  }

  reuses(item: ClaimedItem): boolean {
    return !!this.found.get(item)?.hit;
  }

  async reread(key: string): Promise<Reuse | null> {
    return (await this.store.readCache([key])).get(key) ?? null;
  }

  /** Looks up a claimed batch at once (keys without user code); returns the batch. */
  async prepare(batch: ClaimedItem[]): Promise<ClaimedItem[]> {
    if (this.plan.perItem || batch.length === 0) return batch;
    const keys = batch.map((item) => itemCacheKey(this.plan, item));
    const hits = new Map<string, CacheEntry>();
    if (this.plan.read) {
      for (let i = 0; i < keys.length; i += READ_CHUNK) {
        for (const [k, e] of await this.store.readCache([...new Set(keys.slice(i, i + READ_CHUNK))])) hits.set(k, e);
      }
    }
    const found = keys.map((key) => ({ key, hit: hits.get(key) ?? null }));
    const calls = await this.modelCalls?.found(batch.map((item, i) => withOutput(item, found[i]!.hit)));
    batch.forEach((item, i) => {
      this.found.set(item, calls ? withCalls(found[i]!, calls[i]!) : found[i]!);
    });
    return batch;
  }

  /** The lookup of one item: from its batch, or computed now (a target with `cacheKey`). */
  async lookup(item: ClaimedItem): Promise<CacheLookup> {
    const known = this.found.get(item);
    if (known) return known;
    let custom: string | null = null;
    if (this.plan.perItem) {
      const r = await this.customKey(item);
      if ('error' in r) return { key: null, hit: null, error: r.error };
      if (r.key === null) return { key: null, hit: null };
      custom = r.key;
    }
    const key = itemCacheKey(this.plan, item, custom);
    const hit = this.plan.read ? ((await this.store.readCache([key])).get(key) ?? null) : null;
    if (!this.modelCalls) return { key, hit };
    const [calls] = await this.modelCalls.found([withOutput(item, hit)]);
    return withCalls({ key, hit }, calls!);
  }
}

/** A lookup with the model calls found; a target's stored answer that is its output is a hit. */
function withCalls(found: { key: string | null; hit: Reuse | null }, calls: ModelCallsFound): CacheLookup {
  const answer = calls.output;
  const hit =
    found.hit ??
    (answer ? { output: answer.value, latencyMs: answer.latencyMs, usage: answer.usage, runId: answer.runId } : null);
  return { ...found, hit, calls: calls.calls };
}

/** An item to look the model calls of up, with its output when it is reused (known now). */
export const withOutput = (item: ClaimedItem, hit: Reuse | null) =>
  hit ? { item, output: { value: hit.output } } : { item };
