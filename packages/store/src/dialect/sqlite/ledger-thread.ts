import { Worker } from 'node:worker_threads';
import { AssayError, type Clock, StorageUnavailableError, systemClock, type WorkLedger } from '@assay/core';

/**
 * The ledger writes of the item pipeline, which a ledger thread runs: short transactions, so a
 * write of the main thread never waits long for the lock (SQLite's busy handler sleeps the waiting
 * thread, and with it the event loop). Planning stays on the main thread, which yields between its
 * pages: a page of a large run holds the lock for longer.
 */
export const LEDGER_THREAD_METHODS = [
  'claimWork',
  'extendClaims',
  'releaseClaims',
  'markStarted',
  'closePendingItems',
  'writeOutcomes',
] as const;
export type LedgerWrites = Pick<WorkLedger, (typeof LEDGER_THREAD_METHODS)[number]>;

export interface LedgerThreadOptions {
  /** The SQLite database file (migrated before the first call). */
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
  /** The clock of the caller's storage: a clock other than the system's is followed by its `now()` at each call. */
  clock?: Clock;
}
/** What the thread is started with. */
export interface LedgerThreadData {
  file: string;
  synchronous?: 'FULL' | 'NORMAL';
  callerClock: boolean;
}
export interface LedgerCall {
  id: number;
  method: (typeof LEDGER_THREAD_METHODS)[number];
  args: unknown[];
  now: number;
}
export type LedgerReply =
  | { id: number; value: unknown }
  | { id: number; error: { message: string; code: string | null; status: number | null; details: unknown } };

const BOOTSTRAP = new URL('./ledger-thread-bootstrap.mjs', import.meta.url);

/** The error a thread reported, as the storage on this thread would have thrown it. */
function errorOf(e: Extract<LedgerReply, { error: unknown }>['error']): Error {
  if (e.code === 'STORAGE_UNAVAILABLE')
    return new StorageUnavailableError(e.message.replace(/^storage unavailable: /, ''));
  if (e.code && e.status) return new AssayError(e.code, e.message, e.status, e.details ?? undefined);
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}

/**
 * Runs the ledger writes of the item pipeline (see {@link LEDGER_THREAD_METHODS}) on a thread of
 * their own, with its own connection to the SQLite file: their statements and commits (the fsync)
 * then never hold the thread that serves HTTP and renews leases. The same transactions, fencing
 * and counts as on this thread; SQLite's single write lock keeps this thread's other writes and
 * the ledger thread's apart (busy_timeout). A storage fault comes back as
 * {@link StorageUnavailableError}; if the thread ends, the calls it had fail (their callers retry
 * as after any failed write) and the next call starts a new thread.
 */
export function createLedgerThread(opts: LedgerThreadOptions): LedgerWrites & { close(): Promise<void> } {
  const clock = opts.clock ?? systemClock;
  const data: LedgerThreadData = { file: opts.file, synchronous: opts.synchronous, callerClock: clock !== systemClock };
  let worker: Worker | null = null;
  let seq = 0;
  let closed = false;
  const waiting = new Map<number, { resolve: (v: never) => void; reject: (e: unknown) => void }>();
  const start = () => {
    const w = new Worker(BOOTSTRAP, { workerData: data });
    w.unref(); // ref'd while calls wait on it
    w.on('message', (m: LedgerReply) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      if (waiting.size === 0) w.unref();
      if (!p) return;
      if ('value' in m) p.resolve(m.value as never);
      else p.reject(errorOf(m.error));
    });
    const lost = (why: string) => {
      if (worker === w) worker = null;
      for (const [id, p] of waiting) {
        waiting.delete(id);
        p.reject(new Error(`the SQLite ledger thread ended (${why}) before it answered`));
      }
    };
    w.on('error', (e) => lost(e.message));
    w.on('exit', (code) => lost(`exit code ${code}`));
    return w;
  };
  const call =
    (method: (typeof LEDGER_THREAD_METHODS)[number]) =>
    (...args: unknown[]): Promise<never> => {
      if (closed) return Promise.reject(new Error('the SQLite ledger thread is closed'));
      worker ??= start();
      const w = worker;
      const id = ++seq;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        if (waiting.size === 1) w.ref();
        w.postMessage({ id, method, args, now: clock.now() } satisfies LedgerCall);
      });
    };
  return {
    claimWork: call('claimWork'),
    extendClaims: call('extendClaims'),
    releaseClaims: call('releaseClaims'),
    markStarted: call('markStarted'),
    closePendingItems: call('closePendingItems'),
    writeOutcomes: call('writeOutcomes'),
    async close() {
      closed = true;
      const w = worker;
      worker = null;
      if (!w) return;
      w.ref(); // this process waits for it to close its connection
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => void w.terminate(), 5_000);
        w.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        w.postMessage('close');
      });
    },
  };
}
