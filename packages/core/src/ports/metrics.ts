/** An item whose outcome was stored. */
export interface ItemFinished {
  runId: string;
  targetId: string;
  status: 'succeeded' | 'failed';
  /** From the item's start to its outcome, in ms: every try of the target, backoff and scorers included. */
  durationMs: number;
  /** The target's own time in ms (its last try); null when the target was not called. */
  targetLatencyMs: number | null;
}

/**
 * What the engine reports while it works, for metrics. Core depends on no metrics library: the
 * runtime passes an implementation (Prometheus counters and histograms, see `@assay/server`
 * metrics.ts). Calls are synchronous and must neither throw nor block.
 */
export interface WorkMetrics {
  /** Once per item outcome the worker stored. */
  itemFinished(item: ItemFinished): void;
  /**
   * `count` item claims were lost without an outcome (their worker crashed, was killed or let the
   * lease run out) and were taken over by this worker.
   */
  claimsLost(count: number): void;
}

/** The default: reports nothing. */
export const noopMetrics: WorkMetrics = {
  itemFinished() {},
  claimsLost() {},
};
