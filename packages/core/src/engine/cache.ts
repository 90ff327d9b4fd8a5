import { createHash, type Hash } from 'node:crypto';
import { canonicalHash, canonicalJson } from '../canonical.js';
import type { CacheIdentity, Target } from '../config.js';
import type { Storage, WorkItem } from '../ports.js';
import type { CacheMode, Run, RunSummary } from '../types.js';

/**
 * The target output cache's rules: which targets can be cached, the mode a run uses, and the key
 * of an item's output. The key covers everything that determines the output: the target's id and
 * fingerprint, the item's input (canonical JSON, so key order does not matter), the item fields
 * the target's templates read, the target's own `cacheKey` for the item, and the repetition, so
 * the repetitions of a stochastic target stay independent samples.
 */

const CODE_HINT =
  "declare `version: '1'` on it (and change it whenever the code changes what it answers) or `cacheKey`";

/** What identifies a target's outputs; a null fingerprint (with the reason) means never cached. */
export function identityOf(target: Target): CacheIdentity {
  if (target.cacheIdentity) return target.cacheIdentity;
  if (target.kind === 'http' || target.kind === 'model')
    return { fingerprint: null, reason: 'its declaration was not built by the registry' };
  if (typeof target.version === 'string' || typeof target.cacheKey === 'function')
    return { fingerprint: canonicalHash({ kind: 'code', version: target.version ?? null }) };
  return { fingerprint: null, reason: `it is code without a version: ${CODE_HINT}` };
}

/**
 * The mode a new run uses: the trigger's, else the target's `cache`, else `off`. A target without
 * a fingerprint is never cached: the mode is then `off` with a notice saying why.
 */
export function resolveCacheMode(target: Target, requested?: CacheMode): { mode: CacheMode; notice?: string } {
  const wanted = requested ?? target.cache ?? 'off';
  if (wanted === 'off') return { mode: 'off' };
  const id = identityOf(target);
  if (id.fingerprint === null)
    return {
      mode: 'off',
      notice: `cache '${wanted}' was asked for, but target '${target.id}' is never cached: ${id.reason}`,
    };
  return { mode: wanted };
}

/** How one execution of a run uses the cache. */
export interface CachePlan {
  mode: CacheMode;
  read: boolean;
  write: boolean;
  targetId: string;
  fingerprint: string;
  itemFields: NonNullable<CacheIdentity['itemFields']>;
  /** The target has a `cacheKey`: part of each key is computed where the target runs. */
  perItem: boolean;
}

/** The run's cache plan with the worker's target, or null when the run uses no cache. */
export function cachePlan(run: Run, target: Target): CachePlan | null {
  const mode = run.options.cache ?? 'off';
  if (mode === 'off') return null;
  const id = identityOf(target);
  if (id.fingerprint === null) return null;
  return {
    mode,
    read: mode === 'read' || mode === 'readwrite',
    write: mode === 'write' || mode === 'readwrite',
    targetId: target.id,
    fingerprint: id.fingerprint,
    itemFields: id.itemFields ?? [],
    perItem: typeof target.cacheKey === 'function' && !target.cacheIdentity,
  };
}

/** The cache key of an item's output: a SHA-256 in hex. `custom` is the target's `cacheKey` (JSON text). */
export function itemCacheKey(plan: CachePlan, item: WorkItem, custom: string | null = null): string {
  const fields: Record<string, unknown> = { input: item.input };
  for (const f of plan.itemFields)
    fields[f] = f === 'itemId' ? item.itemId : f === 'groundTruth' ? item.groundTruth : item.metadata;
  const itemHash = canonicalHash(fields);
  const prefix = custom === null ? prefixOf(plan) : null;
  if (!prefix) {
    return canonicalHash({
      target: plan.targetId,
      fingerprint: plan.fingerprint,
      custom,
      item: itemHash,
      repetition: item.repetition,
    });
  }
  // The same text canonicalHash hashes (keys in order: custom, fingerprint, item, repetition,
  // target), from the state of the hash after the part that every item of the plan shares.
  const rest = `${JSON.stringify(itemHash)},"repetition":${JSON.stringify(item.repetition)},"target":${JSON.stringify(plan.targetId)}}`;
  return prefix.copy().update(rest).digest('hex');
}

const prefixes = new WeakMap<CachePlan, Hash | null>();

/** The hash state after `{"custom":null,"fingerprint":…,"item":` of a plan's keys (null: no shared part). */
function prefixOf(plan: CachePlan): Hash | null {
  let h = prefixes.get(plan);
  if (h === undefined) {
    h =
      plan.fingerprint === undefined
        ? null
        : createHash('sha256').update(`{"custom":null,"fingerprint":${canonicalJson(plan.fingerprint)},"item":`);
    prefixes.set(plan, h);
  }
  return h;
}

/**
 * A run's summary from the stored rows, with the cache's share when the run used the cache (a
 * re-score reads every output: `read`).
 */
export async function summarizeWithCache(
  storage: Pick<Storage, 'summarizeRun' | 'runCacheCounts'>,
  run: Run,
): Promise<RunSummary> {
  const summary = await storage.summarizeRun(run.id);
  const mode = run.sourceRunId ? 'read' : run.options.cache;
  if (!mode || mode === 'off') return summary;
  return { ...summary, cache: { mode, ...(await storage.runCacheCounts(run.id)) } };
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The time an age (`30d`, `12h`, `90m`, `45s`) before `now`, as stored timestamps are (ISO). */
export function ageCutoff(age: string, now: number): string {
  const unit = age.at(-1) as keyof typeof UNIT_MS;
  return new Date(now - Number(age.slice(0, -1)) * UNIT_MS[unit]).toISOString();
}

/** `GET /cache`: entries, size and cost by target, and their totals. */
export async function cacheOverview(storage: Pick<Storage, 'cacheStats'>, q: { targetId?: string } = {}) {
  const targets = await storage.cacheStats(q);
  const total = { entries: 0, bytes: 0, costUsd: 0 };
  for (const t of targets) {
    total.entries += t.entries;
    total.bytes += t.bytes;
    total.costUsd += t.costUsd;
  }
  return { targets, total };
}

/** `DELETE /cache`: deletes the entries of one target and/or older than an age; returns how many. */
export async function clearCacheEntries(
  storage: Pick<Storage, 'clearCache'>,
  q: { targetId?: string; olderThan?: string },
  now: number,
): Promise<{ deleted: number }> {
  const olderThan = q.olderThan === undefined ? undefined : ageCutoff(q.olderThan, now);
  return { deleted: await storage.clearCache({ targetId: q.targetId, olderThan }) };
}
