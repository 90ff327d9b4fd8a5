import type { Reuse } from './run-cache.js';

/** Keys remembered as stored lately (see {@link SharedOutputs.take}'s `stored`). */
const RECENT_KEYS = 10_000;

/**
 * Items that share a cache key (the same target and fingerprint, input, fields and repetition)
 * while one of them is being computed call the target once: the first to look its key up computes
 * it, the others wait for its output and reuse it (`cached: true`, from the run that computed it).
 * When the first one fails or gives up, the others call the target themselves, one again first.
 * An output is shared once it is stored, and its key is then forgotten: a later item finds the
 * output in the cache. One per process ({@link inFlightOutputs}), for every run that reads the
 * cache: the key says everything that determines the output, so two runs can share one computation.
 */
export class SharedOutputs {
  private readonly pending = new Map<string, Promise<Reuse | null>>();
  /** Keys whose output was stored lately, oldest first. */
  private readonly recent = new Map<string, true>();

  /**
   * Takes `key`: `first` when nobody computes it now (call `settle` when done, whatever happens),
   * with `stored` when an output of the key was stored lately (an item looked up before that
   * should look again); else the output of whoever computes it (null: it did not get one).
   */
  take(
    key: string,
  ):
    | { first: true; stored: boolean; settle: (output: Reuse | null) => void }
    | { first: false; output: Promise<Reuse | null> } {
    const running = this.pending.get(key);
    if (running) return { first: false, output: running };
    let settle!: (output: Reuse | null) => void;
    const output = new Promise<Reuse | null>((resolve) => {
      settle = (o) => {
        if (this.pending.get(key) !== output) return;
        this.pending.delete(key);
        if (o) this.remember(key);
        resolve(o);
      };
    });
    this.pending.set(key, output);
    return { first: true, stored: this.recent.has(key), settle };
  }

  private remember(key: string): void {
    this.recent.delete(key);
    this.recent.set(key, true);
    if (this.recent.size > RECENT_KEYS) this.recent.delete(this.recent.keys().next().value!);
  }
}

/** The outputs being computed in this process, by cache key. */
export const inFlightOutputs = new SharedOutputs();
