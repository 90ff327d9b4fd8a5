import { AssayApiError, AssayClient, FINAL_RUN_STATUSES, isTruncated } from '@assay/client';

const KEY_STORAGE = 'assay.apiKey';

export function apiKey(): string | undefined {
  try {
    return localStorage.getItem(KEY_STORAGE) || undefined;
  } catch {
    return undefined;
  }
}

export function setApiKey(key: string) {
  localStorage.setItem(KEY_STORAGE, key);
  client = makeClient();
}

function makeClient() {
  return new AssayClient({ url: window.location.origin, apiKey: apiKey(), retries: 1 });
}

/** The typed SDK, pointed at the server that serves this page. */
export let client = makeClient();

/** Message of any error, as the UI shows it (an API error carries the server's own message). */
export function messageOf(e: unknown): string {
  if (AssayApiError.is(e)) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
export function codeOf(e: unknown): string | undefined {
  return AssayApiError.is(e) ? e.code : undefined;
}
export function detailsOf(e: unknown): unknown {
  return AssayApiError.is(e) ? e.details : undefined;
}

export const FINAL = new Set<string>(FINAL_RUN_STATUSES);

export const fmt = {
  num: (n: number | null | undefined, digits = 3) =>
    n === null || n === undefined || Number.isNaN(n) ? '—' : Number(n.toFixed(digits)).toString(),
  pct: (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${(n * 100).toFixed(1)}%`),
  date: (s: string | null | undefined) => (s ? new Date(s).toLocaleString() : '—'),
  ms: (n: number | null | undefined) =>
    n === null || n === undefined ? '—' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`,
  json: (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)),
  /** A string field that a list may have cut to a marker (an error message, a reason). */
  text: (v: unknown): string | null =>
    isTruncated(v) ? `${v.preview}… (${v.bytes.toLocaleString()} bytes)` : (v as string | null),
  pretty: (v: unknown) => (v === undefined ? '' : JSON.stringify(v, null, 2)),
  short: (v: unknown, n = 80) => {
    // A value a list cut to a marker shows the start of its text.
    const s =
      v === null || v === undefined ? '' : isTruncated(v) ? v.preview : typeof v === 'string' ? v : JSON.stringify(v);
    return s.length > n ? `${s.slice(0, n)}…` : s;
  },
};
