/**
 * The API contract: zod schemas of every route's params, query, body and response, the error
 * envelope, and the route table. Depends on zod only, so the server, the SDK, the UI and the
 * OpenAPI document all derive from this one source.
 */
export * from './cache.js';
export * from './common.js';
export * from './compare.js';
export * from './datasets.js';
export * from './events.js';
export * from './items.js';
export * from './meta.js';
export * from './openapi.js';
export * from './results.js';
export * from './routes.js';
export * from './runs.js';
export * from './truncated.js';
export { FINAL_RUN_STATUSES } from './values.js';
