/**
 * fast-check arbitraries for the API fuzz suite (api.fuzz.test.ts): hostile request bodies,
 * query strings, ids and headers. Bodies are JSON *texts*, so they can hold what no JS object
 * serialises to (`__proto__` keys, invalid JSON, 60,000 levels of nesting).
 */
import fc from 'fast-check';
import { GARBAGE_SCALARS } from './api-helpers.js';

export const API_KEY = 'fuzz-api-key-0123456789';
export const ALLOWED_ORIGIN = 'https://allowed.example';
/** Body limit of the fuzzed apps: small, so oversized bodies are cheap to send. */
export const MAX_BODY = 256 * 1024;

/** Fixture ids the requests aim at (filled in by the suite's setup). */
export interface Fixture {
  datasetId: string;
  itemIds: string[];
  runIds: string[];
}

// ── bodies ──

const json = (v: unknown) => JSON.stringify(v);

/** JSON texts of values that are wrong for almost every field. */
const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...GARBAGE_SCALARS) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }).map(json) },
  { weight: 1, arbitrary: fc.constantFrom(150, 201, 5_000, 60_000).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom(150, 201, 5_000).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.constantFrom(201, 10_001, MAX_BODY + 1).map((n) => json('x'.repeat(n))) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.constantFrom(0, 1, 3))
      .map(([key, depth]) => `${'{"a":'.repeat(depth)}{${json(key)}:{"polluted":true}}${'}'.repeat(depth)}`),
  },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom('1', '"x"', 'null', '{}', '[]'), { maxLength: 6 }).map((a) => `[${a}]`),
  },
);

/** A plausible body per route (`METHOD /path`), so hostile fields land next to valid ones. */
function templates(f: Fixture): Record<string, Record<string, string>> {
  const [runA, runB] = f.runIds;
  return {
    'POST /api/datasets': { name: '"fuzz"', description: '"d"', metadata: '{"k":1}', scorerIds: '["half"]' },
    'PATCH /api/datasets/:id': { name: '"renamed"', metadata: '{"k":2}' },
    'POST /api/datasets/:id/items': { input: '{"q":1}', groundTruth: '1', externalId: '"e"' },
    'POST /api/datasets/:id/items/batch': { items: '[{"input":1},{"input":"two","metadata":{"m":1}}]' },
    'DELETE /api/datasets/:id/items/batch': { itemIds: json(f.itemIds.slice(0, 2)) },
    'PATCH /api/datasets/:id/items/:itemId': { input: '{"q":2}', groundTruth: '2' },
    'POST /api/datasets/:id/runs': { targetId: '"echo"', scorerIds: '["half"]', maxConcurrency: '2', name: '"r"' },
    'POST /api/datasets/:id/compare': { runIdA: json(runA), runIdB: json(runB), thresholds: '0.1', limit: '5' },
  };
}

const FIELDS = [
  'name',
  'description',
  'metadata',
  'inputSchema',
  'scorerIds',
  'input',
  'groundTruth',
  'externalId',
  'items',
  'itemIds',
  'targetId',
  'targetType',
  'version',
  'maxConcurrency',
  'itemTimeoutMs',
  'maxRetries',
  'repetitions',
  'passThreshold',
  'runIdA',
  'runIdB',
  'thresholds',
  'limit',
  '__proto__',
  'constructor',
  '',
];

const objectText = (fields: [string, string][]) => `{${fields.map(([k, v]) => `${json(k)}:${v}`).join(',')}}`;

/** A body: none, empty, the route's template with one field hostile, any JSON, or not JSON at all. */
export function bodyArb(route: string, f: Fixture): fc.Arbitrary<string | undefined> {
  const template = Object.entries(templates(f)[route] ?? {});
  const invalid = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.constantFrom(
      '{',
      '{"name":}',
      '{"name":"x"',
      "{'name':'x'}",
      'NaN',
      'undefined',
      '{"a":1,}',
      '\u0000',
      '\ufeff{}',
    ),
    fc.nat({ max: 40 }).map((n) => objectText(template).slice(0, n)),
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom('', '   ') },
    { weight: 6, arbitrary: fc.constant(objectText(template)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.constantFrom(...FIELDS), hostileValue)
        .map(([field, v]) => objectText([...template.filter(([k]) => k !== field), [field, v]])),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...FIELDS), hostileValue)
        .map(([field, v]) => `{"items":[{"input":1,${json(field)}:${v}}]}`),
    },
    { weight: 2, arbitrary: hostileValue },
    { weight: 2, arbitrary: invalid },
  );
}

// ── ids, paths, queries ──

const HOSTILE_IDS = [
  'nope',
  'ds_nope',
  '%00',
  '%ZZ',
  '%',
  '..',
  '%2e%2e',
  '%2F',
  '__proto__',
  'constructor',
  encodeURIComponent("'; drop table datasets; --"),
  encodeURIComponent('😀'),
  'x'.repeat(3000),
  '-1',
  '0',
];

/** A value for a path parameter: a real id most of the time, else something hostile (raw, maybe malformed). */
export function idArb(param: string, f: Fixture): fc.Arbitrary<string> {
  const real =
    param === 'id' ? [f.datasetId] : param === 'itemId' ? f.itemIds : param === 'runId' ? f.runIds : ([] as string[]);
  const hostile = fc.constantFrom(...HOSTILE_IDS);
  if (real.length === 0) return hostile;
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...real) }, { weight: 1, arbitrary: hostile });
}

const QUERY_KEYS = [
  'page',
  'perPage',
  'version',
  'search',
  'status',
  'sortScorer',
  'order',
  'bins',
  'page[]',
  '__proto__',
  'constructor',
  'x',
];
const QUERY_VALUES = [
  '-1',
  '0',
  '1',
  '1e9',
  '1000000000',
  '1001',
  'NaN',
  'Infinity',
  '-Infinity',
  '',
  'abc',
  '1.5',
  '0x10',
  '%00',
  '%ZZ',
  '%',
  'x'.repeat(600),
  'succeeded',
  'bogus',
  'asc',
  'desc',
  'half',
  '99999999999999999999',
  '[]',
  'null',
];

/** `?k=v&…`: repeated keys (arrays), NaN, negatives, huge numbers, malformed percent-escapes. */
export const queryArb: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), fc.constantFrom(...QUERY_VALUES)), { maxLength: 4 })
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

// ── headers ──

const maybe = <T>(arb: fc.Arbitrary<T>, weightAbsent = 3) =>
  fc.oneof({ weight: weightAbsent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

export const headersArb = fc.record({
  origin: maybe(
    fc.constantFrom(
      'http://localhost',
      'HTTP://LOCALHOST:80',
      'http://127.0.0.1:4141',
      ALLOWED_ORIGIN,
      'https://evil.example',
      'http://localhost:1',
      'null',
      'garbage',
      '',
    ),
  ),
  host: maybe(
    fc.constantFrom(
      'localhost',
      '127.0.0.1:4141',
      '[::1]:4141',
      'app.localhost',
      'evil.example',
      '127.0.0.1.evil.example',
      'allowed.example',
      '',
      'a b',
    ),
  ),
  authorization: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(`Bearer ${API_KEY}`, `bearer ${API_KEY}`, `BEARER ${API_KEY}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('Bearer wrong', `Basic ${API_KEY}`, API_KEY, 'Bearer', '', `Bearer  ${API_KEY}`),
    },
  ),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'APPLICATION/JSON',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
        'application/json; boundary=x',
        '',
        ';;;',
      ),
    },
  ),
  secFetchSite: maybe(fc.constantFrom('cross-site', 'same-site', 'same-origin', 'none')),
  idempotencyKey: maybe(fc.constantFrom('k1', 'k2', '', 'x'.repeat(300)), 6),
  preflight: maybe(fc.constantFrom('POST', 'DELETE', 'PUT'), 6),
});
export type FuzzHeaders = typeof headersArb extends fc.Arbitrary<infer H> ? H : never;

export function toHeaders(h: FuzzHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  if (h.origin !== undefined) out.origin = h.origin;
  if (h.host !== undefined) out.host = h.host;
  if (h.authorization !== undefined) out.authorization = h.authorization;
  if (h.contentType !== undefined) out['content-type'] = h.contentType;
  if (h.secFetchSite !== undefined) out['sec-fetch-site'] = h.secFetchSite;
  if (h.idempotencyKey !== undefined) out['idempotency-key'] = h.idempotencyKey;
  if (h.preflight !== undefined) out['access-control-request-method'] = h.preflight;
  return out;
}

/** Methods tried on every route besides its own. */
export const EXTRA_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
