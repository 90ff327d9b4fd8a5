import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssayApiError } from '@assay/client';
import { type Assay, createAssay } from '@assay/runtime';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { Driver, doneCount, isFinal, workerPid } from '../src/driver.js';
import { rawApi } from '../src/http.js';

// The driver against an embedded Assay, in-process (the app's fetch, no port): what the e2e suites rely on.
let dir: string;
let assay: Assay;
let d: Driver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'assay-testkit-'));
  assay = await createAssay({
    config: { targets: [{ id: 'echo', type: 'function', run: (input: { answer: string }) => input.answer }] },
    dataDir: dir,
    pollMs: 20,
  });
  d = new Driver('http://assay.test', { fetch: (request) => assay.app.fetch(request) });
});
afterAll(async () => {
  await assay.close(2_000);
  rmSync(dir, { recursive: true, force: true });
});

describe('Driver', () => {
  it('seeds in batches, starts a run (202), waits for it and reads every result page', async () => {
    const ds = await d.seedAnswers('answers', 450); // three batches of at most 200
    expect(ds.items).toHaveLength(450);
    expect(d.lastStatus).toBe(201);
    const accepted = await d.startRun(ds.id, { targetId: 'echo', scorerIds: ['exact-match'] });
    expect(accepted.status).toBe('pending');
    const run = await d.waitRunFinal(ds.id, accepted.runId);
    expectTypeOf(run.succeededCount).toEqualTypeOf<number>();
    expect(run).toMatchObject({ status: 'completed', succeededCount: 450, failedCount: 0 });
    expect(isFinal(run)).toBe(true);
    expect(doneCount(run)).toBe(450);
    const results = await d.allResults(ds.id, accepted.runId); // 100 a page: five pages
    expect(new Set(results.map((r) => r.itemId)).size).toBe(450);
    expect(results.every((r) => r.output === (r.input as { answer: string }).answer)).toBe(true);
    expect(Number.isInteger(workerPid(results[0].workerId))).toBe(true);
  });

  it('a non-2xx answer rejects with the status and code; lastStatus records it', async () => {
    await expect(d.getDataset('ds_missing')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(d.lastStatus).toBe(404);
    const error = await d.startRun('ds_missing', { targetId: 'echo' }).catch((e: unknown) => e);
    expect(AssayApiError.is(error)).toBe(true);
  });

  it('isFinal and doneCount read a run row; workerPid reads the pid of a worker id', () => {
    expect(isFinal({ status: 'running' })).toBe(false);
    expect(isFinal(null)).toBe(false);
    expect(doneCount({ succeededCount: 2, failedCount: 3 })).toBe(5);
    expect(doneCount(undefined)).toBe(0);
    expect(workerPid('host:4242:slot-1')).toBe(4242);
    expect(workerPid(null)).toBeNaN();
  });
});

describe('rawApi', () => {
  it('sends a string body as it is and an object as JSON, and reads a non-JSON answer as { raw }', async () => {
    const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
        if (body.startsWith('{"name":') && !body.endsWith('}')) res.writeHead(400).end('not JSON');
        else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const broken = await rawApi(base, 'POST', '/datasets', '{"name":');
      expect(broken).toMatchObject({ status: 400, json: { raw: 'not JSON' } });
      const ok = await rawApi(base, 'PATCH', '/datasets/x', { name: 'n' }, { 'content-type': 'text/plain' });
      expect(ok).toMatchObject({ status: 200, json: { echo: '{"name":"n"}' } });
      expect(seen).toEqual([
        { method: 'POST', url: '/api/datasets', type: 'application/json', body: '{"name":' },
        { method: 'PATCH', url: '/api/datasets/x', type: 'text/plain', body: '{"name":"n"}' },
      ]);
    } finally {
      server.close();
    }
  });
});
