import { readFileSync } from 'node:fs';
import { batchAddSchema, createDatasetSchema, issuesOf, type Storage } from '@assay/core';
import { CliError } from './load-config.js';

/**
 * Creates the dataset described by a JSON file `{ name, description?, items: [...] }` unless a
 * dataset of that name exists. Returns its id and whether it was created.
 */
export async function seedDataset(
  storage: Storage,
  file: string,
): Promise<{ id: string; name: string; created: boolean; items: number }> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read seed file ${file}: ${e instanceof Error ? e.message : e}`);
  }
  const { items: rawItems, ...meta } = (raw ?? {}) as { items?: unknown };
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
  const existing = await storage.findDatasetByName(ds.data.name);
  if (existing) return { id: existing.id, name: existing.name, created: false, items: existing.itemCount };
  const created = await storage.createDataset(ds.data);
  await storage.addItems(created.id, items.data.items);
  return { id: created.id, name: created.name, created: true, items: items.data.items.length };
}
