import { AssayError, issuesOf } from '@assay/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/** The one error body of the API: `{ error: { code, message, details? } }`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function sendError(c: Context, err: unknown) {
  if (err instanceof AssayError) {
    return c.json(errorBody(err.code, err.message, err.details), err.status as ContentfulStatusCode);
  }
  console.error('[assay] unexpected error', err);
  return c.json(errorBody('INTERNAL', 'internal server error; the details are in the server log'), 500);
}

/** Parses a JSON body with a zod schema; malformed JSON and schema violations are 400s. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  const text = await c.req.text();
  if (text.trim() === '') {
    raw = {};
  } else {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new AssayError('INVALID_JSON', `request body is not valid JSON: ${(e as Error).message}`, 400);
    }
  }
  const depth = maxDepth(raw);
  if (depth > MAX_JSON_DEPTH) {
    throw new AssayError(
      'VALIDATION_ERROR',
      `request body is nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} allowed`,
      400,
    );
  }
  return parseWith(schema, raw, 'request body');
}

/** Deepest nesting a JSON body may have: deeper values would overflow recursive code downstream. */
export const MAX_JSON_DEPTH = 200;

/** Nesting depth of a parsed JSON value, computed without recursion. Stops counting past the limit. */
function maxDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > deepest) deepest = d + 1;
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return parseWith(schema, c.req.query(), 'query string');
}

function parseWith<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issues = issuesOf(r.error);
    const first = issues[0];
    throw new AssayError('VALIDATION_ERROR', `invalid ${where}: ${first.path} ${first.message}`, 400, { issues });
  }
  return r.data;
}
