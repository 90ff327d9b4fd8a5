import { z } from 'zod';
import { intParam, jsonValue, pageQuerySchema, paginationSchema, record, text, timestamp } from './common.js';

export const itemInputSchema = z.strictObject({
  input: jsonValue,
  groundTruth: z.unknown().optional(),
  metadata: record.nullish(),
  externalId: text().min(1).max(500).nullish(),
});
export type ItemInput = z.infer<typeof itemInputSchema>;

export const itemUpdateSchema = z
  .strictObject({
    input: z.unknown().optional(),
    groundTruth: z.unknown().optional(),
    metadata: record.nullish(),
    externalId: text().min(1).max(500).nullish(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to update: give input, groundTruth, metadata or externalId');
export type ItemUpdate = z.infer<typeof itemUpdateSchema>;

/** Items per batch request. */
export const MAX_BATCH_ITEMS = 10_000;

export const batchAddSchema = z.strictObject({
  items: z.array(itemInputSchema).min(1, 'items must not be empty').max(MAX_BATCH_ITEMS),
});
export const batchDeleteSchema = z.strictObject({
  itemIds: z.array(text().min(1)).min(1, 'itemIds must not be empty').max(MAX_BATCH_ITEMS),
});

export const itemsQuerySchema = pageQuerySchema.extend({
  version: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
  search: z.string().max(500).optional(),
});
export type ItemsQuery = z.output<typeof itemsQuerySchema>;
/** `GET /datasets/:id/items/:itemId?version=N`: the item as it was at that version. */
export const itemQuerySchema = itemsQuerySchema.pick({ version: true });

export const datasetItemSchema = z.object({
  id: z.string(),
  datasetId: z.string(),
  externalId: z.string().nullable(),
  input: z.unknown(),
  groundTruth: z.unknown(),
  metadata: record.nullable(),
  /** Version at which this revision of the item appeared. */
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type DatasetItem = z.infer<typeof datasetItemSchema>;

export const itemListSchema = z.object({
  /** Large `input`, `groundTruth` or `metadata` values are `$truncated` markers here (`getItem` has them whole). */
  items: z.array(datasetItemSchema),
  pagination: paginationSchema,
  /** The dataset version these items are valid at. */
  version: z.number().int(),
});
export type ItemList = z.infer<typeof itemListSchema>;

export const batchAddedSchema = z.object({
  count: z.number().int(),
  version: z.number().int(),
  items: z.array(datasetItemSchema),
});
export type BatchAdded = z.infer<typeof batchAddedSchema>;

export const itemDeletedSchema = z.object({ deleted: z.literal(true), id: z.string(), version: z.number().int() });
export type ItemDeleted = z.infer<typeof itemDeletedSchema>;

export const itemsDeletedSchema = z.object({ version: z.number().int(), count: z.number().int() });
export type ItemsDeleted = z.infer<typeof itemsDeletedSchema>;
