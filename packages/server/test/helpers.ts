import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssayConfig } from '@assay/core';
import { type Assay, type AssayOptions, createAssay } from '@assay/runtime';
import { afterEach } from 'vitest';
import { checkResponse } from './contract-check.js';

/** Embedded Assay instances on fresh SQLite files, closed and deleted after each test. */
export function useAssay() {
  const dirs: string[] = [];
  const open: Assay[] = [];
  afterEach(async () => {
    for (const a of open.splice(0)) await a.close(2000);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return async function start(config: AssayConfig, extra: Partial<AssayOptions> = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'assay-test-'));
    dirs.push(dataDir);
    const assay = await createAssay({ config, dataDir, pollMs: 20, retryBaseMs: 5, cancelPollMs: 50, ...extra });
    open.push(assay);
    return assay;
  };
}

export async function call(
  assay: Assay,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await assay.app.request(`/api${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  checkResponse(method, `/api${path}`, res.status, json);
  return { status: res.status, json };
}

export async function dataset(assay: Assay, items: { input: unknown; groundTruth?: unknown }[]) {
  const ds = await call(assay, 'POST', '/datasets', { name: 'test' });
  for (let i = 0; i < items.length; i += 10_000) {
    await call(assay, 'POST', `/datasets/${ds.json.id}/items/batch`, { items: items.slice(i, i + 10_000) });
  }
  return ds.json.id as string;
}

export async function until<T>(fn: () => Promise<T>, pred: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end)
      throw new Error(`condition not met in ${ms} ms; last value ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const FINAL = ['completed', 'failed', 'cancelled'];
export const getRun = async (assay: Assay, ds: string, runId: string) =>
  (await call(assay, 'GET', `/datasets/${ds}/runs/${runId}`)).json;
export const waitRun = (assay: Assay, ds: string, runId: string, ms?: number) =>
  until(
    () => getRun(assay, ds, runId),
    (r) => FINAL.includes(r.status),
    ms,
  );
export async function results(assay: Assay, ds: string, runId: string, query = '') {
  return (await call(assay, 'GET', `/datasets/${ds}/runs/${runId}/results?perPage=1000${query}`)).json.results as any[];
}
