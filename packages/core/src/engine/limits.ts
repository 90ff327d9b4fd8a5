import type { Target } from '../config.js';
import { Semaphore } from './semaphore.js';

/**
 * Enforces a target's `maxConcurrency` and `rateLimit`. The embedded limiter counts per process;
 * the Redis limiter (`@assay/queue`) counts across every worker together.
 */
export interface TargetLimiter {
  /**
   * Waits until `target` may be called once more; resolves with the function that frees the
   * slot. Rejects with `signal.reason` when `signal` aborts while waiting.
   */
  acquire(target: Target, signal: AbortSignal): Promise<() => void>;
  close?(): Promise<void>;
}

const noop = () => {};

/** Sleeps `ms`, or rejects with the signal's reason when it aborts first. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** In-process limits: a semaphore per target and a sliding window of call start times. */
export function createLocalLimiter(): TargetLimiter {
  const semaphores = new Map<string, Semaphore>();
  const windows = new Map<string, number[]>();

  const waitForRate = async (target: Target, signal: AbortSignal) => {
    const { max, perMs } = target.rateLimit!;
    const starts = windows.get(target.id) ?? [];
    windows.set(target.id, starts);
    for (;;) {
      const now = Date.now();
      while (starts.length && starts[0] <= now - perMs) starts.shift();
      if (starts.length < max) {
        starts.push(now);
        return;
      }
      await abortableSleep(starts[0] + perMs - now, signal);
    }
  };

  return {
    async acquire(target, signal) {
      if (!target.maxConcurrency && !target.rateLimit) return noop;
      let sem: Semaphore | undefined;
      if (target.maxConcurrency) {
        sem = semaphores.get(target.id) ?? new Semaphore(target.maxConcurrency);
        semaphores.set(target.id, sem);
        await sem.acquire(signal);
      }
      try {
        if (target.rateLimit) await waitForRate(target, signal);
      } catch (e) {
        sem?.release();
        throw e;
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        sem?.release();
      };
    },
  };
}
