/**
 * `assay serve` and where requests may come from: the ASSAY_API_KEY length rule, ASSAY_ALLOWED_ORIGINS
 * (CORS for those pages, 403 for others) and the Host check of a loopback bind (DNS rebinding),
 * on the real binary over real HTTP.
 */
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { assay, type Spawned, spawnAssay, workspace } from './helpers.js';

const ws = workspace();
const running: Spawned[] = [];
afterAll(async () => {
  for (const s of running) s.child.kill('SIGTERM');
  await Promise.all(running.map((s) => s.done));
});

async function serve(args: string[], env: Record<string, string>): Promise<string> {
  const s = spawnAssay(['serve', '--port', '0', '--no-worker', ...args], ws.dir, env);
  running.push(s);
  const [, port] = await s.waitFor(/listening on http:\/\/\S+:(\d+)/);
  return port;
}

/** A raw HTTP request to 127.0.0.1 (fetch cannot set Host). */
function get(port: string, path: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: any }>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: Number(port), path, method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }),
      );
    });
    r.on('error', reject);
    r.end();
  });
}

describe('ASSAY_API_KEY', () => {
  it('a key shorter than 16 characters refuses to start, saying why', async () => {
    const keys = ['short', 'fifteen-chars!!', `  ${'x'.repeat(15)}  `];
    const results = await Promise.all(
      keys.map((key) => assay(['serve', '--port', '0', '--data-dir', 'd-short'], ws.dir, { ASSAY_API_KEY: key })),
    );
    for (const r of results) {
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      expect(r.stderr).toContain('ASSAY_API_KEY');
      expect(r.stderr).toContain('at least 16');
      expect(r.stdout).not.toContain('listening');
    }
  });

  it('a key of only whitespace is no key: a public bind refuses to start without one', async () => {
    const r = await assay(['serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', 'd-blank'], ws.dir, {
      ASSAY_API_KEY: '   ',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('without an API key');
  });

  it('a long enough key is trimmed, and the scheme may be written in any case', async () => {
    const key = 'serve-test-key-0123456789';
    const port = await serve(['--data-dir', 'd-key'], { ASSAY_API_KEY: ` ${key} ` });
    expect((await get(port, '/api/datasets', {})).status).toBe(401);
    expect((await get(port, '/api/datasets', { authorization: `bearer ${key}` })).status).toBe(200);
    expect((await get(port, '/api/datasets', { authorization: `BEARER ${key}` })).status).toBe(200);
  });
});

describe('ASSAY_ALLOWED_ORIGINS and Host', () => {
  it('refuses to start on an entry that is not an origin', async () => {
    const r = await assay(['serve', '--port', '0', '--data-dir', 'd-bad'], ws.dir, {
      ASSAY_ALLOWED_ORIGINS: 'https://ok.example,app.example.com/path',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ASSAY_ALLOWED_ORIGINS');
    expect(r.stderr).toContain("'app.example.com/path' is not an origin");
  });

  it('on a loopback bind: allowed origins get CORS, others 403, and a foreign Host is refused', async () => {
    const port = await serve(['--data-dir', 'd-origins'], { ASSAY_ALLOWED_ORIGINS: 'https://app.example.com' });
    const pre = await get(
      port,
      '/api/datasets',
      { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const ok = await get(port, '/api/datasets', { origin: 'https://app.example.com' });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    // The UI's own origin.
    expect((await get(port, '/api/datasets', { origin: `http://127.0.0.1:${port}` })).status).toBe(200);

    const evil = await get(port, '/api/datasets', { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.body.error.code).toBe('FORBIDDEN_ORIGIN');
    const crossSite = await get(port, '/api/datasets', { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.body.error.code).toBe('FORBIDDEN_ORIGIN');

    // DNS rebinding: evil.example now resolves to 127.0.0.1.
    const rebound = await get(port, '/api/datasets', { host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.error.code).toBe('FORBIDDEN_HOST');
    expect((await get(port, '/api/health', { host: 'evil.example' })).status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `assay.localhost:${port}`]) {
      expect((await get(port, '/api/datasets', { host })).status, host).toBe(200);
    }
  });

  it('on a public bind (with its API key) Host is not checked', async () => {
    const key = 'public-bind-key-0123456789';
    const port = await serve(['--host', '0.0.0.0', '--data-dir', 'd-public'], { ASSAY_API_KEY: key });
    const r = await get(port, '/api/datasets', { host: 'assay.example.com', authorization: `Bearer ${key}` });
    expect(r.status).toBe(200);
  });
});
