import {
  AssayError,
  batchAddSchema,
  batchDeleteSchema,
  createDatasetSchema,
  DEFAULT_LIST_BOUNDS,
  type EventBus,
  itemInputSchema,
  itemsQuerySchema,
  itemUpdateSchema,
  type ListBounds,
  notFound,
  pageQuerySchema,
  type Registry,
  type Run,
  type RunEvent,
  type RunService,
  resultsQuerySchema,
  type Storage,
  type StorageHealth,
  triggerRunSchema,
  updateDatasetSchema,
} from '@assay/core';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { bearerAuth } from './auth.js';
import { resultKeySchema } from './bounds.js';
import { registerAnalysisRoutes } from './compare.js';
import { jsonBodiesOnly } from './content-type.js';
import { hostGuard, originGuard } from './guard.js';
import { errorBody, parseBody, parseQuery, sendError } from './http.js';
import {
  bodyLimitFor,
  checkNewItems,
  checkUpdatedItem,
  DEFAULT_MAX_ITEM_BYTES,
  maxItemBytesFromEnv,
} from './item-size.js';
import { mountUi } from './static.js';
import { healthHandler, storageGate } from './storage-health.js';

export interface AppDeps {
  storage: Storage;
  registry: Registry;
  runs: RunService;
  events: EventBus;
  /** When set, every `/api` route except `/api/health` needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
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
 * The HTTP API as a value: `createApp(deps).request('/api/health')` runs in-process in tests.
 */
export function createApp(deps: AppDeps) {
  const { storage, registry, runs, events } = deps;
  const maxItemBytes = deps.maxItemBytes ?? maxItemBytesFromEnv() ?? DEFAULT_MAX_ITEM_BYTES;
  const maxBodyBytes = deps.maxBodyBytes ?? bodyLimitFor(maxItemBytes);
  const bounds = deps.listBounds ?? DEFAULT_LIST_BOUNDS;
  const app = new Hono();
  const api = new Hono();

  app.onError((err, c) => sendError(c, err));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  // Before every route: where a request may come from (guard.ts).
  if (deps.loopbackOnly) app.use('*', hostGuard(deps));
  app.use('/api/*', originGuard(deps));

  api.get('/health', healthHandler(deps));

  if (deps.apiKey) api.use('*', bearerAuth(deps.apiKey, ['/api/health']));
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

  // ── datasets ──
  api.get('/datasets', async (c) => {
    const page = await storage.listDatasets({ ...parseQuery(c, pageQuerySchema), bounds });
    return c.json({ datasets: page.rows, pagination: page.pagination });
  });
  api.post('/datasets', async (c) => c.json(await storage.createDataset(await parseBody(c, createDatasetSchema)), 201));
  api.get('/datasets/:id', async (c) => c.json(await dataset(c.req.param('id'))));
  api.patch('/datasets/:id', async (c) => {
    const patch = await parseBody(c, updateDatasetSchema);
    return c.json(await storage.updateDataset(c.req.param('id'), patch));
  });
  api.delete('/datasets/:id', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    if ((await storage.countActiveRuns(id)) > 0) {
      throw new AssayError('CONFLICT', 'dataset has pending or running runs; wait for them to finish first', 409);
    }
    await storage.deleteDataset(id);
    return c.json({ deleted: true, id });
  });
  api.get('/datasets/:id/versions', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    const page = await storage.listVersions(id, parseQuery(c, pageQuerySchema));
    return c.json({ versions: page.rows, pagination: page.pagination });
  });

  // ── items ──
  api.get('/datasets/:id/items', async (c) => {
    const id = c.req.param('id');
    const ds = await dataset(id);
    const q = parseQuery(c, itemsQuerySchema);
    if (q.version !== undefined && q.version > ds.version) {
      throw new AssayError(
        'UNKNOWN_VERSION',
        `dataset '${id}' has no version ${q.version} (latest is ${ds.version})`,
        400,
      );
    }
    const page = await storage.listItems(id, { ...q, bounds });
    return c.json({ items: page.rows, pagination: page.pagination, version: q.version ?? ds.version });
  });
  api.post('/datasets/:id/items', async (c) => {
    const item = await parseBody(c, itemInputSchema);
    checkNewItems([item], maxItemBytes, false);
    const r = await storage.addItems(c.req.param('id'), [item]);
    return c.json(r.items[0], 201);
  });
  api.post('/datasets/:id/items/batch', async (c) => {
    const { items } = await parseBody(c, batchAddSchema);
    checkNewItems(items, maxItemBytes, true);
    const r = await storage.addItems(c.req.param('id'), items);
    return c.json({ count: r.items.length, version: r.version, items: r.items }, 201);
  });
  api.delete('/datasets/:id/items/batch', async (c) => {
    const { itemIds } = await parseBody(c, batchDeleteSchema);
    return c.json(await storage.deleteItems(c.req.param('id'), itemIds));
  });
  api.get('/datasets/:id/items/:itemId', async (c) => {
    const id = c.req.param('id');
    const ds = await dataset(id);
    const { version } = parseQuery(c, itemsQuerySchema.pick({ version: true }));
    if (version !== undefined && version > ds.version) {
      throw new AssayError(
        'UNKNOWN_VERSION',
        `dataset '${id}' has no version ${version} (latest is ${ds.version})`,
        400,
      );
    }
    const item = await storage.getItem(id, c.req.param('itemId'), version);
    if (!item) throw notFound('Item', c.req.param('itemId'));
    return c.json(item);
  });
  api.patch('/datasets/:id/items/:itemId', async (c) => {
    const patch = await parseBody(c, itemUpdateSchema);
    const current = await storage.getItem(c.req.param('id'), c.req.param('itemId'));
    if (current) checkUpdatedItem(current, patch, maxItemBytes);
    const r = await storage.updateItems(c.req.param('id'), [{ ...patch, id: c.req.param('itemId') }]);
    return c.json(r.items[0]);
  });
  api.delete('/datasets/:id/items/:itemId', async (c) => {
    const r = await storage.deleteItems(c.req.param('id'), [c.req.param('itemId')]);
    return c.json({ deleted: true, id: c.req.param('itemId'), version: r.version });
  });

  // ── runs ──
  api.post('/datasets/:id/runs', async (c) => {
    const input = await parseBody(c, triggerRunSchema);
    const key = c.req.header('idempotency-key');
    if (key !== undefined && (key.length === 0 || key.length > 255)) {
      throw new AssayError('VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 characters', 400);
    }
    const run = await runs.trigger(c.req.param('id'), input, { idempotencyKey: key });
    return c.json({ runId: run.id, ...visible(run) }, 202);
  });
  api.post('/datasets/:id/runs/:runId/cancel', async (c) => {
    const run = await runs.cancel(c.req.param('id'), c.req.param('runId'));
    return c.json({ runId: run.id, ...visible(run) }, 202);
  });
  api.post('/datasets/:id/runs/:runId/retry', async (c) => {
    const run = await runs.retry(c.req.param('id'), c.req.param('runId'));
    return c.json({ runId: run.id, ...visible(run) }, 202);
  });
  api.get('/datasets/:id/runs/:runId/items/:itemId/attempts', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const attempts = await storage.listAttempts(run.id, c.req.param('itemId'), bounds);
    if (attempts.length === 0) throw notFound('Item', c.req.param('itemId'));
    return c.json({ attempts });
  });
  api.get('/datasets/:id/runs', async (c) => {
    const id = c.req.param('id');
    await dataset(id);
    const page = await storage.listRuns(id, { ...parseQuery(c, pageQuerySchema), bounds });
    return c.json({ runs: page.rows.map(visible), pagination: page.pagination });
  });
  api.get('/datasets/:id/runs/:runId', async (c) => c.json(await runOf(c.req.param('id'), c.req.param('runId'))));
  api.get('/datasets/:id/runs/:runId/results', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const q = parseQuery(c, resultsQuerySchema);
    const page = await storage.listResults(run.id, { ...q, bounds });
    return c.json({ results: page.rows, pagination: page.pagination });
  });
  api.get('/datasets/:id/runs/:runId/results/:itemId', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    const { repetition } = parseQuery(c, resultKeySchema);
    const result = await storage.getResult(run.id, c.req.param('itemId'), repetition);
    if (!result) throw notFound('Result', `${c.req.param('itemId')}#${repetition}`);
    return c.json(result);
  });
  api.get('/datasets/:id/runs/:runId/events', async (c) => {
    const run = await runOf(c.req.param('id'), c.req.param('runId'));
    return streamSSE(c, async (stream) => {
      const queue: RunEvent[] = [];
      let wake: (() => void) | null = null;
      const unsubscribe = events.subscribe(run.id, (e) => {
        queue.push(e);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      // The current state first, so a client that connects late is never behind.
      const current = await runOf(run.datasetId, run.id);
      await stream.writeSSE({ event: 'run', data: JSON.stringify(current) });
      const FINAL = ['completed', 'failed', 'cancelled'];
      let done = FINAL.includes(current.status);
      // What the client has seen, so the stored row can fill in events the bus did not deliver
      // (a worker in another process without Redis, pub/sub messages lost in a Redis restart).
      let seen = { status: current.status, done: current.succeededCount + current.failedCount };
      let quietSince = Date.now();
      while (!done && !stream.aborted) {
        if (queue.length === 0) {
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 1_000).unref();
          });
          wake = null;
        }
        if (queue.length === 0 && !stream.aborted) {
          const row = await storage.getRun(run.id);
          if (row && row.succeededCount + row.failedCount !== seen.done)
            queue.push({
              type: 'run.progress',
              runId: row.id,
              datasetId: row.datasetId,
              succeeded: row.succeededCount,
              failed: row.failedCount,
              total: row.totalItems,
            });
          if (row && row.status !== seen.status)
            queue.push({
              type: 'run.status',
              runId: row.id,
              datasetId: row.datasetId,
              status: row.status,
              error: row.error,
            });
        }
        if (queue.length === 0 && !stream.aborted && Date.now() - quietSince >= 15_000) {
          await stream.writeSSE({ event: 'ping', data: '{}' });
          quietSince = Date.now();
        }
        for (const e of queue.splice(0)) {
          quietSince = Date.now();
          await stream.writeSSE({ event: e.type, data: JSON.stringify(e) });
          if (e.type === 'run.progress') seen = { ...seen, done: e.succeeded + e.failed };
          if (e.type === 'run.status') {
            seen = { ...seen, status: e.status };
            if (FINAL.includes(e.status)) done = true;
          }
        }
      }
      unsubscribe();
    });
  });

  // ── registry ──
  api.get('/targets', (c) =>
    c.json({
      targets: [...registry.targets.values()].map((t) => ({
        id: t.id,
        type: t.type,
        kind: t.kind ?? 'function',
        description: t.description ?? null,
        maxConcurrency: t.maxConcurrency ?? null,
        ...(t.details ? { details: t.details } : {}),
      })),
    }),
  );
  api.get('/scorers', (c) =>
    c.json({
      scorers: [...registry.scorers.values()].map((s) => ({
        id: s.id,
        description: s.description ?? null,
        builtIn: registry.builtInScorerIds.has(s.id),
        ...(registry.scorerUses.has(s.id) ? { use: registry.scorerUses.get(s.id) } : {}),
      })),
    }),
  );

  registerAnalysisRoutes(api, storage, bounds);

  app.route('/api', api);
  if (deps.uiDir !== false) mountUi(app, deps.uiDir);
  return app;
}
export type AssayApp = ReturnType<typeof createApp>;
