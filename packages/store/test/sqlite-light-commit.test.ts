/**
 * Claims commit lightly on SQLite (synchronous = NORMAL for that one transaction: no fsync; a claim
 * lost in a power cut harms nothing), and every other commit stays as durable as the database was
 * opened: the connection's level is put back after each claim, also when the claim fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openSqlite, SqlStorage, sqliteAdapter } from '../src/index.js';
import { datasetWithPendingRun } from './runs.js';

const dir = mkdtempSync(join(tmpdir(), 'assay-light-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function plannedRun(name: string, synchronous?: 'FULL' | 'NORMAL') {
  const file = join(dir, `${name}.db`);
  const { db, raw, health } = openSqlite({ file, synchronous, healthIntervalMs: 20, log: () => {} });
  const storage = new SqlStorage(db, sqliteAdapter);
  await storage.migrate();
  const runId = await datasetWithPendingRun(storage, name, 10);
  for (let cursor: string | null = ''; cursor !== null; ) ({ cursor } = await storage.planRunItems(runId, cursor, 100));
  const level = () => raw.pragma('synchronous', { simple: true });
  return { file, raw, health, storage, runId, level };
}

it('a claim leaves a FULL connection FULL, and a NORMAL one NORMAL', async () => {
  const full = await plannedRun('full');
  expect(full.level()).toBe(2);
  expect(await full.storage.claimWork(full.runId, 'w', 4, 60_000)).toHaveLength(4);
  expect(full.level()).toBe(2);
  const normal = await plannedRun('normal', 'NORMAL');
  expect(await normal.storage.claimWork(normal.runId, 'w', 4, 60_000)).toHaveLength(4);
  expect(normal.level()).toBe(1);
  await full.storage.close();
  await normal.storage.close();
});

it('a claim that fails (the file was deleted) still puts the level back', async () => {
  const s = await plannedRun('gone');
  rmSync(s.file);
  const deadline = Date.now() + 5_000;
  while (s.health?.current().ok !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await expect(s.storage.claimWork(s.runId, 'w', 4, 60_000)).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  expect(s.level()).toBe(2);
  await s.storage.close();
});
