/**
 * Input schemas, parsed once at the boundary (HTTP, config); inside, types are trusted. They live
 * in the API contract (contract/); this module keeps the names core has always exported.
 */
export {
  batchAddSchema,
  batchDeleteSchema,
  type CompareRunsInput,
  type CreateDatasetInput,
  compareRunsSchema,
  createDatasetSchema,
  type ItemInput,
  type ItemUpdate,
  issuesOf,
  itemInputSchema,
  itemQuerySchema,
  itemsQuerySchema,
  itemUpdateSchema,
  MAX_BATCH_ITEMS,
  pageQuerySchema,
  RUN_DEFAULTS,
  resultKeySchema,
  resultsQuerySchema,
  scoreStatsQuerySchema,
  type TriggerRunInput,
  triggerRunSchema,
  type UpdateDatasetInput,
  updateDatasetSchema,
} from '@assay/contract';
