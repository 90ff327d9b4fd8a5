import { describe, expect, it } from 'vitest';
import {
  builtInScorers,
  builtIns,
  createBuiltInScorer,
  createRegistry,
  type ScoreArgs,
  type ScoreValue,
} from '../src/index.js';

const signal = new AbortController().signal;
const args = (output: unknown, groundTruth: unknown, extra: Partial<ScoreArgs> = {}): ScoreArgs => ({
  input: { question: 'q' },
  output,
  groundTruth,
  metadata: null,
  latencyMs: 10,
  usage: null,
  signal,
  ...extra,
});
/** Runs a built-in with options on one output; returns { score, reason }. */
async function score(
  use: string,
  options: Record<string, unknown> | undefined,
  output: unknown,
  gt?: unknown,
  extra?: Partial<ScoreArgs>,
) {
  const s = createBuiltInScorer({ id: `t-${use}`, use, options });
  const v: ScoreValue = await s.score(args(output, gt, extra));
  return typeof v === 'number' ? { score: v, reason: null } : { score: v.score, reason: v.reason ?? null };
}
const s = async (...a: Parameters<typeof score>) => (await score(...a)).score;

describe('built-in scorers registered by default', () => {
  it('are the ones that need no options, under their own names', () => {
    expect(builtInScorers.map((b) => b.id).sort()).toEqual([
      'contains',
      'contains-all',
      'exact-match',
      'json-valid',
      'levenshtein',
      'numeric-close',
      'regex',
    ]);
    expect([...builtIns.keys()]).toEqual(expect.arrayContaining(['json-schema', 'latency-under', 'llm-judge']));
    for (const b of builtIns.values()) expect(b.description.length).toBeGreaterThan(10);
  });
});

describe('exact-match', () => {
  it('keeps its default: deep equality, case- and whitespace-sensitive', async () => {
    expect(await s('exact-match', undefined, 'Paris', 'Paris')).toBe(1);
    expect(await s('exact-match', undefined, 'paris', 'Paris')).toBe(0);
    expect(await s('exact-match', undefined, ' Paris ', 'Paris')).toBe(0);
    expect(await s('exact-match', undefined, { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(1);
    expect(await s('exact-match', undefined, { a: 1 }, { a: 2 })).toBe(0);
    expect(await s('exact-match', undefined, 4, '4')).toBe(0);
    expect(await score('exact-match', undefined, 'x', null)).toEqual({ score: 0, reason: 'item has no ground truth' });
    // the registered default is the same scorer
    const reg = createRegistry();
    expect(await reg.scorers.get('exact-match')!.score(args('Paris', 'Paris'))).toBe(1);
  });
  it('trim and ignoreCase', async () => {
    expect(await s('exact-match', { trim: true }, '  Paris\n', 'Paris')).toBe(1);
    expect(await s('exact-match', { trim: true }, 'paris', 'Paris')).toBe(0);
    expect(await s('exact-match', { ignoreCase: true }, 'PARIS', 'paris')).toBe(1);
    expect(await s('exact-match', { ignoreCase: true }, ' PARIS', 'paris')).toBe(0);
    const r = await score('exact-match', { trim: true, ignoreCase: true }, ' Lyon ', 'paris');
    expect(r).toEqual({ score: 0, reason: 'expected "paris", got " Lyon "' });
    expect(await s('exact-match', { trim: true, ignoreCase: true }, ' PaRiS ', 'paris')).toBe(1);
  });
});

describe('contains and contains-all', () => {
  it('contains: share of expected strings, case-insensitive by default', async () => {
    expect(await score('contains', undefined, 'The capital is PARIS.', 'paris')).toEqual({
      score: 1,
      reason: '1/1 expected strings found',
    });
    expect(await s('contains', undefined, 'red and blue', ['red', 'green', 'blue', 'white'])).toBe(0.5);
    expect(await s('contains', { ignoreCase: false }, 'The capital is PARIS.', 'Paris')).toBe(0);
    expect(await s('contains', { values: ['ok'] }, 'it is OK', null)).toBe(1);
    expect(await s('contains', undefined, { answer: 42 }, '42')).toBe(1); // objects as JSON text
    expect((await score('contains', undefined, 'x', undefined)).reason).toBe('item has no ground truth');
  });
  it('contains-all: 1 only when every string is there, naming the missing ones', async () => {
    expect(await score('contains-all', undefined, 'red, green and blue', ['Red', 'blue'])).toEqual({
      score: 1,
      reason: 'all 2 found',
    });
    expect(await score('contains-all', undefined, 'red and blue', ['red', 'green', 'white'])).toEqual({
      score: 0,
      reason: 'missing "green", "white"',
    });
    expect(await s('contains-all', { ignoreCase: false }, 'Red', ['red'])).toBe(0);
    expect(await s('contains-all', { values: ['a', 'b'] }, 'ab', 'ignored')).toBe(1);
  });
});

describe('regex', () => {
  it('matches options.pattern with flags', async () => {
    expect(await s('regex', { pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, '2024-02-29')).toBe(1);
    expect(await s('regex', { pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, 'Feb 29')).toBe(0);
    expect(await s('regex', { pattern: 'paris', flags: 'i' }, 'PARIS')).toBe(1);
    // g is ignored: the same scorer gives the same answer twice
    const sc = createBuiltInScorer({ id: 'g', use: 'regex', options: { pattern: 'a', flags: 'g' } });
    expect(await sc.score(args('a', null))).toMatchObject({ score: 1 });
    expect(await sc.score(args('a', null))).toMatchObject({ score: 1 });
  });
  it('without a pattern uses the ground truth; an invalid one is a score error', async () => {
    expect(await s('regex', undefined, 'order #123', '#\\d+')).toBe(1);
    expect(await s('regex', undefined, 'order #abc', '#\\d+')).toBe(0);
    expect((await score('regex', undefined, 'x', 5)).reason).toMatch(/no ground-truth pattern/);
    await expect(score('regex', undefined, 'x', '(')).rejects.toThrow(/Invalid regular expression/);
  });
  it('invert: 1 when the text does not match (instead of a ^(?!…) lookahead, which RE2 refuses)', async () => {
    const refusal = { pattern: "\\b(don't know|not sure)\\b", flags: 'i', invert: true };
    expect(await s('regex', refusal, 'Paris')).toBe(1);
    expect(await s('regex', refusal, "I DON'T KNOW")).toBe(0);
    expect(() =>
      createBuiltInScorer({ id: 'la', use: 'regex', options: { pattern: "^(?![\\s\\S]*don't know)" } }),
    ).toThrow(/invert: true/);
  });
});

describe('json-valid and json-schema', () => {
  it('json-valid parses text outputs; structured outputs count', async () => {
    expect(await score('json-valid', undefined, '{"a": [1, 2]}')).toEqual({ score: 1, reason: 'valid JSON object' });
    expect(await s('json-valid', undefined, '{"a": 1,}')).toBe(0);
    expect((await score('json-valid', undefined, 'hello')).reason).toMatch(/^not JSON/);
    expect(await s('json-valid', undefined, { a: 1 })).toBe(1);
    expect(await s('json-valid', undefined, '42')).toBe(1);
    expect(await score('json-valid', { type: 'object' }, '[1]')).toEqual({
      score: 0,
      reason: 'JSON array, expected object',
    });
    expect(await s('json-valid', { type: 'array' }, '[1]')).toBe(1);
  });
  it('json-schema validates with ajv, formats included, and reports the violations', async () => {
    const schema = {
      type: 'object',
      required: ['name', 'email'],
      properties: {
        name: { type: 'string' },
        email: { type: 'string', format: 'email' },
        age: { type: 'integer', minimum: 0 },
      },
      additionalProperties: false,
    };
    expect(await s('json-schema', { schema }, '{"name":"Ada","email":"ada@example.com","age":36}')).toBe(1);
    expect(await s('json-schema', { schema }, { name: 'Ada', email: 'ada@example.com' })).toBe(1);
    const bad = await score('json-schema', { schema }, '{"name":"Ada","email":"not-an-email","age":-1}');
    expect(bad.score).toBe(0);
    expect(bad.reason).toContain('/email must match format "email"');
    expect(bad.reason).toContain('/age must be >= 0');
    expect((await score('json-schema', { schema }, '{"name":"Ada"}')).reason).toContain(
      "must have required property 'email'",
    );
    expect((await score('json-schema', { schema }, 'not json')).reason).toMatch(/^not JSON/);
  });
});

describe('levenshtein', () => {
  it('normalized similarity 1 − distance / longer length', async () => {
    expect(await score('levenshtein', undefined, 'kitten', 'sitting')).toEqual({
      score: 1 - 3 / 7,
      reason: '3 edits over 7 characters',
    });
    expect(await s('levenshtein', undefined, 'Paris', 'Paris')).toBe(1);
    expect(await s('levenshtein', undefined, ' Paris\n', 'Paris')).toBe(1); // trims by default
    expect(await s('levenshtein', { trim: false }, ' Paris', 'Paris')).toBeCloseTo(1 - 1 / 6);
    expect(await s('levenshtein', undefined, 'PARIS', 'paris')).toBe(0);
    expect(await s('levenshtein', { ignoreCase: true }, 'PARIS', 'paris')).toBe(1);
    expect(await s('levenshtein', undefined, 'abc', 'xyz')).toBe(0);
    expect(await score('levenshtein', undefined, '', '')).toEqual({ score: 1, reason: 'both empty' });
    expect(await s('levenshtein', undefined, '', 'abc')).toBe(0);
    expect((await score('levenshtein', undefined, 'x', null)).reason).toBe('item has no ground truth');
  });
});

describe('numeric-close', () => {
  it('exact by default, numbers from numeric strings and texts', async () => {
    expect(await s('numeric-close', undefined, 42, 42)).toBe(1);
    expect(await s('numeric-close', undefined, '42', 42)).toBe(1);
    expect(await s('numeric-close', undefined, 'about 1,234.5 km', '1234.5')).toBe(1);
    expect(await s('numeric-close', undefined, 0.1 + 0.2, 0.3)).toBe(1); // float noise is not a miss
    expect(await score('numeric-close', undefined, 43, 42)).toEqual({ score: 0, reason: '43 vs 42: off by 1' });
    expect((await score('numeric-close', undefined, 'no idea', 42)).reason).toBe('no number in output "no idea"');
    expect((await score('numeric-close', undefined, '42', 'forty-two')).reason).toBe(
      'item has no numeric ground truth',
    );
    expect(await s('numeric-close', { extract: false }, 'about 42', 42)).toBe(0);
    expect(await s('numeric-close', undefined, '-3.5e2', -350)).toBe(1);
  });
  it('absolute and relative tolerance', async () => {
    expect(await s('numeric-close', { absolute: 0.5 }, 42.5, 42)).toBe(1);
    expect(await s('numeric-close', { absolute: 0.5 }, 42.6, 42)).toBe(0);
    expect(await s('numeric-close', { relative: 0.01 }, 1009, 1000)).toBe(1);
    expect(await s('numeric-close', { relative: 0.01 }, 1011, 1000)).toBe(0);
    // the larger of the two allowances applies
    expect(await s('numeric-close', { absolute: 2, relative: 0.01 }, 1.9, 0)).toBe(1);
  });
});

describe('latency-under', () => {
  it('compares the item latency with options.ms', async () => {
    expect(await score('latency-under', { ms: 200 }, 'x', null, { latencyMs: 150.4 })).toEqual({
      score: 1,
      reason: '150 ms (budget 200 ms)',
    });
    expect(await s('latency-under', { ms: 200 }, 'x', null, { latencyMs: 200 })).toBe(1);
    expect(await s('latency-under', { ms: 200 }, 'x', null, { latencyMs: 200.1 })).toBe(0);
  });
});

describe('options are checked when the scorer is built', () => {
  const bad = (use: string, options: unknown) => () =>
    createBuiltInScorer({ id: 'x', use, options: options as Record<string, unknown> });
  it('names the bad or unknown option', () => {
    expect(bad('exact-match', { trim: 'yes' })).toThrow(/^options\.trim: .*boolean/);
    expect(bad('exact-match', { caseSensitive: false })).toThrow(
      'options.caseSensitive is not an option of exact-match (options: trim, ignoreCase)',
    );
    expect(bad('regex', { pattern: '(' })).toThrow(/^options\.pattern: Invalid regular expression/);
    expect(bad('regex', { pattern: 'a', flags: 'q' })).toThrow(/^options\.flags: must be RegExp flags/);
    expect(bad('json-schema', {})).toThrow(/^options\.schema: /);
    expect(bad('json-schema', { schema: { type: 'nope' } })).toThrow(/^options\.schema: is not a valid JSON Schema/);
    expect(bad('numeric-close', { relative: -1 })).toThrow(/^options\.relative: /);
    expect(bad('latency-under', {})).toThrow(/^options\.ms: /);
    expect(bad('latency-under', { ms: 0 })).toThrow(/^options\.ms: /);
    expect(bad('contains-all', { values: [] })).toThrow(/^options\.values: /);
    expect(bad('llm-judge', { rubric: 'correct?' })).toThrow(/^options\.model: must be an AI SDK language model/);
    expect(bad('llm-judge', { model: 'gpt-x', rubric: ' ' })).toThrow(/^options\.rubric: /);
    expect(bad('nope', {})).toThrow("use: unknown built-in scorer 'nope' (one of exact-match, contains,");
  });
});
