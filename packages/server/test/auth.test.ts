/** The API key: the `Authorization` scheme in any case, and the length rule for `ASSAY_API_KEY`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Assay, createAssay } from '@assay/runtime';
import { apiKeyFrom, createApp, MIN_API_KEY_LENGTH } from '@assay/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, expectError } from './api-helpers.js';

let assay: Assay;
let dataDir: string;
const KEY = 'a-key-of-24-characters!!';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'assay-auth-'));
  assay = await createAssay({ config: { targets: [], scorers: [] }, dataDir, worker: false });
});
afterAll(async () => {
  await assay?.close(2_000);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Authorization: Bearer', () => {
  it('accepts the scheme in any case (RFC 9110), and nothing but the exact key', async () => {
    const app = createApp({
      storage: assay.storage,
      registry: assay.registry,
      runs: assay.runs,
      events: assay.events,
      apiKey: KEY,
    });
    const call = apiClient(() => app);
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const r = await call('GET', '/datasets', undefined, { headers: { authorization: `${scheme} ${KEY}` } });
      expect(r.status, scheme).toBe(200);
    }
    const wrong = [
      `Basic ${KEY}`,
      `Bearer ${KEY.toUpperCase()}`,
      `Bearer ${KEY.slice(1)}`,
      `Bearer ${KEY}x`,
      `Bearer  ${KEY}`,
      `Bearer${KEY}`,
      `Bearer: ${KEY}`,
      KEY,
      'Bearer',
      '',
    ];
    for (const authorization of wrong) {
      expectError(await call('GET', '/datasets', undefined, { headers: { authorization } }), 401, 'UNAUTHORIZED');
    }
  });
});

describe('ASSAY_API_KEY rule (apiKeyFrom)', () => {
  it('unset, empty or only whitespace is no key', () => {
    for (const v of [undefined, '', '   ', '\n\t ']) expect(apiKeyFrom(v)).toBeUndefined();
  });

  it(`refuses a key shorter than ${MIN_API_KEY_LENGTH} characters after trimming, saying why`, () => {
    expect(MIN_API_KEY_LENGTH).toBe(16);
    for (const v of ['k', 'sekret', 'x'.repeat(15), `  ${'x'.repeat(15)}  `]) {
      expect(() => apiKeyFrom(v), v).toThrow(/ASSAY_API_KEY is 1?\d characters long; use at least 16/);
    }
  });

  it('accepts 16 characters or more, trimmed', () => {
    expect(apiKeyFrom('x'.repeat(16))).toBe('x'.repeat(16));
    expect(apiKeyFrom(` ${KEY}\n`)).toBe(KEY);
  });
});
