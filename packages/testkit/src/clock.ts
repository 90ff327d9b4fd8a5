import type { Clock } from '@assay/core';

export interface ManualClockOptions {
  /** Start time, ms since the epoch. Default 2026-01-01T00:00:00Z. */
  now?: number;
  /** What `random()` returns: a fixed number in [0, 1), or a function. Default 0.5. */
  random?: number | (() => number);
}

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

/**
 * A {@link Clock} that only moves when told to, so lease expiry, backoff and deadlines are tested
 * without sleeping. `sleep(ms)` resolves when {@link ManualClock.advance} passes its wake-up time
 * (sleepers wake in time order, each seeing `now()` at its own wake-up time).
 *
 * @example
 * const clock = new ManualClock();
 * const woke = clock.sleep(1_000);
 * await clock.advance(1_000); // `woke` has resolved; clock.now() is 1 s later
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly rnd: () => number;
  private readonly sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(options: ManualClockOptions = {}) {
    this.time = options.now ?? Date.UTC(2026, 0, 1);
    const r = options.random ?? 0.5;
    this.rnd = typeof r === 'function' ? r : () => r;
  }

  now(): number {
    return this.time;
  }

  random(): number {
    return this.rnd();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.time + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.remove(sleeper);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** How many `sleep` calls are still waiting. */
  get pending(): number {
    return this.sleepers.length;
  }

  /**
   * Moves time forward by `ms`, waking every sleeper due by then in time order; after each wake-up
   * it lets the woken code run (one macrotask) before moving on, so a sleeper that sleeps again
   * within the window wakes too.
   */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      const next = this.sleepers.reduce<Sleeper | undefined>(
        (a, s) => (s.at <= until && (!a || s.at < a.at || (s.at === a.at && s.seq < a.seq)) ? s : a),
        undefined,
      );
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      this.remove(next);
      next.wake();
      await new Promise<void>((r) => setImmediate(r));
    }
    this.time = until;
  }

  /** Sets the time without waking anyone (for code that only reads `now()`). */
  set(now: number): void {
    this.time = now;
  }

  private remove(s: Sleeper): void {
    const i = this.sleepers.indexOf(s);
    if (i >= 0) this.sleepers.splice(i, 1);
  }
}
