import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type AssayConfig, abortableSleep } from '@assay/core';
import { responseSchemaFor } from '@assay/core/api';
import { type Assay, createAssay } from '@assay/runtime';
import { serve } from '@hono/node-server';
import { afterEach, expect } from 'vitest';

/** Offline targets and one custom scorer: everything the SDK tests run. */
export const config: AssayConfig = {
  targets: [
    { id: 'echo', type: 'function', run: (input: any) => input?.answer ?? input },
    {
      id: 'slow',
      type: 'agent',
      run: async (input: any, ctx) => {
        await abortableSleep(40, ctx.signal);
        return input?.answer ?? input;
      },
    },
    {
      id: 'wrong',
      type: 'function',
      run: (input: any) => (typeof input === 'number' && input % 2 === 0 ? input : 'wrong'),
    },
    {
      id: 'broken',
      type: 'function',
      run: () => {
        throw Object.assign(new Error('model unavailable'), { retryable: false });
      },
    },
  ],
  scorers: [{ id: 'non-empty', score: ({ output }) => (output ? 1 : 0) }],
};

export interface RealServer {
  url: string;
  port: number;
  dataDir: string;
  assay: Assay;
  /** Stops the HTTP server (dropping open event streams) and the engine, as a crash-free shutdown would. */
  stop(): Promise<void>;
}

/** The embedded Assay on a real HTTP port (loopback), on `dataDir` (fresh unless given). */
export async function startServer(
  opts: { dataDir?: string; port?: number; apiKey?: string; worker?: boolean } = {},
): Promise<RealServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'assay-client-'));
  const assay = await createAssay({
    config,
    dataDir,
    apiKey: opts.apiKey,
    worker: opts.worker,
    pollMs: 20,
    retryBaseMs: 5,
    cancelPollMs: 50,
    leaseMs: 2_000,
  });
  const server = serve({ fetch: checked(assay.app.fetch), port: opts.port ?? 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    assay,
    async stop() {
      if (stopped) return;
      stopped = true;
      const closed = new Promise((r) => server.close(r));
      (server as unknown as { closeAllConnections(): void }).closeAllConnections();
      await closed;
      await assay.close(2_000);
    },
  };
}

/** Answers of the test servers that did not match their contract schema (checked after each test). */
const violations: string[] = [];

/** The app's fetch, with each JSON answer checked against its schema in the contract. */
function checked(fetch: (req: Request) => Response | Promise<Response>) {
  return async (req: Request) => {
    const res = await fetch(req);
    if (!res.headers.get('content-type')?.includes('application/json')) return res;
    const url = new URL(req.url);
    try {
      const schema = responseSchemaFor(req.method, url.pathname, res.status);
      const body = await res.clone().json();
      const r = schema?.safeParse(body);
      if (r && !r.success) violations.push(`${req.method} ${url.pathname} → ${res.status}: ${r.error.message}`);
      // Parsing drops fields the schema does not name: more than the contract says differs.
      else if (r && !isDeepStrictEqual(r.data, body))
        violations.push(`${req.method} ${url.pathname} → ${res.status}: fields the contract does not name`);
    } catch (e) {
      violations.push(`${req.method} ${url.pathname} → ${res.status}: ${(e as Error).message}`);
    }
    return res;
  };
}

/** Servers and data directories of a test file, stopped and removed after each test. */
export function useServers() {
  const servers: RealServer[] = [];
  const dirs = new Set<string>();
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    expect(violations.splice(0), 'answers that do not match the contract').toEqual([]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs.clear();
  });
  return async (opts: Parameters<typeof startServer>[0] = {}) => {
    const s = await startServer(opts);
    servers.push(s);
    dirs.add(s.dataDir);
    return s;
  };
}
