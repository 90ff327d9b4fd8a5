import type { Scorer, Target } from '../config.js';
import type { ItemOutcome, ModelCallWrite, OutcomeModelCalls, TargetCache, WorkItem } from '../ports.js';
import {
  type ModelCallArgs,
  type ModelCallDeclaration,
  type ModelCallKeying,
  type ModelCallRecord,
  modelCallKey,
  modelCallOf,
  type StoredModelCall,
} from './model-calls.js';

/**
 * The engine's side of the model-call cache (model-calls.ts is the built-ins' side): before an
 * attempt, on the engine's thread, the keys of the model calls the attempt will make are computed
 * by the built-ins' keyings (no user code) and read in one query per claimed batch; after it, the
 * calls it made become part of the item's outcome, stored in the outcome's transaction.
 *
 * A target's call is looked up when the target is to be called; a `model` target whose answer is
 * stored is then not run at all (its output is that answer). A scorer's call depends on the
 * output it scores, so it is looked up when the output is known before the attempt: taken from the
 * target output cache, a `model` target's stored answer, or a re-score's source run. After a
 * fresh target call the scorers' calls are made, and stored for next time.
 */

/** Reads at most this many keys per query. */
const READ_CHUNK = 1_000;

export interface ModelCallMode {
  /** Answer calls from the cache. */
  read: boolean;
  /** Store the calls made. */
  write: boolean;
}

/** An item to look up, with the output its scorers will score when it is known now. */
export interface ModelCallItem {
  item: WorkItem;
  output?: { value: unknown };
}

/** What an item's attempt can use: the stored answers of its calls, by key, and the target's output when stored. */
export interface ModelCallsFound {
  calls: Record<string, StoredModelCall>;
  /** The stored answer of the target's call, for a target whose answer is its output: the target need not run. */
  output?: StoredModelCall;
}

/** The model-call lookups of one execution of a run. */
export class ModelCallReader {
  private constructor(
    readonly mode: ModelCallMode,
    private readonly runId: string,
    private readonly target: ModelCallDeclaration | undefined,
    private readonly scorers: ModelCallKeying[],
    private readonly store: Pick<TargetCache, 'readCache'>,
  ) {}

  /** The reader of a run whose target or scorers make cached model calls; null when none does. */
  static of(
    mode: ModelCallMode,
    runId: string,
    target: Target,
    scorers: Scorer[],
    store: Pick<TargetCache, 'readCache'>,
  ): ModelCallReader | null {
    const t = modelCallOf(target);
    const s = scorers.flatMap((x) => modelCallOf(x)?.keying ?? []);
    if (!t && s.length === 0) return null;
    return new ModelCallReader(mode, runId, t, s, store);
  }

  /**
   * What each item's attempt can use (in the order of `items`). When the target's answer is its
   * output and is stored, the scorers' calls on that output are looked up too.
   */
  async found(items: ModelCallItem[]): Promise<ModelCallsFound[]> {
    const out: ModelCallsFound[] = items.map(() => ({ calls: {} }));
    if (!this.mode.read) return out;
    const keys = items.map((x) => this.keysOf(x));
    const stored = await this.read(keys.flat());
    const chained: number[] = [];
    items.forEach((x, i) => {
      for (const k of keys[i]!) {
        const hit = stored.get(k);
        if (!hit) continue;
        if (x.output) out[i]!.calls[k] = hit;
        else if (this.target?.answerIsOutput) {
          out[i]!.output = hit;
          chained.push(i);
        } else out[i]!.calls[k] = hit;
      }
    });
    if (chained.length === 0 || this.scorers.length === 0) return out;
    const next = chained.map((i) => this.keysOf({ item: items[i]!.item, output: { value: out[i]!.output!.value } }));
    const more = await this.read(next.flat());
    chained.forEach((i, n) => {
      for (const k of next[n]!) {
        const hit = more.get(k);
        if (hit) out[i]!.calls[k] = hit;
      }
    });
    return out;
  }

  private async read(keys: string[]): Promise<Map<string, StoredModelCall>> {
    const unique = [...new Set(keys)];
    const stored = new Map<string, StoredModelCall>();
    for (let i = 0; i < unique.length; i += READ_CHUNK) {
      for (const [k, e] of await this.store.readCache(unique.slice(i, i + READ_CHUNK)))
        stored.set(k, { value: e.output, latencyMs: e.latencyMs, usage: e.usage, runId: e.runId });
    }
    return stored;
  }

  /** The keys of the calls an item's attempt makes that can be known now. */
  private keysOf({ item, output }: ModelCallItem): string[] {
    const args: ModelCallArgs = {
      input: item.input,
      groundTruth: item.groundTruth,
      metadata: item.metadata,
      itemId: item.itemId,
      runId: this.runId,
      ...(output ? { output: output.value } : {}),
    };
    const keyings = output ? this.scorers : this.target ? [this.target.keying] : [];
    const keys: string[] = [];
    for (const keying of keyings) {
      try {
        keys.push(modelCallKey(keying(args), item.repetition));
      } catch {
        // The item cannot fill a template: its call fails in the attempt, nothing to look up.
      }
    }
    return keys;
  }
}

const cost = (calls: ModelCallRecord[]) => calls.reduce((s, c) => s + (c.usage?.costUsd ?? 0), 0);

/**
 * A succeeded outcome with the model calls of its attempt: the calls made now to store (when the
 * run writes), and the scorers' calls made and reused with their cost. A target whose every call
 * was answered from the cache counts as cached: the result names the run its answer came from
 * and keeps that call's latency and usage, as a result from the target output cache does.
 */
export function withModelCalls(
  outcome: ItemOutcome,
  calls: ModelCallRecord[] | undefined,
  mode: ModelCallMode,
): ItemOutcome {
  if (!calls?.length) return outcome;
  const target = calls.filter((c) => c.phase === 'target');
  const scorers = calls.filter((c) => c.phase === 'scorer');
  const store: ModelCallWrite[] = mode.write
    ? calls
        .filter((c) => c.cachedFrom === null)
        .map((c) => ({
          key: c.key,
          ownerId: c.ownerId,
          value: c.value ?? null,
          latencyMs: c.latencyMs,
          usage: c.usage,
        }))
    : [];
  const made = scorers.filter((c) => c.cachedFrom === null);
  const reused = scorers.filter((c) => c.cachedFrom !== null);
  const modelCalls: OutcomeModelCalls = {
    store,
    made: made.length,
    reused: reused.length,
    costSpentUsd: cost(made),
    costSavedUsd: cost(reused),
  };
  const result = { ...outcome, modelCalls };
  if (target.length && target.every((c) => c.cachedFrom !== null) && !outcome.cachedFrom) {
    result.cachedFrom = target[0]!.cachedFrom;
    const latencies = target.map((c) => c.latencyMs);
    if (latencies.every((l) => l !== null)) result.latencyMs = latencies.reduce((s, l) => s + l!, 0);
  }
  return result;
}
