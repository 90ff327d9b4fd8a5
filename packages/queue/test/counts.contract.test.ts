import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADAPTERS, type QueueSpace } from './adapters.js';

/**
 * `JobQueue.counts` (the queue depth of `/metrics` and the readiness probe), through the port,
 * against every adapter: jobs waiting, delayed and active, of the names asked for only.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, guardMs = 20_000): Promise<void> {
  const deadline = Date.now() + guardMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await sleep(10);
  }
}

for (const adapter of ADAPTERS) {
  const suite = adapter.requires ? describeWithService(await adapter.requires()) : describe;
  suite(`JobQueue.counts (${adapter.name})`, () => {
    let space: QueueSpace;
    beforeEach(async () => {
      space = await adapter.space();
    });
    afterEach(async () => {
      await space.dispose();
    });
    afterAll(() => adapter.disposeAll());

    it('counts waiting, delayed and active jobs of the given names', async () => {
      const queue = await space.open();
      expect(await queue.counts(['a', 'b'])).toEqual({ waiting: 0, delayed: 0, active: 0 });
      await queue.enqueue('a', { n: 1 });
      await queue.enqueue('a', { n: 2 });
      await queue.enqueue('b', { n: 3 }, { delayMs: 60_000 });
      await queue.enqueue('other', { n: 4 });
      expect(await queue.counts(['a', 'b'])).toEqual({ waiting: 2, delayed: 1, active: 0 });
      expect(await queue.counts(['b'])).toEqual({ waiting: 0, delayed: 1, active: 0 });
      expect(await queue.counts([])).toEqual({ waiting: 0, delayed: 0, active: 0 });

      // A worker holds both `a` jobs until released: they count as active.
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let started = 0;
      space.work(
        queue,
        {
          a: async () => {
            started++;
            await held;
          },
        },
        { concurrency: 2 },
      );
      await until('both jobs to start', async () => started === 2);
      expect(await queue.counts(['a', 'b'])).toEqual({ waiting: 0, delayed: 1, active: 2 });
      release();
      await until('both jobs to finish', async () => (await queue.counts(['a'])).active === 0);
      expect(await queue.counts(['a', 'b'])).toEqual({ waiting: 0, delayed: 1, active: 0 });
    });
  });
}
