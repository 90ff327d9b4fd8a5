import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { errorBody } from './http.js';

/**
 * Where requests may come from. A browser page on another origin must not drive the API with the
 * user's network position (a local server, a VPN), and a DNS name rebound to 127.0.0.1 must not
 * reach a loopback-only server:
 *
 * - `Origin` must be the server's own (`http(s)://<Host>`, the web UI) or one of `allowedOrigins`;
 *   requests without `Origin` (curl, the SDK in Node) pass, unless `Sec-Fetch-Site: cross-site`
 *   says a browser sent them from another site.
 * - On a loopback bind, `Host` must be a loopback name or address (or the host of an allowed origin).
 */

export interface GuardOptions {
  /** Origins (`scheme://host[:port]`) whose pages may call the API; answered with CORS headers. */
  allowedOrigins?: readonly string[];
  /** The server listens on loopback only: refuse any `Host` that is not a loopback name or address. */
  loopbackOnly?: boolean;
}

/** Headers a cross-origin page may send, and response headers it may read. */
const ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'accept', 'last-event-id'];
const EXPOSE_HEADERS = ['content-type', 'retry-after'];
const METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'];

/**
 * `scheme://host[:port]` in canonical form (lowercase, no default port), or null when `value` is
 * not an http(s) origin (a path, a query, credentials, `null`, garbage).
 */
export function canonicalOrigin(value: string): string | null {
  const v = value.trim();
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(v)) return null;
  try {
    const u = new URL(v);
    return u.origin === 'null' ? null : u.origin;
  } catch {
    return null;
  }
}

/**
 * Parses `ASSAY_ALLOWED_ORIGINS` (comma-separated origins). Throws on an entry that is not an
 * origin, so a typo is found at start rather than as a mysterious 403 later.
 */
export function parseAllowedOrigins(value: string | undefined): string[] {
  const out: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    if (raw.trim() === '') continue;
    const origin = canonicalOrigin(raw);
    if (!origin) {
      throw new Error(
        `ASSAY_ALLOWED_ORIGINS: '${raw.trim()}' is not an origin; give scheme://host[:port] (for example https://assay.example.com), comma-separated`,
      );
    }
    if (!out.includes(origin)) out.push(origin);
  }
  return out;
}

/** A loopback bind address (what `--host` may be for a server without an API key). */
export function isLoopbackAddress(host: string): boolean {
  return isLoopbackHostname(host.replace(/^\[(.*)\]$/, '$1'));
}

function isLoopbackHostname(name: string): boolean {
  const h = name.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4[1] === '127' && v4.slice(2).every((n) => Number(n) <= 255);
}

/** The host name of a `Host` header value (`name[:port]` or `[v6][:port]`), or null when malformed. */
function hostnameOf(host: string): string | null {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/i.exec(host.trim());
  if (!m) return null;
  return m[1] ?? m[2];
}

/** `Host` header value as `URL.host` writes it (lowercase, no default port) for a scheme. */
function canonicalHost(host: string, scheme: 'http:' | 'https:'): string | null {
  try {
    const u = new URL(`${scheme}//${host.trim()}`);
    return u.pathname === '/' && !u.username && !u.password && !u.search ? u.host : null;
  } catch {
    return null;
  }
}

/** The request's `Host`; in-process requests (`app.request('/api/…')`) have none, so their URL's. */
function hostOf(c: Context): string {
  return c.req.header('host') ?? new URL(c.req.url).host;
}

/** Origin is the page the server itself serves: same host and port as the request was sent to. */
function isSameOrigin(origin: string, host: string): boolean {
  const u = new URL(origin);
  return canonicalHost(host, u.protocol as 'http:' | 'https:') === u.host;
}

function forbidden(c: Context, code: string, message: string) {
  return c.json(errorBody(code, message), 403);
}

/**
 * Refuses a `Host` that is not loopback on a loopback-only server (DNS rebinding: a page on
 * evil.example whose name now resolves to 127.0.0.1 sends `Host: evil.example`).
 */
export function hostGuard(opts: GuardOptions): MiddlewareHandler {
  const extraHosts = new Set((opts.allowedOrigins ?? []).map((o) => new URL(o).host));
  return async (c, next) => {
    const host = hostOf(c);
    const name = hostnameOf(host);
    if (name !== null && isLoopbackHostname(name)) return next();
    if (extraHosts.has(canonicalHost(host, 'http:') ?? '') || extraHosts.has(canonicalHost(host, 'https:') ?? '')) {
      return next();
    }
    return forbidden(
      c,
      'FORBIDDEN_HOST',
      `this server listens on loopback only and answers requests for localhost or 127.0.0.1, not for Host '${host.slice(0, 200)}' (a DNS rebinding attempt?); list the origin in ASSAY_ALLOWED_ORIGINS if it is yours`,
    );
  };
}

/**
 * Refuses browser requests from other origins (403 FORBIDDEN_ORIGIN) unless allowed, and answers
 * CORS (preflight included) for the allowed ones.
 */
export function originGuard(opts: GuardOptions): MiddlewareHandler {
  const allowed = new Set(opts.allowedOrigins ?? []);
  const corsHeaders = cors({
    origin: (origin) => (origin && allowed.has(canonicalOrigin(origin) ?? '') ? origin : null),
    allowMethods: METHODS,
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined) {
      const canonical = canonicalOrigin(origin);
      if (canonical !== null && allowed.has(canonical)) return corsHeaders(c, next);
      if (canonical !== null && isSameOrigin(canonical, hostOf(c))) return next();
      return forbidden(
        c,
        'FORBIDDEN_ORIGIN',
        `requests from origin '${origin.slice(0, 200)}' are not allowed; add it to ASSAY_ALLOWED_ORIGINS to let its pages call this API`,
      );
    }
    if (c.req.header('sec-fetch-site')?.toLowerCase() === 'cross-site') {
      return forbidden(
        c,
        'FORBIDDEN_ORIGIN',
        'cross-site browser requests are not allowed; add the calling origin to ASSAY_ALLOWED_ORIGINS',
      );
    }
    return next();
  };
}
