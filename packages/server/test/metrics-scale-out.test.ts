/**
 * `/metrics` and `/api/ready` of the scale-out deployment (PostgreSQL + BullMQ on Redis), in
 * process: the queue depth comes from BullMQ's counters, items finish while the test scrapes,
 * and a Redis that cannot be reached makes the server not ready, naming the queue.
 */
import { randomBytes } from 'node:crypto';
import type { AssayConfig } from '@assay/core';
import { freePort } from '@assay/testkit/process';
import {
  createTestDatabase,
  deleteKeys,
  pgAvailable,
  REDIS_URL,
  redisAvailable,
  type TestDatabase,
} from '@assay/testkit/services';
import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiClient, expectError } from './api-helpers.js';
import { until, useAssay } from './helpers.js';

const [pg, redis] = await Promise.all([pgAvailable(), redisAvailable()]);
const services = !pg.available ? pg : redis;
const start = useAssay();
const prefix = `assay-test-metrics-${randomBytes(4).toString('hex')}`;

let db: TestDatabase;
beforeAll(async () => {
  if (services.available) db = await createTestDatabase();
});
afterAll(async () => {
  if (!services.available) return;
  await deleteKeys(`${prefix}`);
  await db.drop();
});

/** The value of the first sample of `name` whose labels include `labels` (0 when none). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

describeWithService(services)('metrics and readiness, scaled out', () => {
  it('BullMQ queue depth and item counters while a run executes; ready names postgres and bullmq', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let calls = 0;
    const config: AssayConfig = {
      targets: [
        {
          id: 'gated',
          type: 'function',
          // The first five items answer at once; the rest wait for the test.
          run: async (input) => {
            if (++calls > 5) await gate;
            return input;
          },
        },
      ],
    };
    const assay = await start(config, { databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix: `${prefix}-a` });
    const req = apiClient(() => assay.app);
    const ready = await req('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', storage: 'postgres', queue: 'bullmq' });

    const ds = (await req('POST', '/datasets', { name: 'scaled' })).body.id as string;
    const items = Array.from({ length: 12 }, (_, i) => ({ input: i }));
    await req('POST', `/datasets/${ds}/items/batch`, { items });
    const run = await req('POST', `/datasets/${ds}/runs`, { targetId: 'gated', maxConcurrency: 2 });
    expect(run.status).toBe(202);

    const scrape = async () => (await assay.app.request('/metrics')).text();
    const during = await until(scrape, (t) => value(t, 'assay_items_finished_total', { status: 'succeeded' }) === 5);
    expect(value(during, 'assay_runs', { status: 'running' })).toBe(1);
    expect(value(during, 'assay_queue_jobs', { state: 'active' })).toBeGreaterThanOrEqual(1);

    release();
    const after = await until(scrape, (t) => value(t, 'assay_runs', { status: 'completed' }) === 1);
    expect(value(after, 'assay_items_finished_total', { status: 'succeeded' })).toBe(12);
    expect(value(after, 'assay_queue_jobs', { state: 'waiting' })).toBe(0);
  });

  it('a Redis that cannot be reached: /api/ready is 503 NOT_READY naming the queue', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    // An API-only process (as behind a load balancer): nothing here waits on Redis but the probe.
    const assay = await start(
      { targets: [] },
      { databaseUrl: db.url, redisUrl: dead, redisPrefix: `${prefix}-b`, worker: false },
    );
    const down = await apiClient(() => assay.app)('GET', '/ready');
    expectError(down, 503, 'NOT_READY');
    expect(down.body.error.message).toContain('queue (bullmq)');
    expect(down.body.error.details).toMatchObject({ storage: 'ok' });
    expect(down.body.error.details.queue).toContain('longer than');
  });
});
