/**
 * The SQLite ledger thread (what `assay serve --config` uses): the ledger's contract runs against
 * it with the other adapters (adapters.ts); here, what only it can get wrong — errors crossing the
 * thread boundary, and a fault of the file it writes, which is a 503 as on the main thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createLedgerThread, openSqlite, SqlStorage, sqliteAdapter } from '../src/index.js';
import { datasetWithPendingRun } from './runs.js';

const dir = mkdtempSync(join(tmpdir(), 'assay-ledger-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function open(name: string) {
  const file = join(dir, `${name}.db`);
  const { db } = openSqlite({ file, healthIntervalMs: 20, log: () => {} });
  const ledgerWrites = createLedgerThread({ file });
  const storage = new SqlStorage(db, sqliteAdapter, { ledgerWrites, onClose: () => ledgerWrites.close() });
  await storage.migrate();
  const runId = await datasetWithPendingRun(storage, name, 5);
  return { file, storage, runId };
}

it('an error in the thread rejects the call with its message, and the thread goes on', async () => {
  const { storage, runId } = await open('errors');
  // The counts of a run that does not exist: Kysely's "no result", thrown in the thread.
  await expect(storage.writeOutcomes('run_missing', [])).rejects.toThrow(/no result/i);
  expect(await storage.planRunItems(runId, '', 10)).toEqual({ planned: 5, cursor: null });
  expect(await storage.claimWork(runId, 'w', 2, 60_000)).toHaveLength(2);
  await storage.close();
});

it('plans, claims and stores through the thread, and a deleted file makes its writes 503', async () => {
  const { file, storage, runId } = await open('gone');
  expect(await storage.planRunItems(runId, '', 10)).toEqual({ planned: 5, cursor: null });
  const claimed = await storage.claimWork(runId, 'w', 5, 60_000);
  expect(claimed).toHaveLength(5);
  rmSync(file);
  // The thread's own connection notices (its health check runs every second) and refuses to write.
  const deadline = Date.now() + 10_000;
  let error: unknown = null;
  while (Date.now() < deadline) {
    error = await storage.extendClaims(runId, 'w', 60_000).then(
      () => null,
      (e: unknown) => e,
    );
    if (error) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503 });
  await storage.close();
});
