/**
 * The contract's plain values and helpers, with no zod: what a client needs at run time besides
 * `fetch`. Import as `@assay/contract/values` to keep zod out of a bundle (the SDK does).
 */
import type { RunStatus } from './runs.js';

export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];
export { DEFAULT_LIST_BOUNDS, hasTruncated, isTruncated, type ListBounds } from './truncated.js';
