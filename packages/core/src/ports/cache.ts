import type { CacheMode, ItemError, RunItemStatus, RunSummary, Usage } from '../types.js';

/** A stored output of a target, keyed by what produced it (see engine/cache.ts for the key). */
export interface CacheEntry {
  key: string;
  targetId: string;
  output: unknown;
  /** The target's time when the output was computed, in ms. */
  latencyMs: number | null;
  /** Tokens and cost of that call. */
  usage: Usage | null;
  /** The run, item and repetition whose target call produced it. */
  runId: string;
  itemId: string;
  repetition: number;
  createdAt: string;
}

/** The stored result of one item of a run, as a re-score reads it. */
export interface StoredOutput {
  itemId: string;
  repetition: number;
  status: RunItemStatus;
  output: unknown;
  latencyMs: number | null;
  usage: Usage | null;
  error: ItemError | null;
  /** The run whose target call produced the output, when it came from the cache. */
  cachedFrom: string | null;
}

/** What {@link ItemOutcome.cacheWrite} asks to store with a succeeded outcome. */
export interface CacheWrite {
  key: string;
  targetId: string;
}

/** A model call an outcome made, to store in the cache with it (see engine/model-calls.ts). */
export interface ModelCallWrite {
  key: string;
  /** The target or scorer that made the call (what `cache stats` lists it under). */
  ownerId: string;
  value: unknown;
  latencyMs: number | null;
  usage: Usage | null;
}

/** The model calls of built-ins behind one outcome (see {@link ItemOutcome.modelCalls}). */
export interface OutcomeModelCalls {
  /** Calls made now, to store with the outcome (empty when the run does not write the cache). */
  store: ModelCallWrite[];
  /** Scorers' calls made now and answered from the cache, and their cost (USD). */
  made: number;
  reused: number;
  costSpentUsd: number;
  costSavedUsd: number;
}

/** The cache's share of one run (the summary's `cache` block without its mode). */
export type RunCacheCounts = Omit<NonNullable<RunSummary['cache']>, 'mode'>;

/** Entries of the cache by target, for `assay cache stats`. */
export interface CacheTargetStats {
  targetId: string;
  entries: number;
  /** Size of the stored outputs, in bytes of JSON text. */
  bytes: number;
  /** Cost the stored outputs took to compute (USD). */
  costUsd: number;
  oldest: string | null;
  newest: string | null;
}

/**
 * The target output cache, in the same database as the runs, and the stored outputs of runs that
 * a re-score reuses. Entries are written only with the
 * outcome they come from, in its transaction ({@link WorkLedger.writeOutcomes}), so the cache
 * never holds an output without its stored result, nor the reverse.
 */
export interface TargetCache {
  /** The entries of these keys that exist (at most 1 000 keys a call). */
  readCache(keys: string[]): Promise<Map<string, CacheEntry>>;
  /**
   * The stored results of these items of a run (at most 1 000 a call), by `itemId + '\u0000' +
   * repetition`: what a re-score scores instead of calling the target.
   */
  readRunOutputs(runId: string, items: { itemId: string; repetition: number }[]): Promise<Map<string, StoredOutput>>;
  /** Hits, misses, entries stored and cost spent and saved of one run. */
  runCacheCounts(runId: string): Promise<RunCacheCounts>;
  /** Entries per target, optionally of one target only. */
  cacheStats(q?: { targetId?: string }): Promise<CacheTargetStats[]>;
  /** Deletes entries (of one target, or created before a time); returns how many. */
  clearCache(q?: { targetId?: string; olderThan?: string }): Promise<number>;
  /**
   * Bytes (of JSON text) of the entries created after `after` and at or before `upTo` (ISO
   * times, each optional): read from an index, without the stored values.
   */
  cacheBytes(range?: { after?: string; upTo?: string }): Promise<number>;
  /**
   * Deletes the oldest entries, at most `maxEntries` in one short transaction, until at least
   * `bytes` bytes are gone; returns what it deleted (see engine/cache-size.ts).
   */
  evictOldest(bytes: number, maxEntries: number): Promise<{ entries: number; bytes: number }>;
}

export type { CacheMode };
