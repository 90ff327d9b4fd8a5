import { z } from 'zod';
import { paginationSchema, record, text, timestamp } from './common.js';

export const createDatasetSchema = z.strictObject({
  name: text().trim().min(1, 'name must not be empty').max(200),
  description: text().max(10_000).nullish(),
  metadata: record.nullish(),
  inputSchema: record.nullish(),
  groundTruthSchema: record.nullish(),
  /** Scorers a trigger without `scorerIds` uses. */
  scorerIds: z.array(text().min(1)).max(100).nullish(),
});
export type CreateDatasetInput = z.infer<typeof createDatasetSchema>;

export const updateDatasetSchema = createDatasetSchema.partial();
export type UpdateDatasetInput = z.infer<typeof updateDatasetSchema>;

export const datasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  metadata: record.nullable(),
  inputSchema: record.nullable(),
  groundTruthSchema: record.nullable(),
  /** Scorers a trigger without `scorerIds` uses. */
  scorerIds: z.array(z.string()).nullable(),
  /** +1 per item mutation batch; 0 for a new, empty dataset. */
  version: z.number().int(),
  /** Items valid at the current version. */
  itemCount: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Dataset = z.infer<typeof datasetSchema>;

export const datasetVersionSchema = z.object({
  datasetId: z.string(),
  version: z.number().int(),
  added: z.number().int(),
  updated: z.number().int(),
  deleted: z.number().int(),
  createdAt: timestamp,
});
export type DatasetVersion = z.infer<typeof datasetVersionSchema>;

/**
 * `GET /datasets`. A large `description` or `metadata` may be a `$truncated` marker in a list
 * (metadata is an object either way; `getDataset` has it whole).
 */
export const datasetListSchema = z.object({ datasets: z.array(datasetSchema), pagination: paginationSchema });
export type DatasetList = z.infer<typeof datasetListSchema>;

export const versionListSchema = z.object({ versions: z.array(datasetVersionSchema), pagination: paginationSchema });
export type VersionList = z.infer<typeof versionListSchema>;

export const datasetDeletedSchema = z.object({ deleted: z.literal(true), id: z.string() });
export type DatasetDeleted = z.infer<typeof datasetDeletedSchema>;
