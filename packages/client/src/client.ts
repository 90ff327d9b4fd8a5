import type {
  CompareManyInput,
  CompareRunsInput,
  QueryOf,
  RescoreRunInput,
  ResponseOf,
  RunStreamEvent,
} from '@assay/contract';
import { FINAL_RUN_STATUSES, hasTruncated, isTruncated } from '@assay/contract/values';
import { comparisonView, type RunComparison } from './comparison-view.js';
import { AssayApiError, errorFromResponse } from './errors.js';
import { runEvents, type StreamRunOptions, sleep } from './stream.js';
import type {
  CreateDatasetInput,
  DatasetItem,
  ItemInput,
  ItemsQuery,
  ItemUpdate,
  PageParams,
  ResultsQuery,
  Run,
  RunProgress,
  RunResult,
  TriggerRunInput,
  UpdateDatasetInput,
} from './types.js';

/** A fetch: the platform's, or an in-process app's (`assay.app.fetch`), which takes a `Request`. */
export type FetchLike = (request: Request) => Response | Promise<Response>;

export interface AssayClientOptions {
  /** The server, e.g. `http://127.0.0.1:4141`; `/api` is added unless the URL already ends with it. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` (the server's `ASSAY_API_KEY`). */
  apiKey?: string;
  /** The fetch to use. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /**
   * Extra tries of a request that is safe to repeat (GET, or a trigger with an Idempotency-Key)
   * when no answer came or the answer was 502/503/504. Default 2.
   */
  retries?: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface WaitForRunOptions extends Pick<StreamRunOptions, 'reconnect' | 'onReconnect'> {
  signal?: AbortSignal;
  /** Called with the counts whenever they change (from the event stream and from polling). */
  onProgress?: (progress: RunProgress) => void;
  /**
   * Also read the run every this many ms, as a safety net for proxies that buffer the event
   * stream (and for workers in another process in local mode). 0 disables. Default 2 000.
   */
  pollIntervalMs?: number;
}

export interface TriggerOptions extends RequestOptions {
  /**
   * Same key + same body returns the run created first instead of a second run (and makes the
   * request safe to retry); same key + another body is a 409 `IDEMPOTENCY_KEY_REUSED`.
   */
  idempotencyKey?: string;
}

const FINAL = new Set<string>(FINAL_RUN_STATUSES);
const enc = encodeURIComponent;

/**
 * Typed client of the Assay HTTP API. Works wherever `fetch` does (Node 20+, browsers, workers).
 *
 * @example
 * const assay = new AssayClient({ url: 'http://127.0.0.1:4141', apiKey: process.env.ASSAY_API_KEY });
 * const run = await assay.triggerRun(datasetId, { targetId: 'support-agent', scorerIds: ['exact-match'] });
 * const done = await assay.waitForRun(datasetId, run.runId, { onProgress: (p) => console.log(p.done, '/', p.total) });
 */
export class AssayClient {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly headers: Record<string, string>;
  private readonly retries: number;

  constructor(options: AssayClientOptions) {
    const url = options.url.replace(/\/+$/, '');
    this.baseUrl = url.endsWith('/api') ? url : `${url}/api`;
    this.fetchImpl = options.fetch ?? ((request) => fetch(request));
    this.headers = { ...(options.headers ?? {}) };
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
    this.retries = options.retries ?? 2;
  }

  // ── plumbing ──

  /** Sends one request and returns the raw response, throwing {@link AssayApiError} for non-2xx. */
  async raw(
    method: string,
    path: string,
    init: {
      query?: Record<string, unknown>;
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      retry?: boolean;
    } = {},
  ): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(init.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...this.headers, ...(init.headers ?? {}) };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const tries = init.retry ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(new Request(url, { method, headers, body, signal: init.signal }));
      } catch (e) {
        if (init.signal?.aborted) throw init.signal.reason;
        if (attempt < tries) {
          await sleep(250 * 2 ** (attempt - 1), init.signal);
          continue;
        }
        throw new AssayApiError(
          0,
          'NETWORK_ERROR',
          `cannot reach ${this.baseUrl}: ${e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e)}`,
          undefined,
          { cause: e },
        );
      }
      if (res.ok) return res;
      if (attempt < tries && [502, 503, 504].includes(res.status)) {
        await res.body?.cancel().catch(() => {});
        await sleep(250 * 2 ** (attempt - 1), init.signal);
        continue;
      }
      throw await errorFromResponse(res);
    }
  }

  private async json<T>(method: string, path: string, init: Parameters<AssayClient['raw']>[2] = {}): Promise<T> {
    const res = await this.raw(method, path, { retry: method === 'GET', ...init });
    return (await res.json()) as T;
  }

  // ── server ──

  /** `GET /health` (needs no API key). */
  health(opts: RequestOptions = {}): Promise<ResponseOf<'health'>> {
    return this.json('GET', '/health', opts);
  }
  /** `GET /targets`: the targets the server's config defines. */
  async listTargets(opts: RequestOptions = {}): Promise<ResponseOf<'listTargets'>['targets']> {
    return (await this.json<ResponseOf<'listTargets'>>('GET', '/targets', opts)).targets;
  }
  /** `GET /cache`: the target output cache's entries, size and cost by target (optionally one target's). */
  cacheStats(query: QueryOf<'cacheStats'> = {}, opts: RequestOptions = {}): Promise<ResponseOf<'cacheStats'>> {
    return this.json('GET', '/cache', { query, ...opts });
  }
  /**
   * `DELETE /cache`: deletes target output cache entries — all, one target's, and/or those older
   * than an age.
   * @example await assay.clearCache({ targetId: 'support-bot', olderThan: '30d' });
   */
  clearCache(query: QueryOf<'clearCache'> = {}, opts: RequestOptions = {}): Promise<ResponseOf<'clearCache'>> {
    return this.json('DELETE', '/cache', { query, ...opts });
  }
  /** `GET /scorers`: built-in and configured scorers. */
  async listScorers(opts: RequestOptions = {}): Promise<ResponseOf<'listScorers'>['scorers']> {
    return (await this.json<ResponseOf<'listScorers'>>('GET', '/scorers', opts)).scorers;
  }

  // ── datasets ──

  /** `GET /datasets`, newest first. */
  listDatasets(query: PageParams = {}, opts: RequestOptions = {}): Promise<ResponseOf<'listDatasets'>> {
    return this.json('GET', '/datasets', { query, ...opts });
  }
  createDataset(input: CreateDatasetInput, opts: RequestOptions = {}): Promise<ResponseOf<'createDataset'>> {
    return this.json('POST', '/datasets', { body: input, ...opts });
  }
  getDataset(datasetId: string, opts: RequestOptions = {}): Promise<ResponseOf<'getDataset'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}`, opts);
  }
  updateDataset(
    datasetId: string,
    patch: UpdateDatasetInput,
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'updateDataset'>> {
    return this.json('PATCH', `/datasets/${enc(datasetId)}`, { body: patch, ...opts });
  }
  /** Deletes a dataset with its items, runs and results; a 409 while it has active runs. */
  deleteDataset(datasetId: string, opts: RequestOptions = {}): Promise<ResponseOf<'deleteDataset'>> {
    return this.json('DELETE', `/datasets/${enc(datasetId)}`, opts);
  }
  /** `GET /datasets/:id/versions`, newest first. */
  listVersions(
    datasetId: string,
    query: PageParams = {},
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'listVersions'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/versions`, { query, ...opts });
  }

  // ── items ──

  listItems(datasetId: string, query: ItemsQuery = {}, opts: RequestOptions = {}): Promise<ResponseOf<'listItems'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/items`, { query, ...opts });
  }
  /**
   * Every item (at `query.version`, default the latest), fetched page by page, each in full: an
   * item whose page held a truncated value is read again on its own (`getItem`).
   */
  async *iterateItems(
    datasetId: string,
    query: Omit<ItemsQuery, 'page'> = {},
    opts: RequestOptions = {},
  ): AsyncGenerator<DatasetItem, void, undefined> {
    // Pin the version on the first page so later pages never mix in concurrent edits.
    let version = query.version;
    for (let page = 0; ; page++) {
      const r = await this.listItems(datasetId, { perPage: 1000, ...query, version, page }, opts);
      version = r.version;
      for (const item of r.items) {
        yield hasTruncated(item) ? await this.getItem(datasetId, item.id, { version }, opts) : item;
      }
      if (!r.pagination.hasMore) return;
    }
  }
  getItem(
    datasetId: string,
    itemId: string,
    query: QueryOf<'getItem'> = {},
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'getItem'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/items/${enc(itemId)}`, { query, ...opts });
  }
  addItem(datasetId: string, item: ItemInput, opts: RequestOptions = {}): Promise<ResponseOf<'addItem'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/items`, { body: item, ...opts });
  }
  /** Adds up to 10 000 items as one new version (`MAX_BATCH_ITEMS`). */
  addItems(datasetId: string, items: ItemInput[], opts: RequestOptions = {}): Promise<ResponseOf<'addItems'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/items/batch`, { body: { items }, ...opts });
  }
  updateItem(
    datasetId: string,
    itemId: string,
    patch: ItemUpdate,
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'updateItem'>> {
    return this.json('PATCH', `/datasets/${enc(datasetId)}/items/${enc(itemId)}`, { body: patch, ...opts });
  }
  deleteItem(datasetId: string, itemId: string, opts: RequestOptions = {}): Promise<ResponseOf<'deleteItem'>> {
    return this.json('DELETE', `/datasets/${enc(datasetId)}/items/${enc(itemId)}`, opts);
  }
  /** Deletes up to 10 000 items as one new version; an unknown id is a 404 and nothing changes. */
  deleteItems(datasetId: string, itemIds: string[], opts: RequestOptions = {}): Promise<ResponseOf<'deleteItems'>> {
    return this.json('DELETE', `/datasets/${enc(datasetId)}/items/batch`, { body: { itemIds }, ...opts });
  }

  // ── runs ──

  /** Starts a run (202): it is `pending` and executes in the background. */
  triggerRun(datasetId: string, input: TriggerRunInput, opts: TriggerOptions = {}): Promise<ResponseOf<'triggerRun'>> {
    const key = opts.idempotencyKey;
    return this.json('POST', `/datasets/${enc(datasetId)}/runs`, {
      body: input,
      signal: opts.signal,
      headers: key === undefined ? undefined : { 'idempotency-key': key },
      retry: key !== undefined,
    });
  }
  /** `GET /datasets/:id/runs`, newest first. */
  /**
   * A large run `error` (rare: it quotes the first failed item) that the page cut to a marker is
   * read again with `getRun`, so every listed run is a {@link Run}; a large `metadata` stays a marker.
   */
  async listRuns(
    datasetId: string,
    query: PageParams = {},
    opts: RequestOptions = {},
  ): Promise<Omit<ResponseOf<'listRuns'>, 'runs'> & { runs: Run[] }> {
    const page = await this.json<ResponseOf<'listRuns'>>('GET', `/datasets/${enc(datasetId)}/runs`, { query, ...opts });
    const runs = await Promise.all(
      page.runs.map((r) =>
        isTruncated(r.error) ? this.getRun(datasetId, r.id, opts) : { ...r, error: r.error as string | null },
      ),
    );
    return { ...page, runs };
  }
  getRun(datasetId: string, runId: string, opts: RequestOptions = {}): Promise<ResponseOf<'getRun'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs/${enc(runId)}`, opts);
  }
  /** One page of results, ordered by (itemId, repetition). */
  listRunResults(
    datasetId: string,
    runId: string,
    query: ResultsQuery = {},
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'listResults'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/results`, { query, ...opts });
  }
  /**
   * `GET /datasets/:id/runs/:runId/results/:itemId?repetition=N`: one result with every value in
   * full (a results page cuts large ones to `Truncated` markers).
   */
  getRunResult(
    datasetId: string,
    runId: string,
    itemId: string,
    query: QueryOf<'getResult'> = {},
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'getResult'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/results/${enc(itemId)}`, {
      query,
      ...opts,
    });
  }
  /**
   * Every result of a run (optionally of one status), page by page, each in full: a result whose
   * page held a truncated value is read again on its own (`getRunResult`).
   */
  async *iterateRunResults(
    datasetId: string,
    runId: string,
    query: Omit<ResultsQuery, 'page'> = {},
    opts: RequestOptions = {},
  ): AsyncGenerator<RunResult, void, undefined> {
    for (let page = 0; ; page++) {
      const r = await this.listRunResults(datasetId, runId, { perPage: 1000, ...query, page }, opts);
      for (const result of r.results) {
        yield hasTruncated(result)
          ? await this.getRunResult(datasetId, runId, result.itemId, { repetition: result.repetition }, opts)
          : (result as RunResult);
      }
      if (!r.pagination.hasMore) return;
    }
  }
  /** Asks a run to stop (202). Harmless on a cancelled run; a 409 on a completed or failed one. */
  cancelRun(datasetId: string, runId: string, opts: RequestOptions = {}): Promise<ResponseOf<'cancelRun'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/cancel`, opts);
  }
  /** Runs the failed, cancelled and skipped items of a finished run again (202). */
  retryRun(datasetId: string, runId: string, opts: RequestOptions = {}): Promise<ResponseOf<'retryRun'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/retry`, opts);
  }
  /**
   * Re-scores a finished run (202): a new run, with `sourceRunId`, that scores the stored outputs
   * with `scorerIds` and calls no target.
   * @example const again = await assay.rescore(datasetId, runId, { scorerIds: ['judge'] });
   */
  rescore(
    datasetId: string,
    runId: string,
    input: RescoreRunInput,
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'rescoreRun'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/rescore`, { body: input, ...opts });
  }
  /** Earlier attempts and the current result of one item of a run, oldest first. */
  listItemAttempts(
    datasetId: string,
    runId: string,
    itemId: string,
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'listAttempts'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/items/${enc(itemId)}/attempts`, opts);
  }

  /**
   * The run's live events (Server-Sent Events) as an async iterator: first `run` (the full
   * state), then `run.status` / `run.progress` / `run.cancel` as they happen. It ends after the
   * run's final status. A dropped connection or a server restart is reconnected with backoff,
   * and each new connection starts again with a `run` event.
   *
   * @example
   * for await (const e of assay.streamRun(datasetId, runId)) if (e.type === 'run.progress') show(e);
   */
  streamRun(
    datasetId: string,
    runId: string,
    opts: StreamRunOptions = {},
  ): AsyncGenerator<RunStreamEvent, void, undefined> {
    const path = `/datasets/${enc(datasetId)}/runs/${enc(runId)}/events`;
    return runEvents((signal) => this.raw('GET', path, { signal, headers: { accept: 'text/event-stream' } }), opts);
  }

  /**
   * Resolves with the run once it is final (`completed`, `failed` or `cancelled`; this does not
   * throw for a failed run: check `status`). Follows the event stream, and also reads the run every
   * `pollIntervalMs` as a safety net. Rejects with the signal's reason when `signal` aborts.
   */
  async waitForRun(datasetId: string, runId: string, opts: WaitForRunOptions = {}): Promise<Run> {
    const stop = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
    let last: RunProgress | undefined;
    const report = (p: Omit<RunProgress, 'done'>) => {
      const next = { ...p, done: p.succeeded + p.failed };
      // Polled rows can lag the stream: never step backwards within one status.
      if (last && last.status === next.status && next.done < last.done) return;
      if (last && last.status === next.status && last.done === next.done && last.total === next.total) return;
      last = next;
      opts.onProgress?.(next);
    };
    const fromRun = (r: Run) =>
      report({ status: r.status, succeeded: r.succeededCount, failed: r.failedCount, total: r.totalItems });

    const viaStream = async (): Promise<Run> => {
      for await (const e of this.streamRun(datasetId, runId, { ...opts, signal })) {
        if (e.type === 'run') fromRun(e.run);
        else if (e.type === 'run.progress' && last)
          report({ status: last.status, succeeded: e.succeeded, failed: e.failed, total: e.total });
        else if (e.type === 'run.status' && last) report({ ...last, status: e.status });
      }
      // The final status event comes right after the run row is written: read it for the summary.
      return this.getRun(datasetId, runId, { signal });
    };
    const viaPolling = async (): Promise<Run> => {
      const every = opts.pollIntervalMs ?? 2_000;
      if (every <= 0) return new Promise<Run>(() => {}); // never: the stream decides
      for (;;) {
        await sleep(every, signal);
        try {
          const r = await this.getRun(datasetId, runId, { signal });
          fromRun(r);
          if (FINAL.has(r.status)) return r;
        } catch (e) {
          // A restarting server is the stream's business; only a definite answer ends the wait.
          if (signal.aborted || !AssayApiError.is(e) || !e.retryable) throw e;
        }
      }
    };
    try {
      const run = await Promise.race([viaStream(), viaPolling()]);
      fromRun(run);
      return run;
    } finally {
      stop.abort();
    }
  }

  /** `GET /datasets/:id/runs/:runId/scores`: per-scorer count, mean, pass rate and a histogram of `bins` bins (default 10). */
  scoreStats(
    datasetId: string,
    runId: string,
    query: QueryOf<'scoreStats'> = {},
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'scoreStats'>> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/scores`, { query, ...opts });
  }

  /**
   * `POST /datasets/:id/compare`: the server compares run B with baseline A (same dataset), matched
   * by item: per scorer the mean difference with its 95% interval, the pass rates with Wilson
   * intervals, McNemar on the pass/fail flips, a p-value (Holm-corrected across the deciding
   * `scorerIds`) and a verdict at `alpha` and `minEffect`; counts, and the `limit` items that
   * changed most (regressions first) with both outputs. The UI and the CLI's gates both use it.
   */
  compare(datasetId: string, input: CompareRunsInput, opts: RequestOptions = {}): Promise<ResponseOf<'compareRuns'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/compare`, { body: input, ...opts });
  }

  /**
   * `POST /datasets/:id/compare/many`: up to 10 runs (`runIds`), each compared with the baseline
   * (`baselineRunId`) as {@link compare} compares run B with run A — per scorer the mean difference
   * with its 95% interval, p-values Holm-corrected within each candidate's deciding scorers, a
   * verdict — in the order given, with `limit` changed items each (default 10, 0 for none).
   *
   * @example const m = await client.compareMany(ds, { baselineRunId: v1, runIds: [v2, v3], limit: 0 }); m.comparisons.map((c) => c.verdict)
   */
  compareMany(
    datasetId: string,
    input: CompareManyInput,
    opts: RequestOptions = {},
  ): Promise<ResponseOf<'compareMany'>> {
    return this.json('POST', `/datasets/${enc(datasetId)}/compare/many`, { body: input, ...opts });
  }

  /**
   * {@link compare} as a CI job reads it: baseline and candidate (two runs of one dataset), the
   * per-scorer verdicts with their intervals and p-values, the counts, and up to `maxItems`
   * (default 50) regressions and as many improvements, largest change first. `scorerIds`: the
   * scorers that decide (default: all but `latency` and `cost` ones); `alpha` (default 0.05) and
   * `minEffect` (default 0): what a significant change needs; `threshold`: an item changed when a
   * deciding score moved by more than this (default 0).
   *
   * @example const c = await client.compareRuns(base, head, { scorerIds: ['exact-match'] }); if (c.verdict === 'regressed') process.exit(1);
   */
  async compareRuns(
    baseline: { datasetId: string; runId: string },
    candidate: { datasetId: string; runId: string },
    opts: RequestOptions & {
      maxItems?: number;
      threshold?: number;
      scorerIds?: string[];
      alpha?: number;
      minEffect?: number;
    } = {},
  ): Promise<RunComparison> {
    if (baseline.datasetId !== candidate.datasetId) {
      throw new TypeError(
        `runs of two datasets cannot be compared item by item (baseline ${baseline.runId} is in ${baseline.datasetId}, candidate ${candidate.runId} in ${candidate.datasetId})`,
      );
    }
    const maxItems = opts.maxItems ?? 50;
    const c = await this.compare(
      candidate.datasetId,
      {
        runIdA: baseline.runId,
        runIdB: candidate.runId,
        thresholds: opts.threshold ?? 0,
        ...(opts.scorerIds?.length ? { scorerIds: opts.scorerIds } : {}),
        ...(opts.alpha === undefined ? {} : { alpha: opts.alpha }),
        ...(opts.minEffect === undefined ? {} : { minEffect: opts.minEffect }),
        // Regressions come first: twice the room leaves some for improvements too.
        limit: Math.min(MAX_COMPARE_LIMIT, 2 * maxItems),
      },
      { signal: opts.signal },
    );
    return comparisonView(c, maxItems);
  }
}

/** Most changed items one comparison returns (the compare route's `limit` maximum). */
const MAX_COMPARE_LIMIT = 500;
