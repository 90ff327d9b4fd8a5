/**
 * Operability of a real embedded deployment (SQLite file, worker in the process): `GET /metrics`
 * in Prometheus text, scraped while a run executes (issue 12: the item counters grow, runs by
 * status follow the run), lost claims taken over, requests by route template, the API key, and
 * the readiness probe `GET /api/ready` (200, and 503 NOT_READY once the database file is gone).
 */
import { rmSync } from 'node:fs';
import type { AssayConfig } from '@assay/core';
import type { Assay } from '@assay/runtime';
import type { SqliteHealth } from '@assay/store';
import { describe, expect, it } from 'vitest';
import { apiClient, expectError } from './api-helpers.js';
import { until, useAssay } from './helpers.js';

const start = useAssay();

/**
 * Permits the target takes one of per item: items finish exactly as fast as the test hands
 * permits out, so "during the run" is a state the test holds, not a moment it hopes to catch.
 */
function permits() {
  let free = 0;
  const waiting: (() => void)[] = [];
  return {
    take: () =>
      new Promise<void>((resolve) => {
        if (free > 0) {
          free--;
          resolve();
        } else waiting.push(resolve);
      }),
    give(n: number) {
      for (let i = 0; i < n; i++) {
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
}

function gatedConfig(gate: ReturnType<typeof permits>): AssayConfig {
  return {
    targets: [
      {
        id: 'gated',
        type: 'function',
        run: async (input) => {
          await gate.take();
          await new Promise((r) => setTimeout(r, 5)); // slow-ish: every item takes a little while
          return input;
        },
      },
    ],
  };
}

/** The samples of one metric in Prometheus text: label sets and values. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample of `name` whose labels include `labels` (0 when there is none). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const s = samples(text, name).find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value ?? 0;
}

async function scrape(assay: Assay, headers: Record<string, string> = {}) {
  const res = await assay.app.request('/metrics', { headers });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

async function datasetOf(assay: Assay, n: number, headers: Record<string, string> = {}) {
  const req = apiClient(() => assay.app);
  const ds = await req('POST', '/datasets', { name: `metrics-${n}` }, { headers });
  expect(ds.status).toBe(201);
  const items = Array.from({ length: n }, (_, i) => ({ input: i, groundTruth: i }));
  expect((await req('POST', `/datasets/${ds.body.id}/items/batch`, { items }, { headers })).status).toBe(201);
  return ds.body.id as string;
}

const finished = (text: string) => value(text, 'assay_items_finished_total', { target: 'gated', status: 'succeeded' });

describe('GET /metrics', () => {
  it('scraped during a run: the items-finished counter grows, runs by status follow the run', async () => {
    const gate = permits();
    const assay = await start(gatedConfig(gate));
    const req = apiClient(() => assay.app);
    const ds = await datasetOf(assay, 30);

    const before = await scrape(assay);
    expect(finished(before)).toBe(0);
    expect(value(before, 'assay_runs', { status: 'completed' })).toBe(0);

    const run = await req('POST', `/datasets/${ds}/runs`, {
      targetId: 'gated',
      scorerIds: ['exact-match'],
      maxConcurrency: 4,
    });
    expect(run.status).toBe(202);
    const runId = run.body.runId as string;
    const status = async () => (await req('GET', `/datasets/${ds}/runs/${runId}`)).body.status as string;

    // A third of the items may finish: the run is running, and the counter says 10.
    gate.give(10);
    const during = await until(
      () => scrape(assay),
      (t) => finished(t) === 10,
    );
    expect(await status()).toBe('running');
    expect(value(during, 'assay_runs', { status: 'running' })).toBe(1);
    expect(value(during, 'assay_runs', { status: 'completed' })).toBe(0);
    // The execution job is held by the worker while items wait for permits.
    expect(value(during, 'assay_queue_jobs', { state: 'active' })).toBeGreaterThanOrEqual(1);

    // Ten more: the counter grows while the run is still running.
    gate.give(10);
    const later = await until(
      () => scrape(assay),
      (t) => finished(t) === 20,
    );
    expect(await status()).toBe('running');
    expect(finished(later)).toBeGreaterThan(finished(during));

    // The rest: the run completes, and the gauges and histograms account for every item.
    gate.give(10);
    await until(status, (s) => s === 'completed');
    const after = await until(
      () => scrape(assay),
      (t) => value(t, 'assay_runs', { status: 'completed' }) === 1,
    );
    expect(finished(after)).toBe(30);
    expect(value(after, 'assay_items_finished_total', { status: 'failed' })).toBe(0);
    expect(value(after, 'assay_runs', { status: 'running' })).toBe(0);
    expect(value(after, 'assay_runs', { status: 'pending' })).toBe(0);
    expect(value(after, 'assay_item_duration_seconds_count', { status: 'succeeded' })).toBe(30);
    expect(value(after, 'assay_target_duration_seconds_count', { target: 'gated' })).toBe(30);
    // Every target call slept at least 5 ms.
    expect(value(after, 'assay_target_duration_seconds_sum', { target: 'gated' })).toBeGreaterThanOrEqual(0.15);
    expect(value(after, 'assay_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(value(after, 'assay_claims_lost_total')).toBe(0);
    // Node's process metrics come along.
    expect(samples(after, 'process_resident_memory_bytes')).toHaveLength(1);

    // Requests are counted by route template, never by the raw path.
    expect(
      value(after, 'assay_http_requests_total', {
        method: 'GET',
        route: '/api/datasets/:id/runs/:runId',
        status: '200',
      }),
    ).toBeGreaterThan(0);
    expect(value(after, 'assay_http_requests_total', { route: '/api/datasets/:id/runs', status: '202' })).toBe(1);
    expect(after).not.toContain(runId);
    expect(after).not.toContain(ds);
  });

  it('counts the claims of a worker that stopped renewing them, taken over by this one', async () => {
    const gate = permits();
    const assay = await start(gatedConfig(gate));
    const req = apiClient(() => assay.app);
    const ds = await datasetOf(assay, 20);
    const run = await req('POST', `/datasets/${ds}/runs`, { targetId: 'gated', maxConcurrency: 1 });
    const runId = run.body.runId as string;
    await until(
      () => assay.storage.getRun(runId),
      (r) => r?.plannedAt != null,
    );
    // Another worker claims five items and dies at once: its 1 ms lease runs out unrenewed. (The
    // worker here holds at most four: twice its concurrency, and the next batch claimed ahead.)
    const ghost = await assay.storage.claimWork(runId, 'ghost-host:1:w', 5, 1);
    expect(ghost).toHaveLength(5);

    gate.give(20);
    await until(
      async () => (await req('GET', `/datasets/${ds}/runs/${runId}`)).body.status,
      (s) => s === 'completed',
    );
    const text = await scrape(assay);
    expect(value(text, 'assay_claims_lost_total')).toBe(5);
    expect(finished(text)).toBe(20);
    const results = await req('GET', `/datasets/${ds}/runs/${runId}/results?perPage=100`);
    expect(results.body.results.every((r: { status: string }) => r.status === 'succeeded')).toBe(true);
  });

  it('needs the API key when one is set, as /api does', async () => {
    const key = 'metrics-key-0123456789';
    const assay = await start(gatedConfig(permits()), { apiKey: key });
    const req = apiClient(() => assay.app);
    for (const headers of [{}, { authorization: 'Bearer wrong-key-000000000' }] as Record<string, string>[]) {
      const res = await assay.app.request('/metrics', { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    }
    const text = await scrape(assay, { authorization: `Bearer ${key}` });
    expect(value(text, 'assay_runs', { status: 'pending' })).toBe(0);
    // The refusals were counted too, under the route they asked for.
    expect(value(text, 'assay_http_requests_total', { route: '/metrics', status: '401' })).toBe(2);
    // Health and readiness stay open for probes.
    expect((await req('GET', '/health')).status).toBe(200);
    expect((await req('GET', '/ready')).status).toBe(200);
  });
});

describe('GET /api/ready', () => {
  it('is 200 while storage and queue answer, and 503 NOT_READY naming the storage once its file is gone', async () => {
    const assay = await start(gatedConfig(permits()));
    const req = apiClient(() => assay.app);
    const ready = await req('GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', storage: 'sqlite', queue: 'sqlite' });

    const file = (assay.storageHealth as SqliteHealth).file;
    rmSync(file);
    const down = await req('GET', '/ready');
    expectError(down, 503, 'NOT_READY');
    expect(down.body.error.message).toContain('storage (sqlite)');
    expect(down.body.error.message).toContain(file);
    expect(down.body.error.details.storage).toContain('deleted');
    expect(down.body.error.details.queue).toBe('ok');
    // /api/health reports the same storage state.
    expect((await req('GET', '/health')).status).toBe(503);
  });
});
