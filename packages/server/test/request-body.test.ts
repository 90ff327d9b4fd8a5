/**
 * Request bodies: JSON only (415 otherwise, bodiless requests need no type), no `__proto__` /
 * `constructor` / `prototype` keys at any depth (400 naming the key and its path), and a client
 * that hangs up mid-upload is one log line, not an unexpected error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogFields, Logger } from '@assay/core';
import { type Assay, createAssay } from '@assay/runtime';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, expectError, waitFor } from './api-helpers.js';

let assay: Assay;
let dataDir: string;
/** Every line the server logged: the logger port writes here instead of stdout. */
const lines: { level: string; fields: LogFields; message: string }[] = [];
const recorder = (bindings: LogFields = {}): Logger => {
  const at =
    (level: string) =>
    (fields: LogFields, message: string): void => {
      lines.push({ level, fields: { ...bindings, ...fields }, message });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recorder({ ...bindings, ...more }),
  };
};
const req = apiClient(() => assay.app);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'assay-body-'));
  assay = await createAssay({
    config: { targets: [{ id: 'echo', type: 'function', run: async (x) => x }], scorers: [] },
    dataDir,
    pollMs: 20,
    logger: recorder(),
  });
});
afterAll(async () => {
  await assay?.close(2_000);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every dataset with its items: what refused requests must leave unchanged. */
async function snapshot() {
  const list = await req('GET', '/datasets?perPage=1000');
  const out: unknown[] = [];
  for (const ds of list.body.datasets) {
    out.push([ds, (await req('GET', `/datasets/${ds.id}/items?perPage=1000`)).body.items]);
  }
  return out;
}

async function fixture() {
  const ds = (await req('POST', '/datasets', { name: 'body' })).body.id as string;
  const item = (await req('POST', `/datasets/${ds}/items`, { input: 1 })).body.id as string;
  const run = (await req('POST', `/datasets/${ds}/runs`, { targetId: 'echo' })).body.runId as string;
  await waitFor(
    async () => (await req('GET', `/datasets/${ds}/runs/${run}`)).body.status,
    (s) => s === 'completed',
  );
  return { ds, item, run };
}

describe('415 for bodies that are not application/json', () => {
  it('refuses other content types, and a body without one, on every JSON route; stores nothing', async () => {
    const { ds, item, run } = await fixture();
    const routes: [string, string, string][] = [
      ['POST', '/datasets', '{"name":"x"}'],
      ['PATCH', `/datasets/${ds}`, '{"name":"x"}'],
      ['POST', `/datasets/${ds}/items`, '{"input":2}'],
      ['POST', `/datasets/${ds}/items/batch`, '{"items":[{"input":2}]}'],
      ['DELETE', `/datasets/${ds}/items/batch`, `{"itemIds":["${item}"]}`],
      ['PATCH', `/datasets/${ds}/items/${item}`, '{"input":3}'],
      ['POST', `/datasets/${ds}/runs`, '{"targetId":"echo"}'],
      ['POST', `/datasets/${ds}/compare`, `{"runIdA":"${run}","runIdB":"${run}"}`],
    ];
    const types = [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json-patch+json',
      'text/json',
      'application/json; boundary=x',
    ];
    const before = await snapshot();
    for (const [method, path, raw] of routes) {
      for (const type of types) {
        const r = await req(method, path, undefined, { raw, headers: { 'content-type': type } });
        expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect(r.body.error.message).toContain('application/json');
      }
      // No Content-Type at all (a byte body gets none from fetch).
      const res = await assay.app.request(`/api${path}`, { method, body: new TextEncoder().encode(raw) });
      expect(res.status, `${method} ${path}`).toBe(415);
      expect(((await res.json()) as any).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('accepts application/json with a charset, in any case', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
      const r = await req('POST', '/datasets', undefined, {
        raw: '{"name":"typed"}',
        headers: { 'content-type': type },
      });
      expect(r.status, type).toBe(201);
    }
  });

  it('requests without a body need no content type (GET, DELETE, cancel, retry) — as the SDK sends them', async () => {
    const { ds, item, run } = await fixture();
    const bare = (method: string, path: string, headers: Record<string, string> = {}) =>
      assay.app.request(`/api${path}`, { method, headers });
    expect((await bare('GET', `/datasets/${ds}`)).status).toBe(200);
    // A completed run without failures has nothing to retry or cancel: 409, not 415.
    expect((await bare('POST', `/datasets/${ds}/runs/${run}/retry`)).status).toBe(409);
    expect((await bare('POST', `/datasets/${ds}/runs/${run}/cancel`)).status).toBe(409);
    // An empty body with some other declared type is still no body.
    expect(
      (await bare('POST', `/datasets/${ds}/runs/${run}/cancel`, { 'content-type': 'text/plain' })).status,
    ).not.toBe(415);
    const empty = await assay.app.request(`/api/datasets/${ds}/runs/${run}/cancel`, { method: 'POST', body: '' });
    expect(empty.status).not.toBe(415);
    expect((await bare('DELETE', `/datasets/${ds}/items/${item}`)).status).toBe(200);
    expect((await bare('DELETE', `/datasets/${ds}`)).status).toBe(200);
  });
});

describe('__proto__, constructor and prototype keys', () => {
  it('are refused with a 400 naming the key and its path, at any depth, on every body; nothing is stored', async () => {
    const { ds, item, run } = await fixture();
    const cases: [string, string, string, string, string][] = [
      [
        'POST',
        '/datasets',
        '{"name":"p","metadata":{"__proto__":{"polluted":true}}}',
        '__proto__',
        'metadata.__proto__',
      ],
      ['POST', '/datasets', '{"__proto__":{"name":"p"},"name":"p"}', '__proto__', '__proto__'],
      [
        'PATCH',
        `/datasets/${ds}`,
        '{"inputSchema":{"properties":{"constructor":{}}}}',
        'constructor',
        'inputSchema.properties.constructor',
      ],
      ['POST', `/datasets/${ds}/items`, '{"input":{"a":[1,{"prototype":1}]}}', 'prototype', 'input.a.1.prototype'],
      [
        'POST',
        `/datasets/${ds}/items/batch`,
        '{"items":[{"input":1},{"input":2,"metadata":{"x":{"__proto__":1}}}]}',
        '__proto__',
        'items.1.metadata.x.__proto__',
      ],
      ['DELETE', `/datasets/${ds}/items/batch`, '{"itemIds":["a"],"constructor":1}', 'constructor', 'constructor'],
      [
        'PATCH',
        `/datasets/${ds}/items/${item}`,
        '{"groundTruth":{"constructor":{"prototype":{}}}}',
        'constructor',
        'groundTruth.constructor',
      ],
      [
        'POST',
        `/datasets/${ds}/runs`,
        '{"targetId":"echo","metadata":{"__proto__":{"isAdmin":true}}}',
        '__proto__',
        'metadata.__proto__',
      ],
      [
        'POST',
        `/datasets/${ds}/compare`,
        `{"runIdA":"${run}","runIdB":"x","thresholds":{"__proto__":1}}`,
        '__proto__',
        'thresholds.__proto__',
      ],
    ];
    const before = await snapshot();
    for (const [method, path, raw, key, at] of cases) {
      const r = await req(method, path, undefined, { raw });
      expectError(r, 400, 'VALIDATION_ERROR');
      expect(r.body.error.message, raw).toContain(`'${key}'`);
      expect(r.body.error.message, raw).toContain(at);
      expect(r.body.error.details, raw).toMatchObject({ key, issues: [{ path: at }] });
    }
    expect(await snapshot()).toEqual(before);
    expect(({} as any).polluted).toBeUndefined();
    expect(({} as any).isAdmin).toBeUndefined();
  });

  it('ordinary keys and values that merely mention them are fine', async () => {
    const r = await req('POST', '/datasets', {
      name: '__proto__',
      metadata: { note: 'constructor', protos: ['prototype'] },
    });
    expect(r.status).toBe(201);
    expect(r.body.metadata).toEqual({ note: 'constructor', protos: ['prototype'] });
  });

  it('the check is iterative and linear: 100,000 levels of nesting and 200,000 keys answer at once', async () => {
    const { ds } = await fixture();
    const depth = 100_000;
    const deep = await req('POST', `/datasets/${ds}/items`, undefined, {
      raw: `{"input":${'{"a":'.repeat(depth)}{"__proto__":1}${'}'.repeat(depth)}}`,
    });
    expectError(deep, 400, 'VALIDATION_ERROR');
    const wide = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`k${i}`, i]));
    const started = performance.now();
    const r = await req('POST', `/datasets/${ds}/items`, undefined, {
      raw: JSON.stringify({ input: wide }).replace('"k199999"', '"constructor"'),
    });
    expectError(r, 400, 'VALIDATION_ERROR');
    expect(r.body.error.details.issues[0].path).toBe('input.constructor');
    // Generous: the point is "not quadratic", not a speed target.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('a client that aborts an upload', () => {
  it('is logged as one line without a stack, not as an unexpected error', async () => {
    const server = serve({ fetch: assay.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const port = (server.address() as AddressInfo).port;
    const before = lines.length;
    const since = () => lines.slice(before);
    try {
      const framings = ['content-length: 100000', 'transfer-encoding: chunked'];
      for (const framing of framings) {
        const socket = connect(port, '127.0.0.1');
        await new Promise<void>((r) => socket.once('connect', () => r()));
        socket.write(
          `POST /api/datasets HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n${framing}\r\n\r\n`,
        );
        socket.write(framing.startsWith('content-length') ? '{"name":"half' : '6\r\n{"name\r\n');
        await new Promise((r) => setTimeout(r, 50));
        socket.destroy();
      }
      const warnings = () => since().filter((l) => l.level === 'warn');
      await waitFor(
        async () => warnings().length,
        (n) => n >= framings.length,
        5_000,
      );
      await new Promise((r) => setTimeout(r, 100));
      expect(since().filter((l) => l.level === 'error')).toEqual([]);
      expect(warnings()).toHaveLength(framings.length);
      for (const line of warnings()) {
        expect(line.message).not.toContain('\n');
        expect(line.message).toContain('closed the connection');
        expect(line.fields).toEqual({ method: 'POST', path: '/api/datasets' });
      }
    } finally {
      server.close();
    }
  });
});
