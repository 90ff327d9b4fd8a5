import type { RunEvent } from '@assay/core';
import { REDIS_URL, servicesUp } from '@assay/testkit/services';
import { describe, expect, it } from 'vitest';
import { createRedisEventBus } from '../src/redis-events.js';

const up = await servicesUp('Redis event-bus tests', { redis: true });

describe.skipIf(!up)('Redis event bus', () => {
  it('delivers events published by one process to subscribers of another', async () => {
    const channel = `assay-test-${process.pid}-${Date.now()}`;
    const a = createRedisEventBus(REDIS_URL, { channel });
    const b = createRedisEventBus(REDIS_URL, { channel });
    await Promise.all([a.ready, b.ready]);
    const got: RunEvent[] = [];
    const other: RunEvent[] = [];
    b.subscribe('run_1', (e) => got.push(e));
    b.subscribe('run_2', (e) => other.push(e));
    const event: RunEvent = {
      type: 'run.progress',
      runId: 'run_1',
      datasetId: 'ds',
      succeeded: 3,
      failed: 1,
      total: 10,
    };
    a.publish(event);
    a.publish({ type: 'run.status', runId: 'run_1', datasetId: 'ds', status: 'completed', error: null });
    for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([
      event,
      { type: 'run.status', runId: 'run_1', datasetId: 'ds', status: 'completed', error: null },
    ]);
    expect(other).toEqual([]);
    await a.close();
    await b.close();
  });
});
