import {
  AssayError,
  cacheOverview,
  clearCacheEntries,
  compareMany,
  compareRuns,
  DEFAULT_LIST_BOUNDS,
  type EventBus,
  type JobQueue,
  type ListBounds,
  type Logger,
  notFound,
  type Registry,
  type Run,
  type RunService,
  runEventStream,
  type Storage,
  type StorageHealth,
  versionOf,
} from '@assay/core';
import { type RouteDef, routes } from '@assay/core/api';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { bearerAuth } from './auth.js';
import { jsonBodiesOnly } from './content-type.js';
import { on } from './contract.js';
import { hostGuard, originGuard } from './guard.js';
import { errorBody, parseBody, parseQuery, sendError } from './http.js';
import {
  bodyLimitFor,
  checkNewItems,
  checkUpdatedItem,
  DEFAULT_MAX_ITEM_BYTES,
  maxItemBytesFromEnv,
} from './item-size.js';
import { AssayMetrics } from './metrics.js';
import { openApi } from './openapi.js';
import { readyHandler } from './ready.js';
import { mountUi } from './static.js';
import { healthHandler, storageGate } from './storage-health.js';

export interface AppDeps {
  storage: Storage;
  registry: Registry;
  runs: RunService;
  events: EventBus;
  /**
   * When set, every `/api` route except the public ones (`/api/health`, `/api/ready`), and
   * `/metrics`, need `Authorization: Bearer <apiKey>`.
   */
  apiKey?: string;
  /** The job queue: `/api/ready` and the queue depth metric ask it. */
  queue?: Pick<JobQueue, 'kind' | 'counts'>;
  /** Served at `/metrics`; also counts every request. Default: metrics of this app alone. */
  metrics?: AssayMetrics;
  /** Where unexpected errors and aborted uploads are logged. Default: nowhere. */
  log?: Logger;
  /** Largest accepted request body in bytes. Default: twice `maxItemBytes`, at least 32 MiB. */
  maxBodyBytes?: number;
  /**
   * Largest item (JSON bytes of input + groundTruth + metadata) that may be added, imported or
   * updated; over it a 413 ITEM_TOO_LARGE. Default `ASSAY_MAX_ITEM_BYTES`, else 4 MiB (item-size.ts).
   */
  maxItemBytes?: number;
  /** How much stored data one list page carries (see @assay/core truncated.ts). Default 8 MiB a page. */
  listBounds?: ListBounds;
  /** The storage's health: `/api/health` reports it, and write requests get a 503 while it is down. */
  storageHealth?: StorageHealth;
  info?: { storage: string; queue: string; worker: boolean; version: string };
  /** Folder of the built web UI served at `/` (default packages/ui/dist); `false` serves none. */
  uiDir?: string | false;
  /**
   * Origins (`scheme://host[:port]`) whose pages may call `/api` (with CORS), besides the server's
   * own; other browser origins get a 403 FORBIDDEN_ORIGIN. `ASSAY_ALLOWED_ORIGINS` in the CLI.
   */
  allowedOrigins?: readonly string[];
  /** The server listens on loopback only: a `Host` that is not loopback is a 403 FORBIDDEN_HOST (DNS rebinding). */
  loopbackOnly?: boolean;
}

/**
 * The HTTP API as a value: `createApp(deps).request('/api/health')` runs in-process in tests. Every
 * route is an entry of the contract's route table (`@assay/core/api`), validated with its schemas.
 */
export function createApp(deps: AppDeps) {
  const { storage, registry, runs, events } = deps;
  const maxItemBytes = deps.maxItemBytes ?? maxItemBytesFromEnv() ?? DEFAULT_MAX_ITEM_BYTES;
  const maxBodyBytes = deps.maxBodyBytes ?? bodyLimitFor(maxItemBytes);
  const bounds = deps.listBounds ?? DEFAULT_LIST_BOUNDS;
  const app = new Hono();
  const api = new Hono();

  const metrics = deps.metrics ?? new AssayMetrics({ storage, queue: deps.queue, log: deps.log });
  app.use('*', metrics.http());
  app.onError((err, c) => sendError(c, err, deps.log));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  // Before every route: where a request may come from (guard.ts).
  if (deps.loopbackOnly) app.use('*', hostGuard(deps));
  app.use('/api/*', originGuard(deps));

  on(api, 'health', healthHandler(deps));
  on(api, 'ready', readyHandler(deps));
  metrics.mount(app, deps.apiKey);

  const open = (Object.values(routes) as RouteDef[]).filter((r) => r.public).map((r) => `/api${r.path}`);
  if (deps.apiKey) api.use('*', bearerAuth(deps.apiKey, open));
  api.use('*', storageGate(deps.storageHealth));

  api.use('*', async (c, next) => {
    // Ids end up as SQL text parameters, which cannot hold NUL: no resource has such an id.
    let path = c.req.path;
    try {
      path = decodeURIComponent(path);
    } catch {
      // malformed percent-encoding: the routes treat the raw text as an (unknown) id
    }
    if (path.includes('\u0000')) return c.json(errorBody('NOT_FOUND', 'no resource has an id containing NUL'), 404);
    return next();
  });
  api.use(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        c.json(
          errorBody(
            'PAYLOAD_TOO_LARGE',
            `request body is larger than ${maxBodyBytes} bytes; split it into smaller batches`,
          ),
          413,
        ),
    }),
  );
  api.use('*', jsonBodiesOnly());

  const dataset = async (id: string) => {
    const ds = await storage.getDataset(id);
    if (!ds) throw notFound('Dataset', id);
    return ds;
  };
  /** A run as clients see it (without engine bookkeeping). */
  const visible = ({ plannedAt: _p, ...run }: Run) => run;
  const runOf = async (datasetId: string, runId: string) => {
    const run = await storage.getRun(runId);
    if (!run || run.datasetId !== datasetId) throw notFound('Run', runId);
    return visible(run);
  };
  const accepted = (run: Run) => ({ runId: run.id, ...visible(run) });

  // Every handler is registered by its entry in the contract's route table (contract.ts).
  on(api, 'openApi', () => openApi({ version: deps.info?.version ?? '0.0.0' }));

  // ── datasets ──
  on(api, 'listDatasets', async (c) => {
    const page = await storage.listDatasets({ ...parseQuery(c, routes.listDatasets.query), bounds });
    return { datasets: page.rows, pagination: page.pagination };
  });
  on(api, 'createDataset', async (c) => storage.createDataset(await parseBody(c, routes.createDataset.body)));
  on(api, 'getDataset', (c) => dataset(c.req.param('id')));
  on(api, 'updateDataset', async (c) => {
    const patch = await parseBody(c, routes.updateDataset.body);
    return storage.updateDataset(c.req.param('id'), patch);
  });
  on(api, 'deleteDataset', async (c) => {
    const id = c.req.param('id');
    // 404 for an unknown dataset and 409 while it has pending or running runs, checked inside the
    // delete's transaction: a run triggered meanwhile is never cascaded away.
    await storage.deleteDataset(id);
    return { deleted: true, id } as const;
  });
  on(api, 'listVersions', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    const page = await storage.listVersions(id, parseQuery(c, routes.listVersions.query));
    return { versions: page.rows, pagination: page.pagination };
  });

  // ── items ──
  on(api, 'listItems', async (c) => {
    const id = c.req.param('id');
    const ds = await dataset(id);
    const q = parseQuery(c, routes.listItems.query);
    const version = versionOf(ds, q.version);
    const page = await storage.listItems(id, { ...q, bounds });
    return { items: page.rows, pagination: page.pagination, version };
  });
  on(api, 'addItem', async (c) => {
    const item = await parseBody(c, routes.addItem.body);
    checkNewItems([item], maxItemBytes, false);
    const r = await storage.addItems(c.req.param('id'), [item]);
    return r.items[0]!;
  });
  on(api, 'addItems', async (c) => {
    const { items } = await parseBody(c, routes.addItems.body);
    checkNewItems(items, maxItemBytes, true);
    const r = await storage.addItems(c.req.param('id'), items);
    return { count: r.items.length, version: r.version, items: r.items };
  });
  on(api, 'deleteItems', async (c) => {
    const { itemIds } = await parseBody(c, routes.deleteItems.body);
    return storage.deleteItems(c.req.param('id'), itemIds);
  });
  on(api, 'getItem', async (c) => {
    const id = c.req.param('id');
    const ds = await dataset(id);
    const { version } = parseQuery(c, routes.getItem.query);
    const item = await storage.getItem(
      id,
      c.req.param('itemId'),
      version === undefined ? undefined : versionOf(ds, version),
    );
    if (!item) throw notFound('Item', c.req.param('itemId'));
    return item;
  });
  on(api, 'updateItem', async (c) => {
    const patch = await parseBody(c, routes.updateItem.body);
    const current = await storage.getItem(c.req.param('id'), c.req.param('itemId'));
    if (current) checkUpdatedItem(current, patch, maxItemBytes);
    const r = await storage.updateItems(c.req.param('id'), [{ ...patch, id: c.req.param('itemId') }]);
    return r.items[0]!;
  });
  on(api, 'deleteItem', async (c) => {
    const r = await storage.deleteItems(c.req.param('id'), [c.req.param('itemId')]);
    return { deleted: true, id: c.req.param('itemId'), version: r.version } as const;
  });

  // ── runs ──
  on(api, 'triggerRun', async (c) => {
    const input = await parseBody(c, routes.triggerRun.body);
    const key = c.req.header('idempotency-key');
    if (key !== undefined && !routes.triggerRun.headers.shape['idempotency-key'].safeParse(key).success) {
      throw new AssayError('VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 characters', 400);
    }
    return accepted(await runs.trigger(c.req.param('id'), input, { idempotencyKey: key }));
  });
  on(api, 'cancelRun', async (c) => accepted(await runs.cancel(c.req.param('id'), c.req.param('runId'))));
  on(api, 'retryRun', async (c) => accepted(await runs.retry(c.req.param('id'), c.req.param('runId'))));
  on(api, 'rescoreRun', async (c) => {
    const input = await parseBody(c, routes.rescoreRun.body);
    return accepted(await runs.rescore(c.req.param('id'), c.req.param('runId'), input));
  });
  on(api, 'listAttempts', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const attempts = await storage.listAttempts(run.id, c.req.param('itemId'), bounds);
    if (attempts.length === 0) throw notFound('Item', c.req.param('itemId'));
    return { attempts };
  });
  on(api, 'listRuns', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    const page = await storage.listRuns(id, { ...parseQuery(c, routes.listRuns.query), bounds });
    return { runs: page.rows.map(visible), pagination: page.pagination };
  });
  on(api, 'getRun', (c) => runOf(c.req.param('id'), c.req.param('runId')));
  on(api, 'listResults', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const q = parseQuery(c, routes.listResults.query);
    const page = await storage.listResults(run.id, { ...q, bounds });
    return { results: page.rows, pagination: page.pagination };
  });
  on(api, 'getResult', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const { repetition } = parseQuery(c, routes.getResult.query);
    const result = await storage.getResult(run.id, c.req.param('itemId'), repetition);
    if (!result) throw notFound('Result', `${c.req.param('itemId')}#${repetition}`);
    return result;
  });
  on(api, 'runEvents', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    return streamSSE(c, async (stream) => {
      const gone = new AbortController();
      stream.onAbort(() => gone.abort());
      for await (const e of runEventStream({ storage, events }, run.id, { signal: gone.signal })) {
        const data = e.type === 'run' ? e.run : e.type === 'ping' ? {} : e;
        await stream.writeSSE({ event: e.type, data: JSON.stringify(data) });
      }
    });
  });

  // ── analysis ──
  on(api, 'scoreStats', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const { bins } = parseQuery(c, routes.scoreStats.query);
    const passThreshold = run.options.passThreshold ?? 0.5;
    return { bins, passThreshold, scorers: await storage.scoreStats(run.id, bins, passThreshold) };
  });
  on(api, 'compareRuns', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    const input = await parseBody(c, routes.compareRuns.body);
    return compareRuns(storage, id, input, { bounds, scorerKinds: registry.scorerKinds });
  });
  on(api, 'compareMany', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    const input = await parseBody(c, routes.compareMany.body);
    return compareMany(storage, id, input, { bounds, scorerKinds: registry.scorerKinds });
  });

  // ── target output cache ──
  on(api, 'cacheStats', (c) => cacheOverview(storage, parseQuery(c, routes.cacheStats.query)));
  on(api, 'clearCache', (c) => clearCacheEntries(storage, parseQuery(c, routes.clearCache.query), Date.now()));

  // ── registry ──
  on(api, 'listTargets', () => ({
    targets: [...registry.targets.values()].map((t) => ({
      id: t.id,
      type: t.type,
      kind: t.kind ?? 'function',
      description: t.description ?? null,
      maxConcurrency: t.maxConcurrency ?? null,
      ...(t.details ? { details: t.details } : {}),
    })),
  }));
  on(api, 'listScorers', () => ({
    scorers: [...registry.scorers.values()].map((s) => ({
      id: s.id,
      description: s.description ?? null,
      builtIn: registry.builtInScorerIds.has(s.id),
      ...(registry.scorerUses.has(s.id) ? { use: registry.scorerUses.get(s.id) } : {}),
      kind: registry.scorerKinds.get(s.id) ?? 'quality',
    })),
  }));

  app.route('/api', api);
  if (deps.uiDir !== false) mountUi(app, deps.uiDir);
  return app;
}
export type AssayApp = ReturnType<typeof createApp>;
