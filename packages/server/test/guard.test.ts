/**
 * Requests only from where they belong (guard.ts): browser pages of other origins are refused
 * unless allowed (and then answered with CORS), `Sec-Fetch-Site: cross-site` is refused, and a
 * loopback-only server refuses any `Host` that is not loopback (DNS rebinding).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Assay, createAssay } from '@assay/runtime';
import { type AppDeps, createApp, isLoopbackAddress, parseAllowedOrigins } from '@assay/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, expectError } from './api-helpers.js';

let assay: Assay;
let dataDir: string;
let deps: Pick<AppDeps, 'storage' | 'registry' | 'runs' | 'events'>;
let uiDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'assay-guard-'));
  assay = await createAssay({ config: { targets: [], scorers: [] }, dataDir, worker: false });
  deps = { storage: assay.storage, registry: assay.registry, runs: assay.runs, events: assay.events };
  uiDir = mkdtempSync(join(tmpdir(), 'assay-guard-ui-'));
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>ui</title>');
});
afterAll(async () => {
  await assay?.close(2_000);
  for (const d of [uiDir, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

const datasetCount = async () =>
  (await apiClient(() => createApp(deps))('GET', '/datasets?perPage=1')).body.pagination.total as number;

describe('Origin', () => {
  it('requests without Origin (curl, the SDK in Node) and from the server’s own origin pass', async () => {
    const call = apiClient(() => createApp(deps));
    expect((await call('GET', '/datasets')).status).toBe(200);
    // app.request('/api/…') is addressed to http://localhost.
    expect((await call('GET', '/datasets', undefined, { headers: { origin: 'http://localhost' } })).status).toBe(200);
    const own = { host: '127.0.0.1:4141', origin: 'http://127.0.0.1:4141', 'sec-fetch-site': 'same-origin' };
    expect((await call('GET', '/datasets', undefined, { headers: own })).status).toBe(200);
    expect((await call('POST', '/datasets', { name: 'from the ui' }, { headers: own })).status).toBe(201);
    // Behind TLS termination the page is https:// while the Host is the same.
    const tls = { host: 'assay.example.com', origin: 'https://assay.example.com' };
    expect((await call('GET', '/datasets', undefined, { headers: tls })).status).toBe(200);
    // Typed by a user, or a same-origin page: Sec-Fetch-Site none / same-origin.
    for (const site of ['none', 'same-origin']) {
      expect((await call('GET', '/datasets', undefined, { headers: { 'sec-fetch-site': site } })).status).toBe(200);
    }
  });

  it('other origins get 403 FORBIDDEN_ORIGIN on every method, and a refused write stores nothing', async () => {
    const call = apiClient(() => createApp(deps));
    const before = await datasetCount();
    const evil = [
      'https://evil.example',
      'http://localhost:3000',
      'http://127.0.0.1:4142',
      'null',
      'file://',
      'garbage',
      'http://localhost/path',
    ];
    for (const origin of evil) {
      const headers = { host: '127.0.0.1:4141', origin };
      expectError(await call('GET', '/datasets', undefined, { headers }), 403, 'FORBIDDEN_ORIGIN');
      expectError(await call('GET', '/health', undefined, { headers }), 403, 'FORBIDDEN_ORIGIN');
      expectError(await call('POST', '/datasets', { name: 'csrf' }, { headers }), 403, 'FORBIDDEN_ORIGIN');
      expectError(await call('OPTIONS', '/datasets', undefined, { headers }), 403, 'FORBIDDEN_ORIGIN');
    }
    const r = await call('POST', '/datasets', { name: 'csrf' }, { headers: { origin: 'https://evil.example' } });
    expect(r.body.error.message).toContain('ASSAY_ALLOWED_ORIGINS');
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(await datasetCount()).toBe(before);
  });

  it('Sec-Fetch-Site: cross-site without an allowed Origin is refused', async () => {
    const call = apiClient(() => createApp(deps));
    const r = await call('GET', '/datasets', undefined, { headers: { 'sec-fetch-site': 'cross-site' } });
    expectError(r, 403, 'FORBIDDEN_ORIGIN');
    const upper = await call('GET', '/datasets', undefined, { headers: { 'sec-fetch-site': 'Cross-Site' } });
    expectError(upper, 403, 'FORBIDDEN_ORIGIN');
    // With an allowed origin it passes.
    const app = createApp({ ...deps, allowedOrigins: ['https://app.example.com'] });
    const ok = await apiClient(() => app)('GET', '/datasets', undefined, {
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' },
    });
    expect(ok.status).toBe(200);
  });

  it('allowed origins get CORS headers and their preflight is answered, before the API key', async () => {
    const app = createApp({ ...deps, allowedOrigins: ['https://app.example.com'], apiKey: 'k'.repeat(20) });
    const call = apiClient(() => app);
    const origin = 'https://app.example.com';
    const pre = await call('OPTIONS', '/datasets', undefined, {
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization, idempotency-key',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-methods')).toContain('DELETE');
    const allowHeaders = pre.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['content-type', 'authorization', 'idempotency-key']) expect(allowHeaders).toContain(h);
    expect(pre.headers.get('vary')).toContain('Origin');
    expect(Number(pre.headers.get('access-control-max-age'))).toBeGreaterThan(0);

    const auth = { authorization: `Bearer ${'k'.repeat(20)}` };
    const get = await call('GET', '/datasets', undefined, { headers: { origin, ...auth } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(origin);
    expect(get.headers.get('vary')).toContain('Origin');
    // Errors carry the CORS headers too, so the page can read them.
    const denied = await call('GET', '/datasets', undefined, { headers: { origin } });
    expectError(denied, 401, 'UNAUTHORIZED');
    expect(denied.headers.get('access-control-allow-origin')).toBe(origin);
    // The origin is compared in canonical form.
    const upper = await call('GET', '/datasets', undefined, {
      headers: { origin: 'HTTPS://APP.EXAMPLE.COM:443', ...auth },
    });
    expect(upper.status).toBe(200);
    // Another origin is still refused, preflight included.
    const other = await call('OPTIONS', '/datasets', undefined, {
      headers: { origin: 'https://app.example.com.evil.example', 'access-control-request-method': 'POST' },
    });
    expectError(other, 403, 'FORBIDDEN_ORIGIN');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the web UI outside /api opens from links on other sites', async () => {
    const app = createApp({ ...deps, uiDir });
    const res = await app.request('/datasets/ds_1', {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>ui</title>');
  });
});

describe('Host on a loopback-only server (DNS rebinding)', () => {
  const refused = [
    'evil.example',
    'evil.example:4141',
    '127.0.0.1.evil.example',
    'localhost.evil.example',
    '0.0.0.0:4141',
    '10.0.0.1',
    '128.0.0.1',
    '127.0.0.256',
    '[::2]:4141',
    '[::1',
    '',
  ];
  const accepted = [
    'localhost',
    'localhost:4141',
    'LOCALHOST:4141',
    'app.localhost:4141',
    '127.0.0.1',
    '127.0.0.1:4141',
    '127.1.2.3:80',
    '[::1]',
    '[::1]:4141',
  ];

  it('refuses a Host that is not a loopback name or address, on the API, health and the UI', async () => {
    const app = createApp({ ...deps, loopbackOnly: true, uiDir });
    const call = apiClient(() => app);
    for (const host of refused) {
      const r = await call('GET', '/datasets', undefined, { headers: { host } });
      expectError(r, 403, 'FORBIDDEN_HOST');
      expect(r.body.error.message).toContain('loopback');
      expectError(await call('GET', '/health', undefined, { headers: { host } }), 403, 'FORBIDDEN_HOST');
      expectError(await call('GET', '//', undefined, { headers: { host } }), 403, 'FORBIDDEN_HOST');
    }
    const before = await datasetCount();
    expectError(
      await call('POST', '/datasets', { name: 'rebound' }, { headers: { host: 'evil.example' } }),
      403,
      'FORBIDDEN_HOST',
    );
    expect(await datasetCount()).toBe(before);
  });

  it('accepts localhost, *.localhost, 127.x.x.x and [::1] with any port', async () => {
    const app = createApp({ ...deps, loopbackOnly: true });
    const call = apiClient(() => app);
    for (const host of accepted) {
      const r = await call('GET', '/datasets', undefined, { headers: { host } });
      expect(r.status, `${host}: ${r.text}`).toBe(200);
    }
    // In-process requests (no Host header) are addressed to localhost.
    expect((await call('GET', '/datasets')).status).toBe(200);
  });

  it('also accepts the host of an allowed origin (a tunnel or proxy in front of the loopback server)', async () => {
    const app = createApp({ ...deps, loopbackOnly: true, allowedOrigins: ['https://tunnel.example'] });
    const call = apiClient(() => app);
    expect((await call('GET', '/datasets', undefined, { headers: { host: 'tunnel.example' } })).status).toBe(200);
    expectError(
      await call('GET', '/datasets', undefined, { headers: { host: 'other.example' } }),
      403,
      'FORBIDDEN_HOST',
    );
  });

  it('is not checked on a non-loopback bind (which has an API key)', async () => {
    const key = 'a-long-enough-api-key';
    const app = createApp({ ...deps, apiKey: key });
    const r = await apiClient(() => app)('GET', '/datasets', undefined, {
      headers: { host: 'assay.example.com', authorization: `Bearer ${key}` },
    });
    expect(r.status).toBe(200);
  });
});

describe('parseAllowedOrigins, isLoopbackAddress', () => {
  it('parses a comma-separated list into canonical origins', () => {
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins(' ')).toEqual([]);
    expect(parseAllowedOrigins('https://a.example, http://localhost:5173,,HTTPS://A.EXAMPLE:443')).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
  });

  it('refuses entries that are not origins, naming them', () => {
    for (const bad of [
      '*',
      'a.example',
      'https://a.example/path',
      'https://u:p@a.example',
      'ftp://a.example',
      'null',
    ]) {
      expect(() => parseAllowedOrigins(`https://ok.example,${bad}`), bad).toThrow(/ASSAY_ALLOWED_ORIGINS/);
    }
    expect(() => parseAllowedOrigins('a.example')).toThrow("'a.example' is not an origin");
  });

  it('knows loopback bind addresses', () => {
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) expect(isLoopbackAddress(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com']) expect(isLoopbackAddress(h), h).toBe(false);
  });
});
