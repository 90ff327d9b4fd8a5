import type { ClaimedItem, StoredOutput, TargetCache } from '../ports.js';
import type { ModelCallReader } from './model-call-cache.js';
import { type CacheLookup, type OutputSource, withOutput } from './run-cache.js';

const READ_CHUNK = 1_000;
const keyOf = (x: { itemId: string; repetition: number }) => `${x.itemId}\u0000${x.repetition}`;

/**
 * The outputs a re-score scores: the stored results of its source run, read for a whole claimed
 * batch in one query. Every item finds its output or fails (the source run had none for it), so
 * the target is never called. A reused output keeps the latency and usage of its first computation
 * and names the run whose target call produced it.
 */
export class SourceOutputs implements OutputSource {
  readonly write = false;
  private readonly found = new WeakMap<ClaimedItem, CacheLookup>();

  constructor(
    private readonly sourceRunId: string,
    private readonly store: Pick<TargetCache, 'readRunOutputs'>,
    /** The scorers' model calls (a re-score reads and writes the model-call cache). */
    readonly modelCalls: ModelCallReader | null = null,
  ) {}

  async prepare(batch: ClaimedItem[]): Promise<ClaimedItem[]> {
    const stored = new Map<string, StoredOutput>();
    for (let i = 0; i < batch.length; i += READ_CHUNK) {
      for (const [k, o] of await this.store.readRunOutputs(this.sourceRunId, batch.slice(i, i + READ_CHUNK)))
        stored.set(k, o);
    }
    const found = batch.map((item) => this.lookupOf(stored.get(keyOf(item))));
    await this.withCalls(batch, found);
    batch.forEach((item, i) => {
      this.found.set(item, found[i]!);
    });
    return batch;
  }

  reusedIn(batch: ClaimedItem[]): number {
    return batch.length; // the target is never called: an item is scored from the source run, or fails
  }

  reuses(item: ClaimedItem): boolean {
    return !!this.found.get(item)?.hit;
  }

  async lookup(item: ClaimedItem): Promise<CacheLookup> {
    const known = this.found.get(item);
    if (known) return known;
    const stored = await this.store.readRunOutputs(this.sourceRunId, [item]);
    const found = [this.lookupOf(stored.get(keyOf(item)))];
    await this.withCalls([item], found);
    return found[0]!;
  }

  /** Adds the stored answers of the scorers' model calls to the items that have an output. */
  private async withCalls(batch: ClaimedItem[], found: CacheLookup[]): Promise<void> {
    if (!this.modelCalls) return;
    const scored = found.flatMap((f, i) => (f.hit ? [i] : []));
    const calls = await this.modelCalls.found(scored.map((i) => withOutput(batch[i]!, found[i]!.hit)));
    scored.forEach((i, k) => {
      found[i] = { ...(found[i] as Extract<CacheLookup, { error?: undefined }>), calls: calls[k]!.calls };
    });
  }

  private lookupOf(o: StoredOutput | undefined): CacheLookup {
    if (o?.status === 'succeeded') {
      const runId = o.cachedFrom ?? this.sourceRunId;
      return { key: null, hit: { output: o.output, latencyMs: o.latencyMs, usage: o.usage, runId } };
    }
    const why = !o ? 'no result' : o.error ? `${o.status}: ${o.error.message}` : o.status;
    return {
      key: null,
      hit: null,
      error: {
        message: `run '${this.sourceRunId}' has no output for this item to score (${why})`,
        code: 'NO_SOURCE_OUTPUT',
        retryable: false,
      },
    };
  }
}
