import type { ItemError, RunItemStatus, Usage } from '../types.js';
import type { CacheWrite, OutcomeModelCalls } from './cache.js';

/** One pending unit of work handed to the executor: a run item with its pinned item data. */
export interface WorkItem {
  itemId: string;
  repetition: number;
  attempt: number;
  input: unknown;
  groundTruth: unknown;
  metadata: Record<string, unknown> | null;
}

/** A work item claimed by one worker; `claimToken` fences its outcome. */
export interface ClaimedItem extends WorkItem {
  claimToken: number;
  /**
   * How often a claim of this item was lost without an outcome (its worker crashed, was killed or
   * let the lease run out) — counted for every claimed item the first time, then only when the
   * item had been started under the lost claim ({@link WorkLedger.markStarted}).
   */
  lostClaims: number;
  /**
   * True when this claim took the item over from a claim whose lease had run out (that claim was
   * lost). Absent is false.
   */
  takenOver?: boolean;
}

export interface ItemOutcome {
  itemId: string;
  /** The token the item was claimed with; the write is dropped when it is stale. */
  claimToken: number;
  /** The worker that produced this result. */
  workerId: string;
  repetition: number;
  status: Extract<RunItemStatus, 'succeeded' | 'failed'>;
  attempt: number;
  output: unknown;
  error: ItemError | null;
  /** The target's time; null when it was not called (an item failed for losing its worker). */
  latencyMs: number | null;
  /** Tokens and cost the target reported (null: none). */
  usage: Usage | null;
  /** What the target reported with `ctx.reportTrace` (absent: nothing). */
  trace?: Record<string, unknown> | null;
  startedAt: string;
  completedAt: string;
  scores: { scorerId: string; score: number | null; reason: string | null; error: string | null; usage?: Usage }[];
  /** The run whose cached output this is (the target was not called); absent: not from the cache. */
  cachedFrom?: string | null;
  /** Store the output in the target cache under this key, with the outcome (succeeded only). */
  cacheWrite?: CacheWrite | null;
  /** The model calls of built-ins behind it, when the run uses the cache: stored and counted with it. */
  modelCalls?: OutcomeModelCalls | null;
}

/**
 * The work ledger: a run's item rows as a queue of work. Planning creates them, workers claim them
 * under a lease (renewed by heartbeat, taken over once it runs out, by the store's `Clock`), and
 * outcomes close them, fenced by the claim token so a result can never land twice.
 */
export interface WorkLedger {
  /**
   * Creates the next page of run-item rows from the items valid at the run's pinned version,
   * after `cursor` (an item id; '' to start). Idempotent. Returns the next cursor, or null at the end.
   */
  planRunItems(runId: string, cursor: string, pageSize: number): Promise<{ planned: number; cursor: string | null }>;
  /**
   * Claims up to `limit` items of a run for one worker: queued items, and items whose claim lease
   * ran out (their worker died). Each claimed item gets a new claim token, the fencing token its
   * outcome must carry. Claims by several workers at once never overlap.
   */
  claimWork(runId: string, workerId: string, limit: number, leaseMs: number): Promise<ClaimedItem[]>;
  /** Extends the leases of every item this worker holds in this run (its heartbeat). */
  extendClaims(runId: string, workerId: string, leaseMs: number): Promise<number>;
  /**
   * Hands a worker's claimed, unfinished items back to the queue at once: at shutdown, or with
   * `lost` for a worker that died (its claims count as lost, as an expired lease does).
   */
  releaseClaims(runId: string, workerId: string, lost?: boolean): Promise<number>;
  /** Records that a claimed item's target call starts now (only for items with lost claims). */
  markStarted(runId: string, itemId: string, repetition: number, claimToken: number): Promise<void>;
  /** Workers holding claimed (running) items of a run, whether or not their lease has run out. */
  listClaimOwners(runId: string): Promise<string[]>;
  /** Items of a run not yet in a final state (queued or claimed). */
  countUnfinished(runId: string): Promise<number>;
  /** Closes every non-final item of a run with `status` (cancelled or skipped); returns how many. */
  closePendingItems(runId: string, status: 'cancelled' | 'skipped'): Promise<number>;
  /**
   * Stores outcomes (result + scores, one transaction, upsert keyed by run, item, repetition) and
   * bumps the run's counts, returning them. A succeeded outcome with `cacheWrite` also stores its
   * output in the target cache, in the same transaction (an existing entry of the key stays). An outcome whose claim token is no longer the item's
   * (another worker took it over, or the run was cancelled) is dropped: it can never land twice.
   */
  writeOutcomes(runId: string, outcomes: ItemOutcome[]): Promise<{ succeeded: number; failed: number }>;
}
