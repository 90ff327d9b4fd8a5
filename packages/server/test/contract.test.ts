/**
 * The contract against the running app: `GET /api/openapi.json` is a valid OpenAPI 3.1 document
 * (checked by @readme/openapi-parser) with every route of the table and every route the README
 * lists, the app serves exactly the table's routes, and the response check of the API tests
 * refuses a body that drifted from its schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiPath, type RouteDef, routes } from '@assay/core/api';
import { validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/index.js';
import { checkResponse, routeOf } from './contract-check.js';
import { useAssay } from './helpers.js';

const start = useAssay();

/** `(METHOD, /path)` pairs of the README's API section: `GET/POST /datasets`, `GET /health`, … */
function readmeRoutes(): [string, string][] {
  const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## HTTP API'),
    readme.indexOf('\n## ', readme.indexOf('## HTTP API') + 5),
  );
  const out: [string, string][] = [];
  for (const m of section.matchAll(
    /`((?:GET|POST|PATCH|DELETE)(?:\/(?:GET|POST|PATCH|DELETE))*) (\/[^`\s?]*)[^`]*`/g,
  )) {
    for (const method of m[1]!.split('/')) out.push([method, m[2]!.replace(/^\/api(?=\/)/, '')]);
  }
  return out;
}

describe('the API contract', () => {
  it('GET /api/openapi.json is a valid OpenAPI 3.1 document with every route of the table and of the README', async () => {
    const assay = await start({ targets: [] });
    const res = await assay.app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    expect(doc.openapi).toBe('3.1.0');

    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    // The validator does refuse a broken document (a parameter that does not say where it is).
    const broken = await validate({
      ...structuredClone(doc),
      paths: { '/api/x': { get: { parameters: [{ name: 'x', schema: {} }], responses: {} } } },
    } as never);
    expect(broken.valid).toBe(false);

    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
    );
    const table = (Object.entries(routes) as [string, RouteDef][]).map(
      ([id, r]) => `${r.method.toUpperCase()} ${openApiPath(r.path)} ${id}`,
    );
    expect(operations.sort()).toEqual(table.sort());

    const listed = readmeRoutes();
    expect(listed.length).toBeGreaterThan(20);
    for (const [method, path] of listed) {
      expect(doc.paths[openApiPath(path)]?.[method.toLowerCase()], `README: ${method} ${path}`).toBeDefined();
    }
    // …and the README lists every route there is.
    const inReadme = new Set(listed.map(([m, p]) => `${m} ${p}`));
    for (const r of Object.values(routes) as RouteDef[]) {
      expect(inReadme.has(`${r.method.toUpperCase()} ${r.path}`), `README lacks ${r.method} ${r.path}`).toBe(true);
    }
  });

  it('the app serves exactly the routes of the table', async () => {
    const app = createApp({
      storage: {} as never,
      registry: {
        targets: new Map(),
        scorers: new Map(),
        builtInScorerIds: new Set(),
        scorerUses: new Map(),
        scorerKinds: new Map(),
      },
      runs: {} as never,
      events: { publish: () => {}, subscribe: () => () => {} },
      uiDir: false,
    });
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
        .map((r) => `${r.method} ${r.path.slice(4)}`),
    );
    const table = new Set((Object.values(routes) as RouteDef[]).map((r) => `${r.method.toUpperCase()} ${r.path}`));
    expect([...served].sort()).toEqual([...table].sort());
  });

  it('the contract module depends on zod only', () => {
    const dir = join(import.meta.dirname, '../../contract/src');
    for (const f of readdirSync(dir)) {
      const imports = [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const i of imports) expect(i === 'zod' || /^\.\/[\w-]+\.js$/.test(i), `${f} imports ${i}`).toBe(true);
    }
  });

  it('the response check refuses a body that is not what the contract says', () => {
    expect(routeOf('DELETE', '/api/datasets/ds_1/items/batch')).toBe(routes.deleteItems);
    expect(routeOf('DELETE', '/api/datasets/ds_1/items/it_1')).toBe(routes.deleteItem);
    expect(() => checkResponse('GET', '/api/datasets/ds_1', 200, { id: 'ds_1', name: 'x' })).toThrow(/description/);
    expect(() =>
      checkResponse('GET', '/api/datasets/ds_1', 404, { error: { code: 'not found', message: '' } }),
    ).toThrow(/code/);
    expect(() => checkResponse('POST', '/api/datasets', 200, {})).toThrow(/the contract says 201/);
    checkResponse('GET', '/api/datasets/ds_1', 404, { error: { code: 'NOT_FOUND', message: 'no dataset' } });
    const dataset = {
      id: 'ds_1',
      name: 'x',
      description: null,
      metadata: null,
      inputSchema: null,
      groundTruthSchema: null,
      scorerIds: null,
      version: 0,
      itemCount: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    checkResponse('GET', '/api/datasets/ds_1', 200, dataset);
    expect(() => checkResponse('GET', '/api/datasets/ds_1', 200, { ...dataset, secret: 1 })).toThrow(
      /fields the contract does not name/,
    );
  });
});
