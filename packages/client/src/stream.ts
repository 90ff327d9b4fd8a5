import type { RunStreamEvent } from '@assay/contract';
import { FINAL_RUN_STATUSES } from '@assay/contract/values';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AssayApiError } from './errors.js';
import type { Run } from './types.js';

const FINAL = new Set<string>(FINAL_RUN_STATUSES);

export interface ReconnectOptions {
  /** First wait before reconnecting, in ms; doubles per failed try. Default 250. */
  delayMs?: number;
  /** Longest wait between two tries, in ms. Default 5 000. */
  maxDelayMs?: number;
  /**
   * Give up (throw `AssayApiError` code `STREAM_LOST`) after failing to reconnect for this long,
   * in ms. Default 60 000; `Infinity` never gives up.
   */
  giveUpAfterMs?: number;
}

export interface StreamRunOptions {
  signal?: AbortSignal;
  /** Reconnect after a dropped connection or a server restart. `false` disables. Default on. */
  reconnect?: ReconnectOptions | false;
  /**
   * A connection silent for this long (the server pings every 15 s) is taken as dead and
   * replaced, in ms. Default 45 000.
   */
  idleTimeoutMs?: number;
  /** Called before each reconnect attempt, e.g. to tell a user the connection was lost. */
  onReconnect?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** True when a new connection may fix what went wrong (network trouble, 5xx, a dropped stream). */
function transient(error: unknown): boolean {
  return AssayApiError.is(error) ? error.retryable : true;
}

function decode(message: EventSourceMessage): RunStreamEvent | null {
  const type = message.event ?? 'message';
  if (type === 'ping') return null;
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    return null;
  }
  if (type === 'run') return { type: 'run', run: data as Run };
  if (type === 'run.status' || type === 'run.progress' || type === 'run.cancel') {
    return { ...(data as object), type } as RunStreamEvent;
  }
  return null; // an event type this SDK does not know yet: skip, stay compatible
}

const isFinal = (e: RunStreamEvent) =>
  (e.type === 'run' && FINAL.has(e.run.status)) || (e.type === 'run.status' && FINAL.has(e.status));

/**
 * The events of one run as an async iterator, reconnecting as needed. `open` makes one request
 * and returns the raw response (or throws an {@link AssayApiError}).
 */
export async function* runEvents(
  open: (signal: AbortSignal) => Promise<Response>,
  opts: StreamRunOptions = {},
): AsyncGenerator<RunStreamEvent, void, undefined> {
  const reconnect = opts.reconnect === false ? null : (opts.reconnect ?? {});
  const idleMs = opts.idleTimeoutMs ?? 45_000;
  let attempt = 0;
  let failingSince: number | null = null;
  for (;;) {
    opts.signal?.throwIfAborted();
    const conn = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, conn.signal]) : conn.signal;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => conn.abort(new Error(`no data from the event stream for ${idleMs} ms`)), idleMs);
    };
    let error: unknown = new Error('event stream ended before the run finished');
    try {
      touch();
      const res = await open(signal);
      if (!res.body) throw new AssayApiError(0, 'NETWORK_ERROR', 'event stream response has no body');
      const pending: RunStreamEvent[] = [];
      const parser = createParser({
        onEvent: (m) => {
          const e = decode(m);
          if (e) pending.push(e);
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          touch();
          parser.feed(value);
          for (const e of pending.splice(0)) {
            // Connected and hearing from the server again: the next outage starts a fresh backoff.
            attempt = 0;
            failingSince = null;
            yield e;
            if (isFinal(e)) return;
          }
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (!transient(e) || !reconnect) throw e;
      error = e;
    } finally {
      clearTimeout(idle);
      conn.abort();
    }
    if (!reconnect) throw new AssayApiError(0, 'STREAM_LOST', 'event stream ended before the run finished');
    failingSince ??= Date.now();
    const giveUp = reconnect.giveUpAfterMs ?? 60_000;
    if (Date.now() - failingSince > giveUp) {
      throw new AssayApiError(
        0,
        'STREAM_LOST',
        `lost the run's event stream and could not reconnect for ${giveUp} ms: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        { cause: error },
      );
    }
    const delayMs = Math.min(reconnect.maxDelayMs ?? 5_000, (reconnect.delayMs ?? 250) * 2 ** attempt);
    attempt++;
    opts.onReconnect?.({ attempt, delayMs, error });
    await sleep(delayMs, opts.signal);
  }
}
