import type { ApiRun, RunEventMessage } from '@assay/contract';
import { notFound } from '../errors.js';
import type { EventBus, RunEvent, Storage } from '../ports.js';
import { FINAL_RUN_STATUSES } from '../types.js';

// The bus's events are the contract's: a change to either fails to compile here.
((e: RunEvent): RunEventMessage => e) satisfies unknown;
((e: RunEventMessage): RunEvent => e) satisfies unknown;

/** What a live stream of one run yields: its state, then its events, and a ping while quiet. */
export type RunStreamItem = { type: 'run'; run: ApiRun } | RunEvent | { type: 'ping' };

export interface RunEventStreamOptions {
  /** Ends the stream (the client went away). */
  signal?: AbortSignal;
  /** How long to wait for the bus before reading the stored run, in ms. Default 1 000. */
  pollMs?: number;
  /** A `ping` after this long without anything to send, in ms. Default 15 000. */
  pingMs?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

const FINAL = new Set<string>(FINAL_RUN_STATUSES);

/**
 * The live events of one run as an async iterator: first `run` (the current state, so a client
 * that connects late is never behind), then `run.status` / `run.progress` / `run.cancel` from the
 * bus as they happen, ending after the final status. While the bus is quiet it reads the stored
 * run every `pollMs` and yields the events it shows that the bus did not deliver (a worker in
 * another process without Redis, pub/sub messages lost in a Redis restart). Breaking out of the
 * loop (or `signal`) unsubscribes.
 *
 * @example for await (const e of runEventStream({ storage, events }, run.id, { signal })) send(e)
 */
export async function* runEventStream(
  deps: { storage: Pick<Storage, 'getRun'>; events: EventBus },
  runId: string,
  opts: RunEventStreamOptions = {},
): AsyncGenerator<RunStreamItem, void, undefined> {
  const { signal } = opts;
  const pollMs = opts.pollMs ?? 1_000;
  const pingMs = opts.pingMs ?? 15_000;
  const now = opts.now ?? Date.now;
  const queue: RunEvent[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = deps.events.subscribe(runId, (e) => {
    queue.push(e);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    // Subscribed before the state is read: nothing that happens in between is missed.
    const stored = await deps.storage.getRun(runId);
    if (!stored) throw notFound('Run', runId);
    const { plannedAt: _p, ...current } = stored;
    yield { type: 'run', run: current };
    // What the client has seen, so the stored row can fill in what the bus did not deliver.
    let seen = { status: current.status, done: current.succeededCount + current.failedCount };
    let done = FINAL.has(current.status);
    let quietSince = now();
    while (!done && !signal?.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, pollMs).unref?.();
        });
        wake = null;
      }
      if (signal?.aborted) return;
      if (queue.length === 0) {
        const row = await deps.storage.getRun(runId);
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
      if (queue.length === 0 && now() - quietSince >= pingMs) {
        yield { type: 'ping' };
        quietSince = now();
      }
      for (const e of queue.splice(0)) {
        quietSince = now();
        yield e;
        if (e.type === 'run.progress') seen = { ...seen, done: e.succeeded + e.failed };
        if (e.type === 'run.status') {
          seen = { ...seen, status: e.status };
          if (FINAL.has(e.status)) done = true;
        }
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unsubscribe();
  }
}
