/** W3 trigger latency over HTTP. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AssayConfig } from '@assay/core';
import { createAssay } from '@assay/runtime';
import { serve } from '@hono/node-server';
import { answer, type Metrics, maxRssMB, percentile, type Question, type RowOf, seed } from '../harness/lib.js';

/**
 * W3 trigger latency over real HTTP: `POST /api/datasets/:id/runs` against the app served by
 * @hono/node-server on loopback, for a 10-item and a 100 000-item dataset in the same database.
 * The worker is off (as `assay serve --no-worker`), so what is measured is the trigger itself,
 * not the trigger competing with 200 runs being executed. Triggers alternate between the two
 * datasets, one at a time, so both sizes see the same database state and the same warm-up.
 */
export async function w3(dataDir: string): Promise<Metrics> {
  const TRIGGERS = 200;
  const WARMUP = 20;
  const config: AssayConfig = {
    targets: [{ id: 'instant', type: 'function', run: (input: Question) => answer(input) }],
  };
  const assay = await createAssay({ config, dataDir, worker: false });
  const sizes = { small: 10, large: 100_000 } as const;
  const ids = { small: await seed(assay, 'w3-small', sizes.small), large: await seed(assay, 'w3-large', sizes.large) };
  const server = serve({ fetch: assay.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((ok, fail) => {
    if (server.listening) ok();
    server.once('listening', () => ok());
    server.once('error', fail);
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  const body = JSON.stringify({ targetId: 'instant', scorerIds: ['exact-match'], maxConcurrency: 50 });
  const trigger = async (size: keyof typeof sizes): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${base}/datasets/${ids[size]}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const json = (await res.json()) as { totalItems?: number };
    const ms = performance.now() - t0;
    if (res.status !== 202 || json.totalItems !== sizes[size]) {
      throw new Error(`trigger on the ${size} dataset answered ${res.status}: ${JSON.stringify(json)}`);
    }
    return ms;
  };
  const samples = { small: [] as number[], large: [] as number[] };
  try {
    for (let i = 0; i < WARMUP; i++) {
      await trigger('small');
      await trigger('large');
    }
    for (let i = 0; i < TRIGGERS; i++) {
      // Alternate which size goes first, so neither always follows the other.
      const order: (keyof typeof sizes)[] = i % 2 ? ['large', 'small'] : ['small', 'large'];
      for (const size of order) samples[size].push(await trigger(size));
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  for (const size of ['small', 'large'] as const) {
    const page = await assay.storage.listRuns(ids[size], { page: 0, perPage: 1 });
    if (page.pagination.total !== WARMUP + TRIGGERS) {
      throw new Error(`${size} dataset has ${page.pagination.total} runs, expected ${WARMUP + TRIGGERS}`);
    }
  }
  const peakRssMB = maxRssMB();
  await assay.close();
  const out: Metrics = { triggersPerSize: TRIGGERS, peakRssMB };
  for (const size of ['small', 'large'] as const) {
    const s = [...samples[size]].sort((a, b) => a - b);
    out[`${size}P50Ms`] = percentile(s, 0.5);
    out[`${size}P99Ms`] = percentile(s, 0.99);
    out[`${size}MaxMs`] = s[s.length - 1];
    out[`${size}MeanMs`] = s.reduce((a, b) => a + b, 0) / s.length;
  }
  return out;
}

export const W3_ROWS = (row: RowOf) => [
  row('trigger p50, 10 items (ms)', 'smallP50Ms', 2),
  row('trigger p99, 10 items (ms)', 'smallP99Ms', 2, '< 25', (v) => v < 25),
  row('trigger p50, 100,000 items (ms)', 'largeP50Ms', 2),
  row('trigger p99, 100,000 items (ms)', 'largeP99Ms', 2, '< 25', (v) => v < 25),
  row('trigger max, 10 items (ms)', 'smallMaxMs', 2),
  row('trigger max, 100,000 items (ms)', 'largeMaxMs', 2),
];
