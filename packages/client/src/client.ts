import type {
  CompareRunsInput,
  CreateDatasetInput,
  Dataset,
  DatasetItem,
  ItemInput,
  ItemUpdate,
  RunResult,
  TriggerRunInput,
  UpdateDatasetInput,
} from '@assay/core/api';
import { hasTruncated } from '@assay/core/api';
import { compareResults, compareSummaries, type RunComparison } from './compare.js';
import { AssayApiError, errorFromResponse } from './errors.js';
import { runEvents, type StreamRunOptions, sleep } from './stream.js';
import type {
  AttemptList,
  BatchAdded,
  DatasetList,
  Health,
  ItemList,
  ItemsQuery,
  PageParams,
  ResultList,
  ResultsQuery,
  Run,
  RunAccepted,
  RunList,
  RunProgress,
  RunStreamEvent,
  ScorerInfo,
  ServerComparison,
  TargetInfo,
  VersionList,
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

const FINAL = new Set(['completed', 'failed', 'cancelled']);
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
  health(opts: RequestOptions = {}): Promise<Health> {
    return this.json('GET', '/health', opts);
  }
  /** `GET /targets`: the targets the server's config defines. */
  async listTargets(opts: RequestOptions = {}): Promise<TargetInfo[]> {
    return (await this.json<{ targets: TargetInfo[] }>('GET', '/targets', opts)).targets;
  }
  /** `GET /scorers`: built-in and configured scorers. */
  async listScorers(opts: RequestOptions = {}): Promise<ScorerInfo[]> {
    return (await this.json<{ scorers: ScorerInfo[] }>('GET', '/scorers', opts)).scorers;
  }

  // ── datasets ──

  /** `GET /datasets`, newest first. */
  listDatasets(query: PageParams = {}, opts: RequestOptions = {}): Promise<DatasetList> {
    return this.json('GET', '/datasets', { query, ...opts });
  }
  createDataset(input: CreateDatasetInput, opts: RequestOptions = {}): Promise<Dataset> {
    return this.json('POST', '/datasets', { body: input, ...opts });
  }
  getDataset(datasetId: string, opts: RequestOptions = {}): Promise<Dataset> {
    return this.json('GET', `/datasets/${enc(datasetId)}`, opts);
  }
  updateDataset(datasetId: string, patch: UpdateDatasetInput, opts: RequestOptions = {}): Promise<Dataset> {
    return this.json('PATCH', `/datasets/${enc(datasetId)}`, { body: patch, ...opts });
  }
  /** Deletes a dataset with its items, runs and results; a 409 while it has active runs. */
  deleteDataset(datasetId: string, opts: RequestOptions = {}): Promise<{ deleted: true; id: string }> {
    return this.json('DELETE', `/datasets/${enc(datasetId)}`, opts);
  }
  /** `GET /datasets/:id/versions`, newest first. */
  listVersions(datasetId: string, query: PageParams = {}, opts: RequestOptions = {}): Promise<VersionList> {
    return this.json('GET', `/datasets/${enc(datasetId)}/versions`, { query, ...opts });
  }

  // ── items ──

  listItems(datasetId: string, query: ItemsQuery = {}, opts: RequestOptions = {}): Promise<ItemList> {
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
    query: { version?: number } = {},
    opts: RequestOptions = {},
  ): Promise<DatasetItem> {
    return this.json('GET', `/datasets/${enc(datasetId)}/items/${enc(itemId)}`, { query, ...opts });
  }
  addItem(datasetId: string, item: ItemInput, opts: RequestOptions = {}): Promise<DatasetItem> {
    return this.json('POST', `/datasets/${enc(datasetId)}/items`, { body: item, ...opts });
  }
  /** Adds up to 10 000 items as one new version (`MAX_BATCH_ITEMS`). */
  addItems(datasetId: string, items: ItemInput[], opts: RequestOptions = {}): Promise<BatchAdded> {
    return this.json('POST', `/datasets/${enc(datasetId)}/items/batch`, { body: { items }, ...opts });
  }
  updateItem(datasetId: string, itemId: string, patch: ItemUpdate, opts: RequestOptions = {}): Promise<DatasetItem> {
    return this.json('PATCH', `/datasets/${enc(datasetId)}/items/${enc(itemId)}`, { body: patch, ...opts });
  }
  deleteItem(
    datasetId: string,
    itemId: string,
    opts: RequestOptions = {},
  ): Promise<{ deleted: true; id: string; version: number }> {
    return this.json('DELETE', `/datasets/${enc(datasetId)}/items/${enc(itemId)}`, opts);
  }
  /** Deletes up to 10 000 items as one new version; an unknown id is a 404 and nothing changes. */
  deleteItems(
    datasetId: string,
    itemIds: string[],
    opts: RequestOptions = {},
  ): Promise<{ version: number; count: number }> {
    return this.json('DELETE', `/datasets/${enc(datasetId)}/items/batch`, { body: { itemIds }, ...opts });
  }

  // ── runs ──

  /** Starts a run (202): it is `pending` and executes in the background. */
  triggerRun(datasetId: string, input: TriggerRunInput, opts: TriggerOptions = {}): Promise<RunAccepted> {
    const key = opts.idempotencyKey;
    return this.json('POST', `/datasets/${enc(datasetId)}/runs`, {
      body: input,
      signal: opts.signal,
      headers: key === undefined ? undefined : { 'idempotency-key': key },
      retry: key !== undefined,
    });
  }
  /** `GET /datasets/:id/runs`, newest first. */
  listRuns(datasetId: string, query: PageParams = {}, opts: RequestOptions = {}): Promise<RunList> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs`, { query, ...opts });
  }
  getRun(datasetId: string, runId: string, opts: RequestOptions = {}): Promise<Run> {
    return this.json('GET', `/datasets/${enc(datasetId)}/runs/${enc(runId)}`, opts);
  }
  /** One page of results, ordered by (itemId, repetition). */
  listRunResults(
    datasetId: string,
    runId: string,
    query: ResultsQuery = {},
    opts: RequestOptions = {},
  ): Promise<ResultList> {
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
    query: { repetition?: number } = {},
    opts: RequestOptions = {},
  ): Promise<RunResult> {
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
  cancelRun(datasetId: string, runId: string, opts: RequestOptions = {}): Promise<RunAccepted> {
    return this.json('POST', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/cancel`, opts);
  }
  /** Runs the failed, cancelled and skipped items of a finished run again (202). */
  retryRun(datasetId: string, runId: string, opts: RequestOptions = {}): Promise<RunAccepted> {
    return this.json('POST', `/datasets/${enc(datasetId)}/runs/${enc(runId)}/retry`, opts);
  }
  /** Earlier attempts and the current result of one item of a run, oldest first. */
  listItemAttempts(datasetId: string, runId: string, itemId: string, opts: RequestOptions = {}): Promise<AttemptList> {
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

  /**
   * `POST /datasets/:id/compare`: the server compares run B with baseline A (same dataset): per-scorer
   * means with a `regressed` flag at `thresholds` (default 0), counts, and the `limit` items that
   * changed most (regressions first) with both outputs. At threshold 0 it classifies items as
   * {@link compareRuns} does, without paging every result through the client.
   */
  compare(datasetId: string, input: CompareRunsInput, opts: RequestOptions = {}): Promise<ServerComparison> {
    return this.json('POST', `/datasets/${enc(datasetId)}/compare`, { body: input, ...opts });
  }

  /**
   * Compares two finished runs, computed client-side (the server has no compare route yet):
   * per-scorer mean deltas from the summaries, and item-level regressions and improvements from
   * the paged results, matched by (itemId, repetition). Memory stays flat: results are merged
   * page by page.
   */
  async compareRuns(
    baseline: { datasetId: string; runId: string },
    candidate: { datasetId: string; runId: string },
    opts: RequestOptions & { maxItems?: number } = {},
  ): Promise<RunComparison> {
    const [a, b] = await Promise.all([
      this.getRun(baseline.datasetId, baseline.runId, opts),
      this.getRun(candidate.datasetId, candidate.runId, opts),
    ]);
    const items = await compareResults(
      this.iterateRunResults(a.datasetId, a.id, {}, opts),
      this.iterateRunResults(b.datasetId, b.id, {}, opts),
      opts.maxItems ?? 50,
      a.scorerIds.filter((id) => b.scorerIds.includes(id)).sort(),
    );
    return { baseline: a, candidate: b, scorers: compareSummaries(a, b), ...items };
  }
}
