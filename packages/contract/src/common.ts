import { z } from 'zod';

/** Building blocks every resource's schemas share: text, JSON values, pages, the error envelope. */

export const record = z.record(z.string(), z.unknown());
/** Text stored in text columns: PostgreSQL cannot hold a NUL character, so none may enter. */
export const text = () => z.string().refine((v) => !v.includes('\u0000'), 'must not contain NUL characters');
export const jsonValue = z.unknown().refine((v) => v !== undefined, 'is required');
/** ISO-8601 timestamp as the API writes it. */
export const timestamp = z.string();

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * What a list response holds in place of a large stored value (see truncated.ts): its UTF-8 size
 * and the start of its JSON text.
 */
export const truncatedSchema = z.strictObject({
  $truncated: z.literal(true),
  bytes: z.number().int().min(0),
  preview: z.string(),
});
export type Truncated = z.infer<typeof truncatedSchema>;
/** A string field that a list page may have cut to a {@link Truncated} marker. */
export const cutText = z.union([z.string(), truncatedSchema]);

const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export { intParam };

export const pageQuerySchema = z.object({
  page: intParam(0, 1_000_000).default(0),
  perPage: intParam(1, 1000).default(50),
});
export type PageQuery = z.output<typeof pageQuerySchema>;

export const paginationSchema = z.object({
  total: z.number().int(),
  page: z.number().int(),
  perPage: z.number().int(),
  hasMore: z.boolean(),
});
export type Pagination = z.infer<typeof paginationSchema>;

export interface Page<T> {
  rows: T[];
  pagination: Pagination;
}

/** The one error body of the API: `{ error: { code, message, details? } }`. */
export const errorSchema = z.strictObject({
  error: z.strictObject({
    /** Stable machine-readable code: `NOT_FOUND`, `VALIDATION_ERROR`, `CONFLICT`, … */
    code: z.string().regex(/^[A-Z][A-Z0-9_]*$/),
    message: z.string().min(1),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorSchema>;

/** Turns zod issues into `details` a client can show next to the offending field. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
}
