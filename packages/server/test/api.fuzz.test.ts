/**
 * Property-based fuzzing of the whole HTTP API with fast-check: every route the app registers
 * (read from `app.routes`, so a new route is fuzzed without touching this file), under its own
 * methods and others, with hostile bodies, queries, ids and headers, against the real app on a
 * real SQLite file with a real worker. Properties, for every request:
 *
 * - no 5xx;
 * - every error is `{ error: { code, message, details? } }` JSON with no stack trace or file path;
 * - a refused request (4xx) leaves the stored datasets and items exactly as they were.
 *
 * `npm test` runs a bounded pass (FUZZ_RUNS, default 400); `npm run fuzz` runs 10,000 and prints
 * the figures. A failure prints fast-check's seed and shrunk counterexample; replay it with
 * `FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run packages/server/test/api.fuzz.test.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Assay, createAssay } from '@assay/runtime';
import { type AppDeps, createApp } from '@assay/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './api-helpers.js';
import {
  ALLOWED_ORIGIN,
  API_KEY,
  bodyArb,
  EXTRA_METHODS,
  type Fixture,
  headersArb,
  idArb,
  MAX_BODY,
  queryArb,
  toHeaders,
} from './fuzz-arbitraries.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;
/** Generous: the bounded pass takes a few seconds; 10,000 runs take a minute or two. */
const TIMEOUT = 60_000 + RUNS * 30;

let dataDir: string;
let assay: Assay;
let fixture: Fixture;
let apps: Record<string, { request(url: string, init: RequestInit): Response | Promise<Response> }>;
/** Every (method, path) fuzzed: the app's own routes, and every other method on each path. */
let routes: { method: string; path: string; declared: boolean }[];

const stats = { requests: 0, byStatus: new Map<number, number>(), refusedWrites: 0 };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'assay-fuzz-'));
  assay = await createAssay({
    config: {
      targets: [{ id: 'echo', type: 'function', run: async (input) => input }],
      scorers: [{ id: 'half', score: () => 0.5 }],
    },
    dataDir,
    worker: true,
    pollMs: 20,
    workerConcurrency: 2,
  });
  const deps: AppDeps = { storage: assay.storage, registry: assay.registry, runs: assay.runs, events: assay.events };
  const common = { ...deps, allowedOrigins: [ALLOWED_ORIGIN], maxBodyBytes: MAX_BODY };
  apps = {
    // `assay serve` on loopback, on a public bind with its key, and createAssay's own app.
    loopback: createApp({ ...common, loopbackOnly: true }),
    keyed: createApp({ ...common, apiKey: API_KEY }),
    embedded: assay.app,
  };

  const ds = await assay.storage.createDataset({ name: 'fuzz-fixture', scorerIds: ['half'] });
  const { items } = await assay.storage.addItems(
    ds.id,
    Array.from({ length: 5 }, (_, n) => ({ input: { n }, groundTruth: n })),
  );
  const runIds: string[] = [];
  for (let i = 0; i < 2; i++) runIds.push((await assay.runs.trigger(ds.id, { targetId: 'echo' })).id);
  for (const id of runIds) {
    await waitFor(
      () => assay.storage.getRun(id),
      (r) => r?.status === 'completed',
    );
  }
  fixture = { datasetId: ds.id, itemIds: items.map((i) => i.id), runIds };

  const declared = assay.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'));
  const seen = new Set<string>();
  routes = [];
  for (const r of declared) {
    for (const method of [r.method, ...EXTRA_METHODS]) {
      const key = `${method} ${r.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      routes.push({ method, path: r.path, declared: method === r.method });
    }
  }
  routes.push({ method: 'GET', path: '/api/nope', declared: false }, { method: 'POST', path: '/api', declared: false });
});

afterAll(async () => {
  const counts = [...stats.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
  const fivexx = [...stats.byStatus].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  console.log(
    `[fuzz] ${stats.requests} requests over ${routes?.length ?? 0} (method, route) pairs; ` +
      `${stats.refusedWrites} refused writes checked against a storage snapshot; 5xx: ${fivexx}; ` +
      `status counts { ${counts.join(', ')} }`,
  );
  await assay?.close(5_000);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// ── the checks ──

const REPO = resolve(import.meta.dirname, '../../..');
/** What a leaked stack trace or server path looks like. */
const LEAKS = [
  /\n\s*at \S/,
  /\bat [^\s()]+ \((?:file:\/\/|\/|node:)[^)]*:\d+:\d+\)/,
  /node:internal/,
  /node_modules/,
  /\.ts:\d+:\d+/,
  new RegExp(REPO.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
];

function leaks(text: string): RegExp | undefined {
  return LEAKS.find((re) => re.test(text));
}

/** Datasets and their items as stored (plus the fixture's run count): what a refused request must not change. */
async function snapshot(): Promise<string> {
  const datasets = await assay.storage.listDatasets({ page: 0, perPage: 1000 });
  const parts: unknown[] = [datasets.pagination.total];
  for (const d of datasets.rows) {
    parts.push(d, (await assay.storage.listItems(d.id, { page: 0, perPage: 1000 })).rows);
  }
  parts.push((await assay.storage.listRuns(fixture.datasetId, { page: 0, perPage: 1 })).pagination.total);
  return JSON.stringify(parts);
}
/**
 * The snapshot as of now. Only accepted writes and the rows `protectFixture` adds change it (the
 * worker writes runs and results, not datasets or items), so it is recomputed only after those.
 */
let known: string | undefined;
const current = async () => {
  known ??= await snapshot();
  return known;
};

interface FuzzRequest {
  route: { method: string; path: string; declared: boolean };
  app: string;
  ids: string[];
  query: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * Deletes hit fresh rows instead of the fixture, so the fixture stays there for the next requests.
 * Returns what to clean up when the delete is refused.
 */
async function protectFixture(
  r: FuzzRequest,
  path: string,
): Promise<{ path: string; body?: string; cleanup?: () => Promise<void> }> {
  let body = r.body;
  if (r.route.method !== 'DELETE') return { path, body };
  if (r.route.path === '/api/datasets/:id' && r.ids[0] === fixture.datasetId) {
    const ds = await assay.storage.createDataset({ name: 'sacrificial' });
    known = undefined;
    return {
      path: path.replace(fixture.datasetId, ds.id),
      body,
      cleanup: () => assay.storage.deleteDataset(ds.id),
    };
  }
  const fresh: string[] = [];
  const add = async () => {
    const id = (await assay.storage.addItems(fixture.datasetId, [{ input: 'sacrificial' }])).items[0].id;
    fresh.push(id);
    return id;
  };
  for (const id of fixture.itemIds) {
    if (path.includes(id)) path = path.replace(id, await add());
    if (body?.includes(id)) body = body.replaceAll(id, await add());
  }
  if (fresh.length) known = undefined;
  return {
    path,
    body,
    cleanup: fresh.length
      ? async () => {
          await assay.storage.deleteItems(fixture.datasetId, fresh);
        }
      : undefined,
  };
}

async function send(r: FuzzRequest): Promise<void> {
  let i = 0;
  const rawPath = r.route.path.replace(/:\w+/g, () => r.ids[i++] ?? 'x');
  const { path, body, cleanup } = await protectFixture(r, rawPath);
  const method = r.route.method;
  const init: RequestInit = { method, headers: r.headers, signal: AbortSignal.timeout(10_000) };
  if (body !== undefined && method !== 'GET' && method !== 'HEAD') init.body = body;
  const writes = !['GET', 'HEAD', 'OPTIONS'].includes(method);
  const before = writes ? await current() : '';

  const res = await apps[r.app].request(`${path}${r.query}`, init);
  const text = await res.text();
  stats.requests++;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  const what = `${method} ${path.slice(0, 200)}${r.query.slice(0, 200)} [${r.app}] ${JSON.stringify(r.headers)} body=${(body ?? '(none)').slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`;

  expect(res.status, what).toBeLessThan(500);
  expect(leaks(text), what).toBeUndefined();
  if (res.status >= 400 && method !== 'HEAD') {
    expect(res.headers.get('content-type'), what).toContain('application/json');
    const parsed = JSON.parse(text);
    expect(Object.keys(parsed), what).toEqual(['error']);
    const { code, message, details, ...rest } = parsed.error;
    expect(rest, what).toEqual({});
    expect(code, what).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(typeof message, what).toBe('string');
    expect(message.length, what).toBeGreaterThan(0);
    expect(leaks(message) ?? leaks(JSON.stringify(details ?? null)), what).toBeUndefined();
  } else if (res.status < 300 && text !== '' && res.headers.get('content-type')?.includes('application/json')) {
    expect(() => JSON.parse(text), what).not.toThrow();
  }
  if (!writes) return;
  if (res.status >= 400) {
    stats.refusedWrites++;
    known = await snapshot();
    expect(known, `${what}\nchanged the stored data`).toBe(before);
    if (cleanup) {
      await cleanup();
      known = undefined;
    }
  } else {
    known = undefined;
  }
}

function requestArb(): fc.Arbitrary<FuzzRequest> {
  const own = routes.filter((r) => r.declared);
  const others = routes.filter((r) => !r.declared);
  const route = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...own) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
  );
  return route.chain((route) => {
    const params = route.path.match(/:\w+/g)?.map((p) => p.slice(1)) ?? [];
    const template = routes.find((r) => r.path === route.path && r.declared && r.method !== 'GET') ?? route;
    return fc.record({
      route: fc.constant(route),
      app: fc.constantFrom('loopback', 'keyed', 'embedded'),
      ids: params.length ? fc.tuple(...params.map((p) => idArb(p, fixture))) : fc.constant([] as string[]),
      query: queryArb,
      headers: headersArb.map(toHeaders),
      body: bodyArb(`${template.method} ${route.path}`, fixture),
    });
  });
}

describe('API fuzz (fast-check)', () => {
  it(
    'every route and method: no 5xx, errors in the one shape without stacks, refused requests change nothing',
    async () => {
      expect(routes.length).toBeGreaterThan(100);
      await fc.assert(fc.asyncProperty(requestArb(), send), {
        numRuns: RUNS,
        ...(SEED === undefined ? {} : { seed: SEED }),
        ...(PATH === undefined ? {} : { path: PATH }),
      });
    },
    TIMEOUT,
  );

  it(
    'every (method, route) pair at least once with a hostile body and headers',
    async () => {
      const hostile = fc.sample(headersArb.map(toHeaders), { numRuns: routes.length, seed: 7 });
      const names = Object.keys(apps);
      for (const [n, route] of routes.entries()) {
        const params = route.path.match(/:\w+/g) ?? [];
        const ids = params.map((p) => (p === ':id' ? fixture.datasetId : p === ':runId' ? fixture.runIds[0] : 'nope'));
        const bodies = [undefined, '{"__proto__":{"x":1}}', '{', `{"a":${'['.repeat(300)}${']'.repeat(300)}}`];
        for (const [j, body] of bodies.entries()) {
          const app = names[(n + j) % names.length];
          await send({ route, app, ids, query: '?page=-1&perPage=1e9', headers: hostile[n], body });
          await send({
            route,
            app,
            ids,
            query: '?page=NaN&page=2',
            headers: { 'content-type': 'text/plain', authorization: `bearer ${API_KEY}` },
            body,
          });
        }
      }
    },
    TIMEOUT,
  );
});
