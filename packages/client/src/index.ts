/**
 * `@assay/client`: the typed SDK of the Assay HTTP API. Request and response types are the types of
 * the API contract's schemas (`@assay/contract`), which the server validates with; it needs only `fetch`, so it runs in Node 20+ and browsers.
 */

/** Markers of values a list response cut (`{ $truncated, bytes, preview }`): see `getItem` / `getRunResult`. */
export { FINAL_RUN_STATUSES, hasTruncated, isTruncated } from '@assay/contract/values';
export {
  AssayClient,
  type AssayClientOptions,
  type FetchLike,
  type RequestOptions,
  type TriggerOptions,
  type WaitForRunOptions,
} from './client.js';
export { comparisonView, type ItemChange, type RunComparison } from './comparison-view.js';
export { AssayApiError } from './errors.js';
export type { ReconnectOptions, StreamRunOptions } from './stream.js';
export * from './types.js';
