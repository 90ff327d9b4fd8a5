import { expect } from 'vitest';
import { checkResponse } from './contract-check.js';

/** Anything with Hono's in-process `request` (the app of `createAssay` or of `createApp`). */
export interface RequestableApp {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

export interface ApiResponse {
  status: number;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: any;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  /** Sent as the body verbatim (malformed JSON, garbage). */
  raw?: string;
  headers?: Record<string, string>;
  app?: RequestableApp;
}

/**
 * A client over one app; paths are relative to `/api` unless they start with `/api` or `//`. Each
 * JSON answer is checked against its schema in the contract (contract-check.ts).
 */
export function apiClient(defaultApp: () => RequestableApp) {
  return async function req(
    method: string,
    path: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<ApiResponse> {
    const app = opts.app ?? defaultApp();
    const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...opts.headers } };
    if (opts.raw !== undefined) init.body = opts.raw;
    else if (body !== undefined) init.body = JSON.stringify(body);
    const url = path.startsWith('/api') || path.startsWith('//') ? path.replace(/^\/\//, '/') : `/api${path}`;
    const res = await app.request(url, init);
    const text = await res.text();
    let parsed: any;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    // Every answer a test gets is checked against the contract's schema for it.
    if (typeof parsed === 'object' && parsed !== null) checkResponse(method, url, res.status, parsed);
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
}

/** The one error body of the API: `{ error: { code, message, details? } }` and nothing else. */
export function expectErrorShape(res: ApiResponse) {
  const ctx = `${res.status} ${res.text.slice(0, 500)}`;
  expect(res.body, ctx).toBeTypeOf('object');
  expect(res.body, ctx).not.toBeNull();
  expect(Object.keys(res.body), ctx).toEqual(['error']);
  const e = res.body.error;
  expect(e, ctx).toBeTypeOf('object');
  expect(typeof e.code, ctx).toBe('string');
  expect(e.code, ctx).toMatch(/^[A-Z][A-Z0-9_]*$/);
  expect(typeof e.message, ctx).toBe('string');
  expect(e.message.length, ctx).toBeGreaterThan(0);
  for (const k of Object.keys(e)) expect(['code', 'message', 'details'], ctx).toContain(k);
}

export function expectError(res: ApiResponse, status: number, code?: string) {
  expect(res.status, `${res.status} ${res.text.slice(0, 500)}`).toBe(status);
  expectErrorShape(res);
  if (code) expect(res.body.error.code, res.text.slice(0, 500)).toBe(code);
}

/** Any answer but a server fault: < 500, JSON, and the error shape on a 4xx. */
export function expectNoServerError(res: ApiResponse, what: string) {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
  if (res.status >= 400) expectErrorShape(res);
  else if (res.text !== '') expect(typeof res.body, `${what}: body is not JSON`).not.toBe('string');
}

/** Polls `fn` until `pred` holds. The deadline only prevents a hang; it is not an assertion on speed. */
export async function waitFor<T>(fn: () => Promise<T>, pred: (v: T) => boolean, deadlineMs = 25_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`condition never met; last value ${JSON.stringify(v)?.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

export function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A small seeded PRNG (mulberry32), so a failing garbage case can be replayed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  return { next, int, pick };
}

/** JSON texts of awkward values: every JSON type, huge and tiny numbers, numbers as strings. */
export const GARBAGE_SCALARS = [
  'null',
  'true',
  'false',
  '0',
  '-1',
  '-0',
  '1.5',
  '1e308',
  '-1e308',
  '1e309',
  '-1e400',
  '1e-320',
  '18446744073709551616',
  '9007199254740993',
  '123456789012345678901234567890',
  '""',
  '" "',
  '"5"',
  '"-1"',
  '"1e3"',
  '"NaN"',
  '"Infinity"',
  '"true"',
  '"null"',
  '"\\u0000"',
  '"\\ud800"',
  '"%ZZ"',
  '"<script>"',
  '"\'; drop table datasets; --"',
  `"${'x'.repeat(20_000)}"`,
  '[]',
  '{}',
  '[null]',
  '[""]',
  '[1,2,3]',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
];

/** A random JSON text, shallow (a few levels at most). */
export function garbageJson(r: ReturnType<typeof prng>, depth = 0): string {
  const roll = r.int(10);
  if (depth >= 3 || roll < 6) return r.pick(GARBAGE_SCALARS);
  if (roll < 8) {
    return `[${Array.from({ length: r.int(4) }, () => garbageJson(r, depth + 1)).join(',')}]`;
  }
  const keys = ['name', 'input', 'items', 'itemIds', 'targetId', 'page', 'x', '__proto__', ''];
  const fields = Array.from({ length: r.int(4) }, () => `${JSON.stringify(r.pick(keys))}:${garbageJson(r, depth + 1)}`);
  return `{${fields.join(',')}}`;
}
