/**
 * Bounded list responses. A list route (items, results, runs, datasets) never carries a stored
 * value in full when it is large: such a field is replaced by a {@link Truncated} marker holding its
 * size and the start of its text, and the single-resource route returns it whole. Browser-safe.
 */
import type { Truncated } from './common.js';

/** True for a {@link Truncated} marker. */
export function isTruncated(value: unknown): value is Truncated {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { $truncated?: unknown }).$truncated === true &&
    typeof (value as { bytes?: unknown }).bytes === 'number' &&
    typeof (value as { preview?: unknown }).preview === 'string'
  );
}

/**
 * True when a listed item or result has any truncated field (also inside `error` and `scores`), so
 * the single-resource route has to be read for its full values.
 */
export function hasTruncated(row: object): boolean {
  const r = row as Record<string, unknown>;
  for (const v of Object.values(r)) if (isTruncated(v)) return true;
  const error = r.error as { message?: unknown } | null | undefined;
  if (error && typeof error === 'object' && isTruncated(error.message)) return true;
  const scores = r.scores as { reason?: unknown; error?: unknown }[] | undefined;
  return Array.isArray(scores) && scores.some((s) => isTruncated(s.reason) || isTruncated(s.error));
}

/** How much stored data one list page may carry. */
export interface ListBounds {
  /**
   * Bytes of stored values (UTF-8 JSON text) one page carries at most, over all its rows and
   * fields: the largest fields of a page become markers until the rest fits.
   */
  budgetBytes: number;
  /** A field larger than this (bytes) is always a marker, whatever the page holds. */
  maxFieldBytes: number;
  /** Characters of a replaced value's text kept as its `preview`. */
  previewChars: number;
}

/** Default list bounds: 8 MiB of values per page, 1 MiB per field, 1,000-character previews. */
export const DEFAULT_LIST_BOUNDS: ListBounds = {
  budgetBytes: 8 * 1024 * 1024,
  maxFieldBytes: 1024 * 1024,
  previewChars: 1000,
};
