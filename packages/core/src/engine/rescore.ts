import type { ClaimedItem, StoredOutput, TargetCache } from '../ports.js';
import type { CacheLookup, OutputSource } from './run-cache.js';

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
  ) {}

  async prepare(batch: ClaimedItem[]): Promise<ClaimedItem[]> {
    const stored = new Map<string, StoredOutput>();
    for (let i = 0; i < batch.length; i += READ_CHUNK) {
      for (const [k, o] of await this.store.readRunOutputs(this.sourceRunId, batch.slice(i, i + READ_CHUNK)))
        stored.set(k, o);
    }
    for (const item of batch) this.found.set(item, this.lookupOf(stored.get(keyOf(item))));
    return batch;
  }

  async lookup(item: ClaimedItem): Promise<CacheLookup> {
    const known = this.found.get(item);
    if (known) return known;
    const stored = await this.store.readRunOutputs(this.sourceRunId, [item]);
    return this.lookupOf(stored.get(keyOf(item)));
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
