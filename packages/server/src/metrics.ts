import {
  type JobQueue,
  type Logger,
  RUN_EXEC_JOB,
  RUN_JOB,
  type Storage,
  silentLogger,
  type WorkMetrics,
} from '@assay/core';
import { Hono, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { bearerAuth } from './auth.js';
import { errorBody } from './http.js';
import { type ReadyDeps, readyHandler, within } from './ready.js';

/** Where the gauges are read from at scrape time. */
export interface MetricsSources {
  storage?: Pick<Storage, 'countRunsByStatus'>;
  queue?: Pick<JobQueue, 'counts'>;
  /** Where a failed read is reported (the gauge is then left out of that scrape). */
  log?: Logger;
  /** How long a scrape waits for the storage or the queue, in ms. Default 2 000. */
  timeoutMs?: number;
}

/** Latency buckets in seconds, from a cached answer to a slow agent. */
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The route label of a request nothing but the fallback answered. */
const UNMATCHED = 'unmatched';

/**
 * The Prometheus metrics of one Assay process, on a registry of its own (never prom-client's
 * global one, so several apps in one process do not collide):
 *
 * - `assay_runs{status}`: runs by status, counted in storage at scrape time (one indexed query);
 * - `assay_queue_jobs{state}`: jobs waiting, delayed and active, asked of the queue at scrape time;
 * - `assay_items_finished_total{target,status}`, `assay_item_duration_seconds{status}` and
 *   `assay_target_duration_seconds{target}`: item outcomes this process's worker stored;
 * - `assay_claims_lost_total`: item claims lost without an outcome that this worker took over;
 * - `assay_http_requests_total{method,route,status}` and `assay_http_request_duration_seconds`:
 *   by route template (`/api/datasets/:id`), never the raw path;
 * - Node's process metrics (`process_*`, `nodejs_*`), from the first scrape on.
 *
 * Worker counters live in the process that runs the worker: scrape every `assay worker` too
 * (`--metrics-port`), and sum across processes.
 */
export class AssayMetrics {
  readonly registry = new Registry();
  /** The engine's hook: pass it to the run job handlers. */
  readonly work: WorkMetrics;
  private processMetrics = false;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly requestSeconds: Histogram<'method' | 'route'>;

  constructor(sources: MetricsSources = {}) {
    const registers = [this.registry];
    const log = sources.log ?? silentLogger;
    const timeoutMs = sources.timeoutMs ?? 2_000;
    const { storage, queue } = sources;

    if (storage) {
      new Gauge({
        name: 'assay_runs',
        help: 'Runs by status, counted in storage at scrape time',
        labelNames: ['status'],
        registers,
        async collect() {
          this.reset();
          try {
            const counts = await within(storage.countRunsByStatus(), timeoutMs, 'counting runs');
            for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
          } catch (err) {
            log.warn({ err }, 'metrics: runs by status could not be read');
          }
        },
      });
    }
    if (queue) {
      new Gauge({
        name: 'assay_queue_jobs',
        help: 'Run jobs in the queue by state (waiting, delayed, active), at scrape time',
        labelNames: ['state'],
        registers,
        async collect() {
          this.reset();
          try {
            const counts = await within(queue.counts([RUN_JOB, RUN_EXEC_JOB]), timeoutMs, 'counting queued jobs');
            for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
          } catch (err) {
            log.warn({ err }, 'metrics: the queue depth could not be read');
          }
        },
      });
    }

    const finished = new Counter({
      name: 'assay_items_finished_total',
      help: 'Item outcomes stored by this process, by target and status',
      labelNames: ['target', 'status'],
      registers,
    });
    const itemSeconds = new Histogram({
      name: 'assay_item_duration_seconds',
      help: 'Time from an item start to its outcome: every target try, backoff and scorers',
      labelNames: ['status'],
      buckets: SECONDS,
      registers,
    });
    const targetSeconds = new Histogram({
      name: 'assay_target_duration_seconds',
      help: "A target call's own time (the last try of an item)",
      labelNames: ['target'],
      buckets: SECONDS,
      registers,
    });
    const lost = new Counter({
      name: 'assay_claims_lost_total',
      help: 'Item claims lost without an outcome (a worker crashed, was killed or let its lease run out), taken over by this process',
      registers,
    });
    this.work = {
      itemFinished(item) {
        finished.inc({ target: item.targetId, status: item.status });
        itemSeconds.observe({ status: item.status }, item.durationMs / 1000);
        if (item.targetLatencyMs !== null)
          targetSeconds.observe({ target: item.targetId }, item.targetLatencyMs / 1000);
      },
      claimsLost(count) {
        if (count > 0) lost.inc(count);
      },
    };

    this.requests = new Counter({
      name: 'assay_http_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'assay_http_request_duration_seconds',
      help: 'Time to the response headers, by method and route template (an event stream counts until it starts)',
      labelNames: ['method', 'route'],
      buckets: SECONDS,
      registers,
    });
  }

  /** Counts every request by its route template; mount it first. */
  http(): MiddlewareHandler {
    return async (c, next) => {
      const start = performance.now();
      try {
        await next();
      } finally {
        const route = routeOf(c);
        const method = c.req.method;
        this.requests.inc({ method, route, status: String(c.res.status) });
        this.requestSeconds.observe({ method, route }, (performance.now() - start) / 1000);
      }
    };
  }

  /** The exposition text (content type {@link Registry.contentType}). */
  async text(): Promise<string> {
    if (!this.processMetrics) {
      // Started on first use: every app would otherwise add event-loop and GC observers.
      this.processMetrics = true;
      collectDefaultMetrics({ register: this.registry });
    }
    return this.registry.metrics();
  }

  /** `GET /metrics`: Prometheus text; with an API key, only for `Authorization: Bearer <key>`. */
  mount(app: Hono, apiKey?: string): void {
    if (apiKey) app.use('/metrics', bearerAuth(apiKey));
    app.get('/metrics', async (c) => c.body(await this.text(), 200, { 'content-type': this.registry.contentType }));
  }
}

/**
 * The route template that answered: the handler that produced the response, or, when a
 * middleware answered first (401, 403, 413), the route the request was headed for.
 */
function routeOf(c: Parameters<MiddlewareHandler>[0]): string {
  const routes = matchedRoutes(c);
  const at = routes[c.req.routeIndex];
  if (at && at.method !== 'ALL') return at.path;
  const next = routes.slice(c.req.routeIndex + 1).find((r) => r.method !== 'ALL' && r.path !== '*');
  return next?.path ?? UNMATCHED;
}

/**
 * The HTTP side of a process that serves no API (`assay worker --metrics-port`): `/metrics`
 * (behind `apiKey` when set) and, with `ready`, the readiness probe `/api/ready` (open, as on
 * the server). Everything else is a 404.
 */
export function metricsApp(metrics: AssayMetrics, opts: { apiKey?: string; ready?: ReadyDeps } = {}): Hono {
  const app = new Hono();
  app.notFound((c) =>
    c.json(
      errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}: a worker serves /metrics and /api/ready only`),
      404,
    ),
  );
  app.use('*', metrics.http());
  if (opts.ready) app.get('/api/ready', readyHandler(opts.ready));
  metrics.mount(app, opts.apiKey);
  return app;
}
