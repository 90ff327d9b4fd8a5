import type { HttpTargetConfig, Target, TargetContext } from '../config.js';
import { retryAfterMs, TargetError } from '../errors.js';
import { declaredIdentity } from './cache-identity.js';
import { isJsonPointer, jsonPointer, renderJson, renderText, resolveEnv, scopeOf } from './template.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];
const USAGE_FIELDS = ['inputTokens', 'outputTokens', 'costUsd'] as const;
/** How much of an error response's body goes into the item's error message. */
const SNIPPET = 300;

/**
 * Builds a runnable target from an `http` declaration. Checks every field and resolves
 * `${env:NAME}` in header values now (start-up), so a typo fails the server's start, not a run.
 * Throws an Error naming the field.
 */
export function createHttpTarget(cfg: HttpTargetConfig, env: Record<string, string | undefined>): Target {
  let url: URL;
  try {
    url = new URL(cfg.url);
  } catch {
    throw new Error(`url ${JSON.stringify(cfg.url)} is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`url must be http: or https: (got ${url.protocol})`);
  const method = (cfg.method ?? 'POST').toUpperCase();
  if (!METHODS.includes(method)) throw new Error(`method must be one of ${METHODS.join(', ')} (got ${cfg.method})`);
  if (
    cfg.headers !== undefined &&
    (typeof cfg.headers !== 'object' || cfg.headers === null || Array.isArray(cfg.headers))
  )
    throw new Error('headers must be an object of header names to string values');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(cfg.headers ?? {})) {
    if (typeof value !== 'string') throw new Error(`headers['${name}'] must be a string`);
    headers[name.toLowerCase()] = resolveEnv(value, env, `headers['${name}']`);
  }
  if (cfg.output !== undefined && !isJsonPointer(cfg.output))
    throw new Error(
      `output must be a JSON Pointer such as '/answer' or '/choices/0/message/content' (got ${JSON.stringify(cfg.output)})`,
    );
  const usagePointers: [(typeof USAGE_FIELDS)[number], string][] = [];
  if (cfg.usage !== undefined) {
    if (typeof cfg.usage !== 'object' || cfg.usage === null)
      throw new Error('usage must be an object of JSON Pointers');
    for (const [field, pointer] of Object.entries(cfg.usage)) {
      if (!USAGE_FIELDS.includes(field as never))
        throw new Error(`usage.${field} is not one of ${USAGE_FIELDS.join(', ')}`);
      if (!isJsonPointer(pointer))
        throw new Error(`usage.${field} must be a JSON Pointer such as '/usage/prompt_tokens'`);
      usagePointers.push([field as (typeof USAGE_FIELDS)[number], pointer]);
    }
  }
  const timeoutMs = cfg.timeoutMs;
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0))
    throw new Error('timeoutMs must be a positive integer (milliseconds)');
  const sendsBody = method !== 'GET' && method !== 'HEAD';
  const textBody = typeof cfg.body === 'string';
  // The URL is fixed here, once: nothing of an item or an API call reaches it.
  const endpoint = url.href;
  // What errors and GET /api/targets show: no credentials or query string (they may hold keys).
  const shown = `${url.origin}${url.pathname}`;
  const label = `${method} ${shown}`;

  async function run(input: unknown, ctx: TargetContext): Promise<unknown> {
    const scope = scopeOf(input, ctx);
    const requestHeaders: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.8' };
    let body: string | undefined;
    if (sendsBody) {
      if (textBody) {
        body = renderText(cfg.body as string, scope);
        requestHeaders['content-type'] = 'text/plain; charset=utf-8';
      } else {
        body = JSON.stringify(cfg.body === undefined ? (input ?? null) : renderJson(cfg.body, scope));
        requestHeaders['content-type'] = 'application/json';
      }
    }
    Object.assign(requestHeaders, headers);
    const timeout = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
    const signal = timeout ? AbortSignal.any([ctx.signal, timeout]) : ctx.signal;
    let status: number;
    let text: string;
    let response: Response;
    try {
      response = await fetch(endpoint, { method, headers: requestHeaders, body, signal });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
      if (timeout?.aborted)
        throw new TargetError(`${label} did not answer within ${timeoutMs} ms`, { retryable: true, code: 'TIMEOUT' });
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const code = typeof cause?.code === 'string' ? cause.code : 'NETWORK_ERROR';
      const why =
        typeof cause?.message === 'string' ? cause.message : error instanceof Error ? error.message : String(error);
      throw new TargetError(`${label} failed: ${why}`, { retryable: true, code, cause: error });
    }
    if (status < 200 || status > 299) {
      // 408, 429 and 5xx may pass; any other status will not (a bad request stays bad).
      const retryable = status === 408 || status === 429 || status >= 500;
      const snippet = text.length > SNIPPET ? `${text.slice(0, SNIPPET)}…` : text;
      throw new TargetError(`${label} answered ${status}${snippet ? `: ${snippet}` : ''}`, {
        retryable,
        status,
        code: `HTTP_${status}`,
        retryAfterMs: retryAfterMs({ headers: response.headers }),
      });
    }
    const isJson = /\bjson\b/i.test(response.headers.get('content-type') ?? '');
    if (!isJson && cfg.output === undefined && usagePointers.length === 0) return text;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      const snippet = text.length > 100 ? `${text.slice(0, 100)}…` : text;
      throw new TargetError(
        `${label} answered ${status} with a body that is not valid JSON (${e instanceof Error ? e.message : e}): ${JSON.stringify(snippet)}`,
        { retryable: false, code: 'INVALID_RESPONSE' },
      );
    }
    const usage: Record<string, number> = {};
    for (const [field, pointer] of usagePointers) {
      const found = jsonPointer(doc, pointer);
      if (found.found && typeof found.value === 'number') usage[field] = found.value;
    }
    if (Object.keys(usage).length) ctx.reportUsage(usage);
    if (cfg.output === undefined) return doc;
    const found = jsonPointer(doc, cfg.output);
    if (!found.found)
      throw new TargetError(`${label}: the response has nothing at ${cfg.output} (missing from ${found.at})`, {
        retryable: false,
        code: 'OUTPUT_NOT_FOUND',
      });
    return found.value;
  }

  return {
    id: cfg.id,
    type: 'http',
    kind: 'http',
    description: cfg.description ?? `${label}`,
    details: {
      method,
      url: shown,
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(cfg.output !== undefined ? { output: cfg.output } : {}),
    },
    maxConcurrency: cfg.maxConcurrency,
    rateLimit: cfg.rateLimit,
    cache: cfg.cache,
    // What shapes the output: the request (never header values: they may hold credentials) and
    // what is taken from the response.
    cacheIdentity: declaredIdentity(
      'http',
      {
        url: endpoint,
        method,
        body: sendsBody ? (cfg.body ?? null) : null,
        headerNames: Object.keys(headers).sort(),
        output: cfg.output ?? null,
        usage: cfg.usage ?? null,
      },
      sendsBody ? [cfg.body] : [],
    ),
    run,
  };
}
