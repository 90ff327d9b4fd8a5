import {
  AssayClient,
  type AssayClientOptions,
  type ItemInput,
  type ListedResult,
  type Run,
  type RunAccepted,
  type TriggerRunInput,
} from '@assay/client';
import { FINAL_RUN_STATUSES } from '@assay/core';
import { waitFor } from './process.js';

export interface DriverOptions extends Omit<AssayClientOptions, 'url'> {
  /** Each request is aborted after this long. Default 15 000 ms. */
  timeoutMs?: number;
}

/** A run's items that are done (succeeded or failed) per its counters; 0 for no run. */
export const doneCount = (run: Pick<Run, 'succeededCount' | 'failedCount'> | null | undefined): number =>
  (run?.succeededCount ?? 0) + (run?.failedCount ?? 0);

/** True for a run in a final status (`completed`, `failed`, `cancelled`). */
export const isFinal = (run: { status: string } | null | undefined): boolean =>
  !!run && (FINAL_RUN_STATUSES as readonly string[]).includes(run.status);

/**
 * The typed e2e driver: the SDK ({@link AssayClient}, so every response has the contract's type)
 * plus the few steps e2e tests, the bench and the soak repeat. It does not retry (a test sees each
 * failure; `retries` overrides), aborts a request after `timeoutMs`, and records the HTTP status
 * of the latest response ({@link Driver.lastStatus}) so a test can still check `202` vs `200`.
 * A non-2xx answer throws `AssayApiError` (`status`, `code`): assert it with
 * `await expect(d.cancelRun(ds, run)).rejects.toMatchObject({ status: 409, code: 'CONFLICT' })`.
 *
 * @example
 * const d = new Driver(server);
 * const ds = await d.seedDataset('crash', items);
 * const { runId } = await d.triggerRun(ds.id, { targetId: 'sleepy', scorerIds: ['exact'] });
 * expect(d.lastStatus).toBe(202);
 * const run = await d.waitRunFinal(ds.id, runId);
 */
export class Driver extends AssayClient {
  private readonly seen: { status?: number };

  /** `server`: a base URL (`http://127.0.0.1:4141`) or anything with a `base` (a started server). */
  constructor(server: string | { base: string }, opts: DriverOptions = {}) {
    const seen: { status?: number } = {};
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const inner = opts.fetch ?? ((request: Request) => fetch(request));
    super({
      retries: 0,
      ...opts,
      url: typeof server === 'string' ? server : server.base,
      fetch: async (request) => {
        const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
        const res = await inner(new Request(request, { signal }));
        seen.status = res.status;
        return res;
      },
    });
    this.seen = seen;
  }

  /** HTTP status of the latest response this driver received (undefined before the first). */
  get lastStatus(): number | undefined {
    return this.seen.status;
  }

  /** Creates a dataset and adds `items` in batches of 200; returns its id and the created items. */
  async seedDataset(name: string, items: ItemInput[]) {
    const ds = await this.createDataset({ name });
    const created = [];
    for (let i = 0; i < items.length; i += 200)
      created.push(...(await this.addItems(ds.id, items.slice(i, i + 200))).items);
    return { id: ds.id, items: created };
  }

  /**
   * Triggers a run and insists on `202 Accepted` (throws otherwise, with the answer); returns the
   * accepted run (`runId`, `status: 'pending'`).
   */
  async startRun(datasetId: string, input: TriggerRunInput): Promise<RunAccepted> {
    const accepted = await this.triggerRun(datasetId, input);
    if (this.lastStatus !== 202) throw new Error(`trigger answered ${this.lastStatus}: ${JSON.stringify(accepted)}`);
    return accepted;
  }

  /** `n` items `{ input: { answer: 'a<i>' }, groundTruth: 'a<i>' }` (what the sleepy config echoes) as dataset `name`. */
  seedAnswers(name: string, n: number) {
    return this.seedDataset(
      name,
      Array.from({ length: n }, (_, i) => ({ input: { answer: `a${i}` }, groundTruth: `a${i}` })),
    );
  }

  /** Polls the run (every 100 ms) until it is final; throws with the last state after `ms`. */
  waitRunFinal(datasetId: string, runId: string, ms = 30_000): Promise<Run> {
    return waitFor(() => this.getRun(datasetId, runId), isFinal, { ms, every: 100, what: `run ${runId} to finish` });
  }

  /** Every result of a run as the results pages list them (100 a page, large values cut). */
  async allResults(datasetId: string, runId: string): Promise<ListedResult[]> {
    const out: ListedResult[] = [];
    for (let page = 0; page < 10_000; page++) {
      const r = await this.listRunResults(datasetId, runId, { page, perPage: 100 });
      out.push(...r.results);
      if (!r.pagination.hasMore) return out;
    }
    throw new Error('results never ended (hasMore stayed true)');
  }
}

/** The process id in a result's `workerId` (`<host>:<pid>:…`); NaN when there is none. */
export const workerPid = (workerId: string | null | undefined): number => Number(workerId?.split(':')[1]);
