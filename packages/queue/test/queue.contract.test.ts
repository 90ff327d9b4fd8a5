import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { JobContext, JobQueue } from '@assay/core';
import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADAPTERS, type QueueSpace } from './adapters.js';

/**
 * The JobQueue contract: what the engine relies on, checked through the port only, against every
 * adapter (a SQLite file; BullMQ on Redis when reachable, see services.ts). Each test gets a
 * namespace of its own (a fresh file, a fresh key prefix). Adapter internals (claim, lease
 * tokens, backoff arithmetic) are tested in the adapter's own file.
 *
 * Timing: only lower bounds are asserted ("not before"); waits are liveness guards that fail
 * with a message instead of hanging until the test timeout.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; fails after `guardMs` saying what never happened. */
async function until(what: string, check: () => boolean | Promise<boolean>, guardMs = 20_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await sleep(10);
  }
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves when the signal aborts. */
const aborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

const quiet = { onError: () => {} };

for (const adapter of ADAPTERS) {
  const describeAdapter = adapter.requires ? describeWithService(await adapter.requires()) : describe;

  describeAdapter(`JobQueue contract: ${adapter.name}`, () => {
    let space: QueueSpace;
    let queue: JobQueue;
    beforeEach(async () => {
      space = await adapter.space();
      queue = await space.open();
    });
    afterEach(() => space.dispose());
    afterAll(() => adapter.disposeAll());

    it('hands the handler a plain context (never a queue library object) and completes the job', async () => {
      let seen!: JobContext;
      const done = deferred();
      space.work(queue, {
        greet: async (ctx) => {
          seen = ctx;
          await ctx.heartbeat();
          done.resolve();
        },
      });
      const stray = await queue.enqueue('unhandled', {});
      const { id, deduplicated } = await queue.enqueue('greet', { hello: 'world' }, { maxAttempts: 3 });
      expect(deduplicated).toBe(false);
      await done.promise;

      expect(Object.getPrototypeOf(seen)).toBe(Object.prototype);
      expect(Object.keys(seen).sort()).toEqual([
        'attempt',
        'heartbeat',
        'id',
        'maxAttempts',
        'name',
        'payload',
        'signal',
        'stopping',
      ]);
      const { signal, stopping, heartbeat, ...plain } = seen;
      expect(plain).toEqual({ id, name: 'greet', payload: { hello: 'world' }, attempt: 1, maxAttempts: 3 });
      expect(signal).toBeInstanceOf(AbortSignal);
      expect(stopping).toBeInstanceOf(AbortSignal);
      expect(signal.aborted || stopping.aborted).toBe(false);
      expect(typeof heartbeat).toBe('function');
      await until('the job to be completed', async () => (await space.state('greet', id)) === 'done');
      // A worker only takes the jobs it has a handler for.
      expect(await space.state('unhandled', stray.id)).toBe('pending');
    });

    it('retries a throwing handler with increasing attempts and backoff, then fails the job, calls onError and onGiveUp once', async () => {
      const retryBaseMs = 40;
      queue = await space.open({ retryBaseMs });
      const starts: { attempt: number; maxAttempts: number; at: number }[] = [];
      const errors: { message: string; id: string; name: string }[] = [];
      const givenUp: unknown[] = [];
      let flaky = 0;
      space.work(
        queue,
        {
          doomed: async (ctx) => {
            starts.push({ attempt: ctx.attempt, maxAttempts: ctx.maxAttempts, at: Date.now() });
            throw new Error(`boom ${ctx.attempt}`);
          },
          flaky: async (ctx) => {
            flaky = ctx.attempt;
            if (ctx.attempt === 1) throw new Error('flaky once');
          },
        },
        {
          onError: (e, job) => errors.push({ message: (e as Error).message, ...job }),
          onGiveUp: async (job) => void givenUp.push({ ...job, error: job.error.message }),
        },
      );
      const doomed = await queue.enqueue('doomed', { n: 1 }, { maxAttempts: 3 });
      const recovered = await queue.enqueue('flaky', {}, { maxAttempts: 3 });

      await until('the doomed job to be failed', async () => (await space.state('doomed', doomed.id)) === 'failed');
      await until('the flaky job to complete', async () => (await space.state('flaky', recovered.id)) === 'done');
      expect(starts.map((s) => [s.attempt, s.maxAttempts])).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
      // Exponential backoff with jitter in the upper half: at least base/2, then base, apart.
      expect(starts[1].at - starts[0].at).toBeGreaterThanOrEqual(retryBaseMs / 2);
      expect(starts[2].at - starts[1].at).toBeGreaterThanOrEqual(retryBaseMs);
      expect(flaky).toBe(2);
      expect(errors.filter((e) => e.name === 'doomed')).toEqual([
        { message: 'boom 1', id: doomed.id, name: 'doomed' },
        { message: 'boom 2', id: doomed.id, name: 'doomed' },
        { message: 'boom 3', id: doomed.id, name: 'doomed' },
      ]);
      expect(errors.filter((e) => e.name === 'flaky')).toEqual([
        { message: 'flaky once', id: recovered.id, name: 'flaky' },
      ]);
      // A failed job stays failed: no fourth delivery.
      await sleep(300);
      expect(starts).toHaveLength(3);
      expect(await space.state('doomed', doomed.id)).toBe('failed');
      expect(givenUp).toEqual([{ id: doomed.id, name: 'doomed', payload: { n: 1 }, attempts: 3, error: 'boom 3' }]);
    });

    it('dedup key: a second enqueue of unfinished work is a no-op; after completion or failure the key is free', async () => {
      const payloads: unknown[] = [];
      const release = deferred();
      const running = deferred();
      space.work(
        queue,
        {
          dd: async (ctx) => {
            const p = ctx.payload as { v: number; hold?: boolean; fail?: boolean };
            payloads.push(p.v);
            if (p.hold) {
              running.resolve();
              await release.promise;
            }
            if (p.fail) throw new Error('fails for good');
          },
        },
        quiet,
      );
      // Queued: the second enqueue returns the first job.
      const first = await queue.enqueue('dd', { v: 1, hold: true }, { dedupKey: 'k', delayMs: 300 });
      expect(await queue.enqueue('dd', { v: 2 }, { dedupKey: 'k' })).toEqual({ id: first.id, deduplicated: true });
      // Running: still the same job.
      await running.promise;
      expect(await queue.enqueue('dd', { v: 3 }, { dedupKey: 'k' })).toEqual({ id: first.id, deduplicated: true });
      release.resolve();
      await until('the first job to complete', async () => (await space.state('dd', first.id)) === 'done');
      // Completed: the key is free again.
      const second = await queue.enqueue('dd', { v: 4 }, { dedupKey: 'k' });
      expect(second.deduplicated).toBe(false);
      expect(second.id).not.toBe(first.id);
      await until('the second job to complete', async () => (await space.state('dd', second.id)) === 'done');

      // Failed: the failed job is kept, and does not block a new job with the same key.
      const failing = await queue.enqueue('dd', { v: 5, fail: true }, { dedupKey: 'f', maxAttempts: 1 });
      await until('the failing job to fail', async () => (await space.state('dd', failing.id)) === 'failed');
      const again = await queue.enqueue('dd', { v: 6 }, { dedupKey: 'f' });
      expect(again.deduplicated).toBe(false);
      expect(again.id).not.toBe(failing.id);
      await until('the re-enqueued job to complete', async () => (await space.state('dd', again.id)) === 'done');
      expect(await space.state('dd', failing.id)).toBe('failed');
      expect(payloads).toEqual([1, 4, 5, 6]);
    });

    it('delayMs: the job does not run before its delay', async () => {
      const ran = new Map<string, number>();
      space.work(queue, {
        timed: async (ctx) => {
          ran.set((ctx.payload as { label: string }).label, Date.now());
        },
      });
      const before = Date.now();
      await queue.enqueue('timed', { label: 'later' }, { delayMs: 600 });
      await queue.enqueue('timed', { label: 'now' });
      await until('both jobs to run', () => ran.size === 2);
      expect(ran.get('later')! - before).toBeGreaterThanOrEqual(600);
    });

    it('concurrency: never more than N handlers at once, across all the job names of a worker', async () => {
      let inFlight = 0;
      let peak = 0;
      let finished = 0;
      const busy = async () => {
        peak = Math.max(peak, ++inFlight);
        await sleep(40);
        inFlight--;
        finished++;
      };
      space.work(queue, { left: busy, right: busy }, { concurrency: 3 });
      for (let i = 0; i < 8; i++) {
        await queue.enqueue('left', { i });
        await queue.enqueue('right', { i });
      }
      await until('all 16 jobs to finish', () => finished === 16);
      expect(peak).toBeLessThanOrEqual(3);
      expect(peak).toBeGreaterThan(1); // jobs did overlap: the limit was in play
    });

    it('stop(): a grace period, then a hard abort; handed-back jobs go to the next worker, attempt not counted', async () => {
      const log: string[] = [];
      const started = new Set<string>();
      const first = space.work(
        queue,
        {
          // finishes when asked to stop: its job completes
          finisher: async (ctx) => {
            started.add('finisher');
            await aborted(ctx.stopping);
            log.push('finisher finished');
          },
          // gives up when asked to stop: its job is handed back
          yielder: async (ctx) => {
            started.add('yielder');
            await aborted(ctx.stopping);
            log.push('yielder gave up');
            throw new Error('stopping');
          },
          // ignores the grace period; the hard deadline aborts it and its job is handed back
          stubborn: async (ctx) => {
            started.add('stubborn');
            await aborted(ctx.signal);
            log.push(ctx.stopping.aborted ? 'stubborn aborted after stopping' : 'stubborn aborted early');
            throw ctx.signal.reason;
          },
        },
        { concurrency: 3, onError: (e) => log.push(`onError ${(e as Error).message}`) },
      );
      const ids = {
        finisher: (await queue.enqueue('finisher', {})).id,
        yielder: (await queue.enqueue('yielder', {})).id,
        stubborn: (await queue.enqueue('stubborn', {})).id,
      };
      await until('all three handlers to start', () => started.size === 3);
      const t0 = Date.now();
      await first.stop(300);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300 - 5); // the grace period was given
      expect(log.sort()).toEqual(['finisher finished', 'stubborn aborted after stopping', 'yielder gave up']);
      expect(await space.state('finisher', ids.finisher)).toBe('done');

      // A new worker (another process, say) gets the two handed-back jobs, as first attempts.
      const again: Record<string, number> = {};
      const other = await space.open();
      const record = (name: string) => async (ctx: JobContext) => {
        again[name] = ctx.attempt;
      };
      space.work(other, { finisher: record('finisher'), yielder: record('yielder'), stubborn: record('stubborn') });
      await until('the handed-back jobs to run again', () => Object.keys(again).length >= 2);
      expect(again).toEqual({ yielder: 1, stubborn: 1 });
      await until('both to complete', async () => (await space.state('stubborn', ids.stubborn)) === 'done');
      expect(await space.state('yielder', ids.yielder)).toBe('done');
    });

    it('signal aborts when the lock is lost; heartbeat() then throws and the job is left to its new owner', async () => {
      queue = await space.open({ lockMs: 600 });
      const started = deferred<string>();
      const observed = deferred<{ reason: string; heartbeat: string }>();
      space.work(queue, {
        lease: async (ctx) => {
          started.resolve(ctx.id);
          // No heartbeat calls here: the adapter's own lock renewal must notice the loss.
          await aborted(ctx.signal);
          const heartbeat = await ctx.heartbeat().then(
            () => 'resolved',
            (e: Error) => `rejected: ${e.message}`,
          );
          observed.resolve({ reason: String((ctx.signal.reason as Error)?.message), heartbeat });
          // Returning now must not complete a job this worker no longer owns.
        },
      });
      const { id } = await queue.enqueue('lease', {});
      expect(await started.promise).toBe(id);
      await space.stealLock('lease', id);
      const { reason, heartbeat } = await observed.promise;
      expect(reason).toMatch(/lock|lease/);
      expect(heartbeat).toMatch(/^rejected: .*(lock|lease)/);
      await sleep(100);
      expect(await space.state('lease', id)).toBe('pending');
    });

    it('a worker killed with SIGKILL: its job goes to another worker once the lock expires (as attempt 2); a job out of attempts is failed', async () => {
      const lockMs = 1_000;
      queue = await space.open({ lockMs });
      const survivor = await queue.enqueue('crash', { n: 1 }, { maxAttempts: 3 });
      const lastChance = await queue.enqueue('crash', { n: 2 }, { maxAttempts: 1 });

      const script = fileURLToPath(new URL('./queue-worker.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(space.config({ lockMs }))], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const lines = createInterface({ input: child.stdout });
      const inChild: { id: string; attempt: number }[] = [];
      lines.on('line', (line) => inChild.push(JSON.parse(line)));
      try {
        await until('the child to start both jobs', () => inChild.length === 2);
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      expect(inChild.map((j) => j.attempt)).toEqual([1, 1]);

      const runs: { id: string; attempt: number }[] = [];
      const errors: string[] = [];
      const givenUp: { id: string; payload: unknown; error: string }[] = [];
      space.work(
        await space.open({ lockMs }),
        { crash: async (ctx) => void runs.push({ id: ctx.id, attempt: ctx.attempt }) },
        {
          onError: (e, job) => errors.push(`${job.id}: ${(e as Error).message}`),
          // A job that crashed its worker on its last attempt never reaches a handler again:
          // onGiveUp is where the application learns of it.
          onGiveUp: async (job) => void givenUp.push({ id: job.id, payload: job.payload, error: job.error.message }),
        },
      );
      await until('the survivor to complete', async () => (await space.state('crash', survivor.id)) === 'done');
      await until('the last-chance job to fail', async () => (await space.state('crash', lastChance.id)) === 'failed');
      expect(runs).toEqual([{ id: survivor.id, attempt: 2 }]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(lastChance.id);
      expect(givenUp).toEqual([
        { id: lastChance.id, payload: { n: 2 }, error: expect.stringContaining('without finishing') },
      ]);
    });
  });
}
