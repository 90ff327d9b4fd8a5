import { canonicalJson, type Json } from '@assay/core';

/** A Mastra dataset as `mastra.datasets.list()` returns it (datasets/manager.d.ts). */
interface MastraDatasetRecord {
  id: string;
  name: string;
  description?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** A Mastra dataset item (`DatasetItem`). */
interface MastraDatasetItem {
  id: string;
  input: unknown;
  groundTruth?: unknown;
  metadata?: Record<string, unknown> | null;
}

interface MastraPage {
  pagination: { hasMore: boolean };
}

/** `mastra.datasets`: the `DatasetsManager` of a Mastra instance with storage. */
export interface MastraDatasets {
  list(args?: { page?: number; perPage?: number }): Promise<MastraPage & { datasets: MastraDatasetRecord[] }>;
  get(args: { id: string }): Promise<{
    listItems(args?: { page?: number; perPage?: number }): Promise<unknown>;
  }>;
}

/** What the import needs of `AssayClient` (@assay/client): pass the client itself. */
export interface AssayDatasetsClient {
  listDatasets(query?: { page?: number; perPage?: number }): Promise<{
    datasets: { id: string; name: string; metadata: Record<string, unknown> | null }[];
    pagination: { hasMore: boolean };
  }>;
  createDataset(input: {
    name: string;
    description?: string | null;
    metadata?: Record<string, unknown> | null;
  }): Promise<{ id: string }>;
  iterateItems(
    datasetId: string,
  ): AsyncIterable<{ id: string; externalId: string | null; input: unknown; groundTruth: unknown; metadata: unknown }>;
  addItems(
    datasetId: string,
    items: { input: Json; groundTruth?: unknown; metadata?: Record<string, unknown> | null; externalId: string }[],
  ): Promise<unknown>;
  updateItem(
    datasetId: string,
    itemId: string,
    patch: { input?: unknown; groundTruth?: unknown; metadata?: Record<string, unknown> | null },
  ): Promise<unknown>;
  deleteItems(datasetId: string, itemIds: string[]): Promise<unknown>;
}

export interface ImportedDataset {
  mastraId: string;
  assayId: string;
  name: string;
  /** True when this import created the Assay dataset. */
  created: boolean;
  added: number;
  updated: number;
  deleted: number;
  unchanged: number;
}

/** The key of an Assay dataset's metadata that holds the Mastra dataset id it was imported from. */
export const MASTRA_DATASET_KEY = 'mastraDatasetId';
const BATCH = 1000;

async function allPages<T>(page: (n: number) => Promise<MastraPage>, key: string) {
  const out: T[] = [];
  for (let n = 0; ; n++) {
    const r = await page(n);
    out.push(...(((r as unknown as Record<string, unknown>)[key] as T[]) ?? []));
    if (!r.pagination?.hasMore) return out;
  }
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);

/**
 * Imports the datasets of a Mastra instance (through `mastra.datasets`, whatever storage it has)
 * into Assay: one Assay dataset per Mastra dataset (found again by `metadata.mastraDatasetId`),
 * one item per Mastra item with the Mastra item id as `externalId`, its input, ground truth and
 * metadata. A rerun adds new items, updates changed ones, deletes the imported items gone from
 * Mastra, and leaves the rest (and items added in Assay without an `externalId`) alone.
 * @example await importMastraDatasets(mastra.datasets, new AssayClient({ url }))
 */
export async function importMastraDatasets(
  datasets: MastraDatasets,
  assay: AssayDatasetsClient,
  opts: { ids?: string[] } = {},
): Promise<ImportedDataset[]> {
  const mastraSets = (
    await allPages<MastraDatasetRecord>((page) => datasets.list({ page, perPage: 100 }), 'datasets')
  ).filter((d) => !opts.ids || opts.ids.includes(d.id));
  const assaySets = await allPages<{ id: string; metadata: Record<string, unknown> | null }>(
    (page) => assay.listDatasets({ page, perPage: 100 }),
    'datasets',
  );
  const byMastraId = new Map(assaySets.map((d) => [d.metadata?.[MASTRA_DATASET_KEY], d.id]));
  const report: ImportedDataset[] = [];
  for (const ds of mastraSets) {
    let assayId = byMastraId.get(ds.id) as string | undefined;
    const created = assayId === undefined;
    assayId ??= (
      await assay.createDataset({
        name: ds.name,
        description: ds.description ?? null,
        metadata: { ...(ds.metadata ?? {}), [MASTRA_DATASET_KEY]: ds.id },
      })
    ).id;
    const handle = await datasets.get({ id: ds.id });
    const items = await allPages<MastraDatasetItem>(
      (page) => handle.listItems({ page, perPage: 100 }) as Promise<MastraPage>,
      'items',
    );
    const existing = new Map<string, { id: string; input: unknown; groundTruth: unknown; metadata: unknown }>();
    for await (const item of assay.iterateItems(assayId)) if (item.externalId) existing.set(item.externalId, item);
    const toAdd: Parameters<AssayDatasetsClient['addItems']>[1] = [];
    let updated = 0;
    let unchanged = 0;
    for (const item of items) {
      const next = { input: item.input, groundTruth: item.groundTruth ?? null, metadata: item.metadata ?? null };
      const old = existing.get(item.id);
      existing.delete(item.id);
      if (!old) toAdd.push({ ...next, input: next.input as Json, externalId: item.id });
      else if (
        same(old.input, next.input) &&
        same(old.groundTruth, next.groundTruth) &&
        same(old.metadata, next.metadata)
      )
        unchanged++;
      else {
        await assay.updateItem(assayId, old.id, next);
        updated++;
      }
    }
    for (let i = 0; i < toAdd.length; i += BATCH) await assay.addItems(assayId, toAdd.slice(i, i + BATCH));
    const gone = [...existing.values()].map((i) => i.id);
    for (let i = 0; i < gone.length; i += BATCH) await assay.deleteItems(assayId, gone.slice(i, i + BATCH));
    report.push({
      mastraId: ds.id,
      assayId,
      name: ds.name,
      created,
      added: toAdd.length,
      updated,
      deleted: gone.length,
      unchanged,
    });
  }
  return report;
}
