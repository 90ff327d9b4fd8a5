import { readFileSync } from 'node:fs';
import {
  batchAddSchema,
  createDatasetSchema,
  issuesOf,
  type Storage,
  type TriggerRunInput,
  triggerRunSchema,
} from '@assay/core';
import { CliError } from './load-config.js';

/**
 * Creates the dataset described by a JSON file `{ name, description?, scorerIds?, items: [...],
 * runs?: [trigger bodies] }` unless a dataset of that name exists. Returns its id, whether it was
 * created, and the runs to trigger on it (only when it was created, so a restart starts none).
 */
export async function seedDataset(
  storage: Storage,
  file: string,
): Promise<{ id: string; name: string; created: boolean; items: number; runs: TriggerRunInput[] }> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read seed file ${file}: ${e instanceof Error ? e.message : e}`);
  }
  const { items: rawItems, runs: rawRuns, ...meta } = (raw ?? {}) as { items?: unknown; runs?: unknown };
  const ds = createDatasetSchema.safeParse(meta);
  const items = batchAddSchema.safeParse({ items: rawItems });
  if (!ds.success)
    throw new CliError(
      `seed file ${file}: ${issuesOf(ds.error)
        .map((i) => `${i.path} ${i.message}`)
        .join('; ')}`,
    );
  if (!items.success)
    throw new CliError(
      `seed file ${file}: ${issuesOf(items.error)
        .map((i) => `${i.path} ${i.message}`)
        .join('; ')}`,
    );
  if (rawRuns !== undefined && (!Array.isArray(rawRuns) || rawRuns.length > 20))
    throw new CliError(`seed file ${file}: runs must be an array of at most 20 trigger bodies`);
  const runs = ((rawRuns ?? []) as unknown[]).map((r, n) => {
    const run = triggerRunSchema.safeParse(r);
    if (run.success) return run.data;
    throw new CliError(
      `seed file ${file}: ${issuesOf(run.error)
        .map((i) => `runs.${n}.${i.path} ${i.message}`)
        .join('; ')}`,
    );
  });
  const existing = await storage.findDatasetByName(ds.data.name);
  if (existing) return { id: existing.id, name: existing.name, created: false, items: existing.itemCount, runs: [] };
  const created = await storage.createDataset(ds.data);
  await storage.addItems(created.id, items.data.items);
  return { id: created.id, name: created.name, created: true, items: items.data.items.length, runs };
}
