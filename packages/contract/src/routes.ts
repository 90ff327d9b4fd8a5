import { z } from 'zod';
import { cacheClearedSchema, cacheStatsQuerySchema, cacheStatsSchema, clearCacheQuerySchema } from './cache.js';
import { errorSchema, pageQuerySchema } from './common.js';
import {
  compareManySchema,
  compareRunsSchema,
  comparisonSchema,
  manyComparisonSchema,
  scoreStatsQuerySchema,
  scoreStatsSchema,
} from './compare.js';
import {
  createDatasetSchema,
  datasetDeletedSchema,
  datasetListSchema,
  datasetSchema,
  updateDatasetSchema,
  versionListSchema,
} from './datasets.js';
import { sseMessageSchema } from './events.js';
import {
  batchAddedSchema,
  batchAddSchema,
  batchDeleteSchema,
  datasetItemSchema,
  itemDeletedSchema,
  itemInputSchema,
  itemListSchema,
  itemQuerySchema,
  itemsDeletedSchema,
  itemsQuerySchema,
  itemUpdateSchema,
} from './items.js';
import {
  healthSchema,
  healthUnavailableSchema,
  openApiDocumentSchema,
  readySchema,
  scorerListSchema,
  targetListSchema,
} from './meta.js';
import {
  attemptListSchema,
  resultKeySchema,
  resultListSchema,
  resultsQuerySchema,
  runResultSchema,
} from './results.js';
import {
  rescoreRunSchema,
  runAcceptedSchema,
  runListSchema,
  runSchema,
  triggerHeadersSchema,
  triggerRunSchema,
} from './runs.js';

/** One route of the API: where it is, what it takes, what it answers. Paths are under `/api`. */
export interface RouteDef {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Hono-style path (`/datasets/:id`), relative to `/api`. */
  path: string;
  summary: string;
  tag: 'meta' | 'datasets' | 'items' | 'runs' | 'results' | 'analysis';
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** The success status and its body. */
  status: 200 | 201 | 202;
  response: z.ZodType;
  /** `text/event-stream`: `response` is the schema of one event (`event` name + JSON `data`). */
  stream?: true;
  /** Answers without the API key. */
  public?: true;
  /** Other statuses with a body that is not the error envelope. */
  otherResponses?: Record<number, z.ZodType>;
}

const datasetParams = z.object({ id: z.string().describe('dataset id') });
const itemParams = datasetParams.extend({ itemId: z.string().describe('item id') });
const runParams = datasetParams.extend({ runId: z.string().describe('run id') });
const runItemParams = runParams.extend({ itemId: z.string().describe('item id') });

/**
 * Every route of the HTTP API. The server registers its handlers by these entries and validates
 * with their schemas, the SDK's result types are the `response` schemas' types, and
 * `GET /api/openapi.json` is generated from them (openapi.ts).
 */
export const routes = {
  health: {
    method: 'get',
    path: '/health',
    tag: 'meta',
    summary: 'Server status and storage health',
    status: 200,
    response: healthSchema,
    otherResponses: { 503: healthUnavailableSchema },
    public: true,
  },
  ready: {
    method: 'get',
    path: '/ready',
    tag: 'meta',
    summary: 'Readiness: 200 when the storage and the queue answer, else 503 NOT_READY naming what does not',
    status: 200,
    response: readySchema,
    public: true,
  },
  openApi: {
    method: 'get',
    path: '/openapi.json',
    tag: 'meta',
    summary: 'This API as an OpenAPI 3.1 document',
    status: 200,
    response: openApiDocumentSchema,
  },
  cacheStats: {
    method: 'get',
    path: '/cache',
    tag: 'meta',
    summary: 'The target output cache: entries, size and cost by target',
    query: cacheStatsQuerySchema,
    status: 200,
    response: cacheStatsSchema,
  },
  clearCache: {
    method: 'delete',
    path: '/cache',
    tag: 'meta',
    summary: 'Delete target output cache entries (all, of one target, or older than an age)',
    query: clearCacheQuerySchema,
    status: 200,
    response: cacheClearedSchema,
  },
  listTargets: {
    method: 'get',
    path: '/targets',
    tag: 'meta',
    summary: 'Targets the config defines',
    status: 200,
    response: targetListSchema,
  },
  listScorers: {
    method: 'get',
    path: '/scorers',
    tag: 'meta',
    summary: 'Built-in and configured scorers',
    status: 200,
    response: scorerListSchema,
  },

  listDatasets: {
    method: 'get',
    path: '/datasets',
    tag: 'datasets',
    summary: 'Datasets, newest first',
    query: pageQuerySchema,
    status: 200,
    response: datasetListSchema,
  },
  createDataset: {
    method: 'post',
    path: '/datasets',
    tag: 'datasets',
    summary: 'Create a dataset',
    body: createDatasetSchema,
    status: 201,
    response: datasetSchema,
  },
  getDataset: {
    method: 'get',
    path: '/datasets/:id',
    tag: 'datasets',
    summary: 'One dataset',
    params: datasetParams,
    status: 200,
    response: datasetSchema,
  },
  updateDataset: {
    method: 'patch',
    path: '/datasets/:id',
    tag: 'datasets',
    summary: 'Change a dataset’s name, description, metadata, schemas or default scorers',
    params: datasetParams,
    body: updateDatasetSchema,
    status: 200,
    response: datasetSchema,
  },
  deleteDataset: {
    method: 'delete',
    path: '/datasets/:id',
    tag: 'datasets',
    summary: 'Delete a dataset with its items, runs and results (409 while it has active runs)',
    params: datasetParams,
    status: 200,
    response: datasetDeletedSchema,
  },
  listVersions: {
    method: 'get',
    path: '/datasets/:id/versions',
    tag: 'datasets',
    summary: 'Version history, newest first',
    params: datasetParams,
    query: pageQuerySchema,
    status: 200,
    response: versionListSchema,
  },

  listItems: {
    method: 'get',
    path: '/datasets/:id/items',
    tag: 'items',
    summary: 'Items at a version (default the latest), optionally filtered by `search`',
    params: datasetParams,
    query: itemsQuerySchema,
    status: 200,
    response: itemListSchema,
  },
  addItem: {
    method: 'post',
    path: '/datasets/:id/items',
    tag: 'items',
    summary: 'Add one item (a new version)',
    params: datasetParams,
    body: itemInputSchema,
    status: 201,
    response: datasetItemSchema,
  },
  addItems: {
    method: 'post',
    path: '/datasets/:id/items/batch',
    tag: 'items',
    summary: 'Add up to 10 000 items as one new version',
    params: datasetParams,
    body: batchAddSchema,
    status: 201,
    response: batchAddedSchema,
  },
  deleteItems: {
    method: 'delete',
    path: '/datasets/:id/items/batch',
    tag: 'items',
    summary: 'Delete up to 10 000 items as one new version',
    params: datasetParams,
    body: batchDeleteSchema,
    status: 200,
    response: itemsDeletedSchema,
  },
  getItem: {
    method: 'get',
    path: '/datasets/:id/items/:itemId',
    tag: 'items',
    summary: 'One item, whole (at `version`, default the latest)',
    params: itemParams,
    query: itemQuerySchema,
    status: 200,
    response: datasetItemSchema,
  },
  updateItem: {
    method: 'patch',
    path: '/datasets/:id/items/:itemId',
    tag: 'items',
    summary: 'Change one item (a new version)',
    params: itemParams,
    body: itemUpdateSchema,
    status: 200,
    response: datasetItemSchema,
  },
  deleteItem: {
    method: 'delete',
    path: '/datasets/:id/items/:itemId',
    tag: 'items',
    summary: 'Delete one item (a new version)',
    params: itemParams,
    status: 200,
    response: itemDeletedSchema,
  },

  triggerRun: {
    method: 'post',
    path: '/datasets/:id/runs',
    tag: 'runs',
    summary: 'Start a run: 202 at once with the pending run; it executes in the background',
    params: datasetParams,
    headers: triggerHeadersSchema,
    body: triggerRunSchema,
    status: 202,
    response: runAcceptedSchema,
  },
  listRuns: {
    method: 'get',
    path: '/datasets/:id/runs',
    tag: 'runs',
    summary: 'Runs of a dataset, newest first',
    params: datasetParams,
    query: pageQuerySchema,
    status: 200,
    response: runListSchema,
  },
  getRun: {
    method: 'get',
    path: '/datasets/:id/runs/:runId',
    tag: 'runs',
    summary: 'One run: status, counts, summary, error',
    params: runParams,
    status: 200,
    response: runSchema,
  },
  cancelRun: {
    method: 'post',
    path: '/datasets/:id/runs/:runId/cancel',
    tag: 'runs',
    summary: 'Ask a run to stop',
    params: runParams,
    status: 202,
    response: runAcceptedSchema,
  },
  retryRun: {
    method: 'post',
    path: '/datasets/:id/runs/:runId/retry',
    tag: 'runs',
    summary: 'Run the failed, cancelled and skipped items of a finished run again',
    params: runParams,
    status: 202,
    response: runAcceptedSchema,
  },
  rescoreRun: {
    method: 'post',
    path: '/datasets/:id/runs/:runId/rescore',
    tag: 'runs',
    summary: "A new run that scores a finished run's stored outputs with other scorers, calling no target",
    params: runParams,
    body: rescoreRunSchema,
    status: 202,
    response: runAcceptedSchema,
  },
  runEvents: {
    method: 'get',
    path: '/datasets/:id/runs/:runId/events',
    tag: 'runs',
    summary: 'Server-Sent Events: `run` (the full state) first, then `run.status`, `run.progress`, `run.cancel`',
    params: runParams,
    status: 200,
    response: sseMessageSchema,
    stream: true,
  },

  listResults: {
    method: 'get',
    path: '/datasets/:id/runs/:runId/results',
    tag: 'results',
    summary: 'A page of results with scores inline (large values cut to `$truncated` markers)',
    params: runParams,
    query: resultsQuerySchema,
    status: 200,
    response: resultListSchema,
  },
  getResult: {
    method: 'get',
    path: '/datasets/:id/runs/:runId/results/:itemId',
    tag: 'results',
    summary: 'One result, whole',
    params: runItemParams,
    query: resultKeySchema,
    status: 200,
    response: runResultSchema,
  },
  listAttempts: {
    method: 'get',
    path: '/datasets/:id/runs/:runId/items/:itemId/attempts',
    tag: 'results',
    summary: 'Earlier attempts and the current result of one item, oldest first',
    params: runItemParams,
    status: 200,
    response: attemptListSchema,
  },

  scoreStats: {
    method: 'get',
    path: '/datasets/:id/runs/:runId/scores',
    tag: 'analysis',
    summary: 'Per-scorer statistics and histograms of a run',
    params: runParams,
    query: scoreStatsQuerySchema,
    status: 200,
    response: scoreStatsSchema,
  },
  compareRuns: {
    method: 'post',
    path: '/datasets/:id/compare',
    tag: 'analysis',
    summary: 'Compare run B with baseline A: per-scorer deltas at thresholds, and the items that changed most',
    params: datasetParams,
    body: compareRunsSchema,
    status: 200,
    response: comparisonSchema,
  },
  compareMany: {
    method: 'post',
    path: '/datasets/:id/compare/many',
    tag: 'analysis',
    summary: 'Compare up to 10 runs with one baseline: per candidate, the paired comparison of compareRuns',
    params: datasetParams,
    body: compareManySchema,
    status: 200,
    response: manyComparisonSchema,
  },
} as const satisfies Record<string, RouteDef>;

export type Routes = typeof routes;
export type RouteId = keyof Routes;
/** What a route answers on success. */
export type ResponseOf<K extends RouteId> = z.output<Routes[K]['response']>;
/** What a route's body takes (before defaults apply). */
export type BodyOf<K extends RouteId> = Routes[K] extends { body: z.ZodType } ? z.input<Routes[K]['body']> : never;
/** A route's query as a client writes it (every field optional where it has a default). */
export type QueryOf<K extends RouteId> = Routes[K] extends { query: z.ZodType }
  ? Partial<z.output<Routes[K]['query']>>
  : never;

/**
 * The route of the table a request is for: by method and path (with or without `/api`; the query
 * ignored). Literal segments win over `:params` (`/items/batch` over `/items/:itemId`).
 *
 * @example matchRoute('GET', '/api/datasets/ds_1/runs?page=2')?.id // 'listRuns'
 */
export function matchRoute(method: string, url: string): { id: RouteId; route: RouteDef } | undefined {
  const path = url.split('?')[0]!.replace(/^\/api(?=\/|$)/, '') || '/';
  const got = path.split('/');
  let best: { id: RouteId; route: RouteDef; literals: number } | undefined;
  for (const [id, route] of Object.entries(routes) as [RouteId, RouteDef][]) {
    if (route.method !== method.toLowerCase()) continue;
    const want = route.path.split('/');
    if (want.length !== got.length) continue;
    if (!want.every((seg, i) => (seg.startsWith(':') ? got[i] !== '' : seg === got[i]))) continue;
    const literals = want.filter((s) => !s.startsWith(':')).length;
    if (!best || literals > best.literals) best = { id, route, literals };
  }
  return best && { id: best.id, route: best.route };
}

/**
 * The schema an answer to `method url` with `status` must satisfy: the route's response at its
 * success status or another status it declares, the error envelope for any 4xx/5xx. Undefined
 * where the contract describes no JSON body: event streams, paths outside `/api`, HEAD/OPTIONS.
 * Throws for a success status the route does not answer with.
 */
export function responseSchemaFor(method: string, url: string, status: number): z.ZodType | undefined {
  if (!/^\/api(\/|$)/.test(url)) return undefined;
  const route = matchRoute(method, url)?.route;
  if (route?.otherResponses?.[status]) return route.otherResponses[status];
  if (status >= 400) return errorSchema;
  if (!route || route.stream || ['HEAD', 'OPTIONS'].includes(method.toUpperCase())) return undefined;
  if (status !== route.status)
    throw new Error(`${method} ${url} answered ${status}; the contract says ${route.status}`);
  return route.response;
}
