import { AssayError, type ErrorBody, issuesOf, type Logger, silentLogger } from '@assay/core';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/** The one error body of the API: `{ error: { code, message, details? } }` (the contract's `errorSchema`). */
export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** The error's response; what is not the client's fault goes to `log` (the client sees no details). */
export function sendError(c: Context, err: unknown, log: Logger = silentLogger) {
  if (err instanceof AssayError) {
    return c.json(errorBody(err.code, err.message, err.details), err.status as ContentfulStatusCode);
  }
  if (clientWentAway(c, err)) {
    // Not a server fault and nobody is left to read an answer: one line, no stack.
    log.warn(
      { method: c.req.method, path: c.req.path },
      'the client closed the connection before sending the whole request body',
    );
    return c.json(errorBody('REQUEST_ABORTED', 'the client closed the connection before the request body ended'), 400);
  }
  log.error({ err, method: c.req.method, path: c.req.path }, 'unexpected error');
  return c.json(errorBody('INTERNAL', 'internal server error; the details are in the server log'), 500);
}

/**
 * The error is the client hanging up mid-request: Node's `aborted` (ECONNRESET) from the request
 * stream while the body was read, or any error once the request's signal says the client is gone.
 */
function clientWentAway(c: Context, err: unknown): boolean {
  if (c.req.raw.signal?.aborted) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  return e !== null && typeof e === 'object' && e.code === 'ECONNRESET' && e.message === 'aborted';
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
  checkJsonShape(raw);
  return parseWith(schema, raw, 'request body');
}

/** Deepest nesting a JSON body may have: deeper values would overflow recursive code downstream. */
export const MAX_JSON_DEPTH = 200;

/**
 * Keys no body may hold at any depth: `__proto__` changes an object's prototype when copied by
 * assignment (and is dropped or misread by parsers), `constructor` / `prototype` are the other
 * ways to reach prototypes from data.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A path to a value, built only when it has to be reported: one small node per container. */
interface Crumb {
  key: string | number;
  up: Crumb | null;
}
const pathOf = (at: Crumb | null): string => {
  const parts: (string | number)[] = [];
  for (let c = at; c; c = c.up) parts.push(c.key);
  return parts.reverse().join('.');
};

/**
 * Refuses bodies nested deeper than {@link MAX_JSON_DEPTH} and bodies with a forbidden key,
 * naming the key and where it is. One iterative pass over the parsed value (no recursion, so any
 * nesting is safe), linear in its size, stopping at the first problem.
 */
function checkJsonShape(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  const stack: [object, number, Crumb | null][] = [[value, 1, null]];
  while (stack.length) {
    const [v, depth, at] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) {
      throw new AssayError(
        'VALIDATION_ERROR',
        `request body is nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} allowed`,
        400,
      );
    }
    const keys: (string | number)[] = Array.isArray(v) ? [] : Object.keys(v);
    const children: unknown[] = Array.isArray(v) ? v : keys.map((k) => (v as Record<string, unknown>)[k]);
    for (let i = children.length - 1; i >= 0; i--) {
      const key = Array.isArray(v) ? i : keys[i];
      if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
        const path = pathOf({ key, up: at });
        const message = `key '${key}' is not allowed (at ${path}); rename it: __proto__, constructor and prototype are refused at any depth`;
        throw new AssayError('VALIDATION_ERROR', `invalid request body: ${message}`, 400, {
          key,
          issues: [{ path, message }],
        });
      }
      const child = children[i];
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1, { key, up: at }]);
    }
  }
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
