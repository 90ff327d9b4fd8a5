/**
 * One error model end to end: every error a user can cause is an {@link AssayError} with a stable
 * `code`, an HTTP `status` and optional `details`. The server maps them to
 * `{ error: { code, message, details } }` in one place.
 */
export class AssayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: unknown;
  constructor(code: string, message: string, status = 400, details?: unknown) {
    super(message);
    this.name = 'AssayError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
  /** True for errors caused by the caller's input (4xx), false for our own faults. */
  isUserError(): boolean {
    return this.status < 500;
  }
}

export const validationError = (message: string, details?: unknown) =>
  new AssayError('VALIDATION_ERROR', message, 400, details);
export const notFound = (what: string, id: string) =>
  new AssayError('NOT_FOUND', `${what} '${id}' not found`, 404, { [what.toLowerCase()]: id });
export const conflict = (message: string, details?: unknown) => new AssayError('CONFLICT', message, 409, details);

/**
 * An error a target throws to say whether retrying can help. Anything else is classified by
 * {@link isRetryable}.
 *
 * @example throw new TargetError('quota exhausted', { retryable: false })
 */
export class TargetError extends Error {
  readonly retryable: boolean;
  readonly code: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    opts: { retryable?: boolean; code?: string; status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'TargetError';
    this.retryable = opts.retryable ?? false;
    this.code = opts.code ?? (this.retryable ? 'RETRYABLE' : 'TARGET_ERROR');
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Marks an error as permanent: the executor fails the item at once instead of retrying. */
export function nonRetryable(error: unknown): TargetError {
  const message = error instanceof Error ? error.message : String(error);
  return new TargetError(message, { retryable: false, cause: error });
}

export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
  constructor(ms: number) {
    super(`target did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

function field(error: unknown, key: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[key] : undefined;
}

/** HTTP status carried by an error (`status`, `statusCode` or `response.status`), if any. */
export function statusOf(error: unknown): number | undefined {
  const s = field(error, 'status') ?? field(error, 'statusCode') ?? field(field(error, 'response'), 'status');
  return typeof s === 'number' ? s : undefined;
}

/**
 * Retryable: network errors, timeouts, HTTP 429 and 5xx, or an explicit `retryable: true`.
 * Everything else (including `retryable: false`) fails the item at once.
 */
export function isRetryable(error: unknown): boolean {
  const explicit = field(error, 'retryable');
  if (typeof explicit === 'boolean') return explicit;
  if (error instanceof TimeoutError) return true;
  const status = statusOf(error);
  if (status !== undefined) return status === 429 || status === 408 || status >= 500;
  const code = field(error, 'code') ?? field(field(error, 'cause'), 'code');
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  // undici's fetch wraps network failures as TypeError('fetch failed')
  return error instanceof TypeError && error.message === 'fetch failed';
}

/** Milliseconds a `Retry-After` (seconds or HTTP date) asks us to wait, if the error carries one. */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  const direct = field(error, 'retryAfterMs');
  if (typeof direct === 'number' && direct >= 0) return direct;
  const headers = field(error, 'headers') ?? field(field(error, 'response'), 'headers');
  let raw: unknown;
  if (headers && typeof (headers as Headers).get === 'function') raw = (headers as Headers).get('retry-after');
  else raw = field(headers, 'retry-after') ?? field(error, 'retryAfter');
  if (typeof raw === 'number') return raw * 1000;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The `{ message, code, retryable }` we store for a failed item. */
export function serializeError(error: unknown): { message: string; code: string; retryable: boolean } {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  const code = field(error, 'code');
  const status = statusOf(error);
  return {
    message: (message || 'unknown error').replaceAll('\u0000', '\uFFFD'),
    code: typeof code === 'string' ? code : status ? `HTTP_${status}` : 'TARGET_ERROR',
    retryable: isRetryable(error),
  };
}
