import type { ListBounds } from '@assay/contract';
import type { CreateDatasetInput, ItemInput, ItemUpdate, UpdateDatasetInput } from '../schemas.js';
import type { Dataset, DatasetItem, DatasetVersion, Page, PageQuery } from '../types.js';

/**
 * The catalog: datasets, their items and their versions. Every item mutation is one version bump;
 * older versions stay readable, so a run pinned to one never sees later edits.
 */
export interface CatalogStore {
  createDataset(input: CreateDatasetInput): Promise<Dataset>;
  getDataset(id: string): Promise<Dataset | undefined>;
  findDatasetByName(name: string): Promise<Dataset | undefined>;
  /** With `bounds`, large metadata and schemas come as `Truncated` markers (see truncated.ts). */
  listDatasets(q: PageQuery & { bounds?: ListBounds }): Promise<Page<Dataset>>;
  updateDataset(id: string, patch: UpdateDatasetInput): Promise<Dataset>;
  /**
   * Deletes a dataset with its items, runs and results. Refused (409 CONFLICT) while the dataset
   * has a pending or running run; the check and the delete are one transaction, so a run
   * triggered meanwhile is either seen (and the delete refused) or fails to find the dataset.
   */
  deleteDataset(id: string): Promise<void>;

  /** Adds items as one version bump. Rejects (409) an externalId already in use. */
  addItems(datasetId: string, items: ItemInput[]): Promise<{ version: number; items: DatasetItem[] }>;
  /** Updates items as one version bump; the old revisions stay visible to older versions. */
  updateItems(
    datasetId: string,
    updates: (ItemUpdate & { id: string })[],
  ): Promise<{ version: number; items: DatasetItem[] }>;
  /** Deletes items as one version bump. Unknown ids are a 404 and nothing changes. */
  deleteItems(datasetId: string, itemIds: string[]): Promise<{ version: number; count: number }>;
  getItem(datasetId: string, itemId: string, version?: number): Promise<DatasetItem | undefined>;
  /** With `bounds`, large input, groundTruth and metadata come as `Truncated` markers (see truncated.ts). */
  listItems(
    datasetId: string,
    q: PageQuery & { version?: number; search?: string; bounds?: ListBounds },
  ): Promise<Page<DatasetItem>>;
  countItems(datasetId: string, version: number): Promise<number>;
  listVersions(datasetId: string, q: PageQuery): Promise<Page<DatasetVersion>>;
}
