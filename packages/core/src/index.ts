export * from '@assay/contract';
export * from './analysis/index.js';
export { canonicalHash, canonicalJson, sha256 } from './canonical.js';
export * from './config.js';
export { configExport } from './config-export.js';
export {
  type AttemptProbe,
  type AttemptRequest,
  type AttemptResult,
  createInlineRunner,
  type ItemRunner,
  runAttempt,
  ScorerTimeoutError,
  scoreItem,
} from './engine/attempt.js';
export {
  ageCutoff,
  type CachePlan,
  cacheOverview,
  cachePlan,
  clearCacheEntries,
  identityOf,
  itemCacheKey,
  resolveCacheMode,
  summarizeWithCache,
} from './engine/cache.js';
export { CacheSizeLimit, type CacheSizeLimitOptions, cacheMaxBytesFrom } from './engine/cache-size.js';
export { type CompareOptions, compareRuns, DEFAULT_ALPHA, DEFAULT_COMPARE_LIMIT } from './engine/compare.js';
export { compareMany } from './engine/compare-many.js';
export { type ExecutorDeps, executeItem, executeRun } from './engine/executor.js';
export {
  FAIL_AFTER_LOST_CLAIMS,
  ISOLATE_AFTER_LOST_CLAIMS,
  IsolationGate,
} from './engine/isolation.js';
export { abortableSleep, createLocalLimiter, type TargetLimiter } from './engine/limits.js';
export {
  cachedModelCall,
  declareModelCall,
  type ModelCallParts,
  type ModelCallRecord,
  modelCallKey,
  type StoredModelCall,
} from './engine/model-calls.js';
export { createRegistry, type Registry } from './engine/registry.js';
export { type RunEventStreamOptions, type RunStreamItem, runEventStream } from './engine/run-events.js';
export {
  createRunJobHandlers,
  finalStatus,
  isDeadLocalWorker,
  newWorkerId,
  RUN_EXEC_JOB,
  RUN_JOB,
  RUN_JOB_MAX_ATTEMPTS,
  type RunExecPayload,
  type RunJobDeps,
  type RunJobPayload,
  slotConcurrency,
} from './engine/run-job.js';
export { createRunService, type RunService, type RunServiceDeps } from './engine/run-service.js';
export { Semaphore } from './engine/semaphore.js';
export { createSweeper, type SweeperDeps } from './engine/sweeper.js';
export { versionOf } from './engine/versions.js';
export { OutcomeWriter, type WriterOptions } from './engine/writer.js';
export * from './errors.js';
export { createMemoryEventBus } from './events.js';
export * from './health.js';
export { newId } from './ids.js';
export { importOptional, isMissingPackage, MissingPackageError } from './optional.js';
export * from './ports.js';
export { redactUrl } from './redact.js';
export { createThreadRunner, type ThreadRunnerOptions } from './sandbox/thread-runner.js';
export * from './schemas.js';
export { type BuiltIn, builtInScorers, builtIns, contains, createBuiltInScorer, exactMatch } from './scorers/index.js';
export * from './stats/index.js';
export { createHttpTarget } from './targets/http.js';
export { createModelTarget, modelName, priceFor } from './targets/model.js';
export { jsonPointer, renderJson, renderText } from './targets/template.js';
export * from './types.js';
