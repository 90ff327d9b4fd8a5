/**
 * The one error the SDK throws for a failed request: the server's `{ error: { code, message,
 * details? } }` with the HTTP status. A request that never got an answer (server down, DNS,
 * connection reset) has `status` 0 and code `NETWORK_ERROR`.
 *
 * @example
 * try { await client.getDataset('ds_nope') }
 * catch (e) { if (e instanceof AssayApiError && e.code === 'NOT_FOUND') … }
 */
export class AssayApiError extends Error {
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** Stable machine-readable code: `NOT_FOUND`, `VALIDATION_ERROR`, `CONFLICT`, `UNAUTHORIZED`, … */
  readonly code: string;
  /** Extra data from the server, e.g. `{ issues: [{ path, message }] }` for a validation error. */
  readonly details?: unknown;

  constructor(status: number, code: string, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AssayApiError';
    this.status = status;
    this.code = code;
    if (details !== undefined) this.details = details;
  }

  /** True when repeating the same request later can succeed: no answer, 408, 429 or 5xx. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }

  /** `instanceof` that also holds across two copies of this package (e.g. bundled twice). */
  static is(error: unknown): error is AssayApiError {
    return error instanceof AssayApiError || (error instanceof Error && error.name === 'AssayApiError');
  }
}

/** Builds the error for a non-2xx response, whether or not its body is Assay's error JSON. */
export async function errorFromResponse(res: Response): Promise<AssayApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (body?.error && typeof body.error.code === 'string' && typeof body.error.message === 'string') {
      return new AssayApiError(res.status, body.error.code, body.error.message, body.error.details);
    }
  } catch {
    // not JSON: a proxy's HTML page, say
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return new AssayApiError(
    res.status,
    `HTTP_${res.status}`,
    `HTTP ${res.status} ${res.statusText}${snippet ? `: ${snippet}` : ''}`.trim(),
  );
}
