import type { Context, MiddlewareHandler } from 'hono';
import { errorBody } from './http.js';

/**
 * `application/json`, optionally with a `charset` parameter (the body is read as UTF-8 either
 * way): `application/json; charset=utf-8`.
 */
export function isJsonContentType(value: string): boolean {
  const [type, ...params] = value.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  return params.every((p) => p.trim() === '' || /^charset=("?)[\w.:-]+\1$/i.test(p.trim()));
}

/** Whether the request carries a body of at least one byte (the body is read, within the body limit). */
async function hasBody(c: Context): Promise<boolean> {
  const length = c.req.header('content-length');
  if (length !== undefined && !c.req.header('transfer-encoding')) return Number(length) !== 0;
  if (c.req.raw.body === null) return false;
  return (await c.req.arrayBuffer()).byteLength > 0;
}

/**
 * Every API body is JSON: a request with a body of another (or no) content type is a 415
 * UNSUPPORTED_MEDIA_TYPE. Requests without a body (GET, DELETE, an empty POST such as cancel)
 * need no content type.
 */
export function jsonBodiesOnly(): MiddlewareHandler {
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const type = c.req.header('content-type');
    if (type !== undefined && isJsonContentType(type)) return next();
    if (!(await hasBody(c))) return next();
    return c.json(
      errorBody(
        'UNSUPPORTED_MEDIA_TYPE',
        type === undefined
          ? 'request body has no Content-Type; send it as JSON with Content-Type: application/json'
          : `request body is '${type.slice(0, 100)}'; send JSON with Content-Type: application/json`,
        { contentType: type ?? null },
      ),
      415,
    );
  };
}
