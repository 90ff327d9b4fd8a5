import { abortableSleep, type Target, type TargetContext } from '@assay/core';

/** An agent target that counts its calls in flight, for tests of concurrency limits. */
export interface GaugedTarget {
  /** The target to put in the config. */
  readonly target: Target<number, number>;
  /** Calls running now (0 once every run has settled). */
  readonly inFlight: number;
  /** The most calls that were ever in flight at once. */
  readonly peak: number;
}

/**
 * An agent target `id` with `maxConcurrency` that answers its input after `ms` (abortable by the
 * call's signal), counting the calls in flight and their peak; `onCall` sees every call as it starts.
 *
 * @example
 * const narrow = gaugedTarget('narrow', 2, 5);
 * const assay = await start({ targets: [narrow.target] });
 * // … run it …
 * expect(narrow.peak).toBeLessThanOrEqual(2);
 */
export function gaugedTarget(
  id: string,
  maxConcurrency: number,
  ms: number,
  onCall?: (ctx: TargetContext) => void,
): GaugedTarget {
  let inFlight = 0;
  let peak = 0;
  return {
    target: {
      id,
      type: 'agent',
      maxConcurrency,
      run: async (input, ctx) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        onCall?.(ctx);
        try {
          await abortableSleep(ms, ctx.signal);
          return input;
        } finally {
          inFlight--;
        }
      },
    },
    get inFlight() {
      return inFlight;
    },
    get peak() {
      return peak;
    },
  };
}
