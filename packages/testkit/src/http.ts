/**
 * A raw HTTP call, for the few tests that must send what the SDK never would: a malformed body, a
 * wrong content type, a bad or missing API key. Everything else goes through {@link Driver}.
 */
export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body parsed as JSON (`{ raw: text }` when it is not JSON, null when empty). */
  json: any;
}

/**
 * `method <base>/api<path>`. `body` is sent as JSON unless it is a string (sent as it is, e.g.
 * broken JSON); `content-type` defaults to `application/json`.
 *
 * @example
 * const r = await rawApi(server.base, 'POST', '/datasets', '{"name":', {});
 * expect(r.status).toBe(400);
 */
export async function rawApi(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const r = await fetch(`${base}/api${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text };
  }
  return { status: r.status, headers: r.headers, json };
}
