import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './http.js';

/** Shortest API key a server starts with: a short key can be guessed over the network. */
export const MIN_API_KEY_LENGTH = 16;

/**
 * The API key a server should use, from `ASSAY_API_KEY`: trimmed, `undefined` when unset, empty or
 * only whitespace. Throws when it is shorter than {@link MIN_API_KEY_LENGTH}.
 */
export function apiKeyFrom(value: string | undefined): string | undefined {
  const key = value?.trim() ?? '';
  if (key === '') return undefined;
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new Error(
      `ASSAY_API_KEY is ${key.length} characters long; use at least ${MIN_API_KEY_LENGTH} (a short key can be guessed): for example openssl rand -hex 24`,
    );
  }
  return key;
}

/**
 * Every request needs `Authorization: Bearer <apiKey>` (the scheme in any case, RFC 9110), compared
 * in constant time; `except` paths stay open.
 */
export function bearerAuth(apiKey: string, except: readonly string[] = []): MiddlewareHandler {
  const expected = Buffer.from(apiKey);
  return async (c, next) => {
    if (except.includes(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    const got = Buffer.from(space < 0 ? '' : header.slice(space + 1));
    const ok = scheme.toLowerCase() === 'bearer' && got.length === expected.length && timingSafeEqual(got, expected);
    if (!ok) {
      return c.json(
        errorBody('UNAUTHORIZED', 'missing or wrong API key: send Authorization: Bearer <ASSAY_API_KEY>'),
        401,
      );
    }
    return next();
  };
}
