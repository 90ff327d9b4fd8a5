/**
 * The SQLite ledger thread: its own connection to the database file, on which it runs the item
 * pipeline's ledger writes it is sent (claims, lease renewals, releases, outcome batches: the same
 * statements and transactions as on the main thread) and answers each with its value or its error.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { type Clock, systemClock } from '@assay/core';
import { SqlStorage } from '../../sql-storage.js';
import { sqliteAdapter } from './adapter.js';
import type { LedgerCall, LedgerReply, LedgerThreadData } from './ledger-thread.js';
import { openSqlite } from './open.js';

const data = workerData as LedgerThreadData;
/** The caller's time as of its latest call, when its clock is not the system's (a test's manual clock). */
let callerNow = Date.now();
const clock: Clock = data.callerClock ? { ...systemClock, now: () => callerNow } : systemClock;
// The main thread's health watch reports storage faults (once); this connection only refuses writes.
const { db } = openSqlite({ file: data.file, synchronous: data.synchronous, log: () => {} });
const storage = new SqlStorage(db, sqliteAdapter, { clock });

parentPort?.on('message', (m: LedgerCall | 'close') => {
  if (m === 'close') {
    // Ends this thread (not the process) once its connection is closed.
    void storage.close().finally(() => process.exit(0));
    return;
  }
  callerNow = m.now;
  const method = storage[m.method] as (...args: unknown[]) => Promise<unknown>;
  method.apply(storage, m.args).then(
    (value) => parentPort?.postMessage({ id: m.id, value } satisfies LedgerReply),
    (e: unknown) => {
      const error = e as { message?: unknown; code?: unknown; status?: unknown; details?: unknown };
      const reply: LedgerReply = {
        id: m.id,
        error: {
          message: String(error?.message ?? e),
          code: typeof error?.code === 'string' ? error.code : null,
          status: typeof error?.status === 'number' ? error.status : null,
          details: error?.details ?? null,
        },
      };
      parentPort?.postMessage(reply);
    },
  );
});
