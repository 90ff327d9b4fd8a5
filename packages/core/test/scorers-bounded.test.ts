// Built-in scorers on hostile or huge inputs: each call must come back (a score or a score error)
// without backtracking or quadratic work. No timings are asserted (shared, noisy machines): the
// test timeout is the bound; `npx tsx packages/core/test/scorer-timings.ts` measures.
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { distance } from 'fastest-levenshtein';
import { describe, expect, it } from 'vitest';
import { createBuiltInScorer, type ScoreArgs, type ScoreValue } from '../src/index.js';
import { boundedDistance, diagonalDistance } from '../src/scorers/edit-distance.js';
import { estimateProgramSize, LinearRegExp, RegexTooComplexError } from '../src/scorers/linear-regex.js';
import { createAjv, firstDuplicate, URL_FORMAT } from '../src/scorers/schema.js';
import { ahoCorasick, containsEach, kmpIncludes } from '../src/scorers/search.js';

const signal = new AbortController().signal;
async function score(
  use: string,
  options: Record<string, unknown> | undefined,
  output: unknown,
  groundTruth?: unknown,
) {
  const s = createBuiltInScorer({ id: `t-${use}`, use, options });
  const args: ScoreArgs = { input: null, output, groundTruth, metadata: null, latencyMs: 1, usage: null, signal };
  const v: ScoreValue = await s.score(args);
  return typeof v === 'number' ? { score: v, reason: null } : { score: v.score, reason: v.reason ?? null };
}

/** Deterministic pseudo-random numbers (xorshift32). */
function random(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
const randomText = (rnd: () => number, length: number, alphabet: string) =>
  Array.from({ length }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');

const MB = 1 << 20;
const REDOS = `${'a'.repeat(31)}!`; // 13.5 s for /^(a+)+$/ with JavaScript's RegExp

describe('regex: RE2, linear in the text', () => {
  it('the ReDoS pattern of the issue scores 0 at once, as a ground truth or an option, on 32 chars or 1 MB', async () => {
    expect(await score('regex', undefined, REDOS, '^(a+)+$')).toEqual({ score: 0, reason: 'no match for /^(a+)+$/' });
    expect((await score('regex', { pattern: '^(a+)+$' }, REDOS)).score).toBe(0);
    expect((await score('regex', { pattern: '^(a+)+$' }, `${'a'.repeat(MB)}!`)).score).toBe(0);
    expect(await score('regex', undefined, REDOS, '(a+)+!')).toEqual({ score: 1, reason: `matched "${REDOS}"` });
    expect((await score('regex', { pattern: '^(\\w+\\s?)*$' }, `${'word '.repeat(200_000)}!`)).score).toBe(0);
  });

  it('refuses backreferences and lookahead, naming them', async () => {
    await expect(score('regex', undefined, 'abab', '(ab)\\1')).rejects.toThrow(
      'pattern /(ab)\\1/ uses a backreference (\\1), which RE2 (linear-time matching) does not support',
    );
    await expect(score('regex', undefined, 'x', '(?<w>a)\\k<w>')).rejects.toThrow(/named backreference \(\\k<…>\)/);
    await expect(score('regex', undefined, 'x', 'a(?=b)')).rejects.toThrow(/uses a lookahead \(\?=…\)/);
    await expect(score('regex', undefined, 'x', 'a(?!b)')).rejects.toThrow(/uses a negative lookahead/);
    await expect(score('regex', undefined, 'x', 'a{1001}')).rejects.toThrow(
      /not supported by RE2.*invalid repeat count/,
    );
    const bad = (options: Record<string, unknown>) => () => createBuiltInScorer({ id: 'x', use: 'regex', options });
    expect(bad({ pattern: '(a)\\1' })).toThrow(/^options\.pattern: pattern \/\(a\)\\1\/ uses a backreference/);
    expect(bad({ pattern: 'a', flags: 'v' })).toThrow(/^options\.flags: the v flag .* not supported by RE2/);
    expect(bad({ pattern: 'x{1000}'.repeat(25) })).toThrow(/^options\.pattern: pattern .* is too large/);
  });

  it('keeps the JavaScript meaning of flags and syntax', async () => {
    expect((await score('regex', { pattern: '^b$', flags: 'm' }, 'a\nb\nc')).score).toBe(1);
    expect((await score('regex', { pattern: '^b$' }, 'a\nb\nc')).score).toBe(0);
    expect((await score('regex', { pattern: 'a.b', flags: 's' }, 'a\nb')).score).toBe(1);
    expect((await score('regex', { pattern: 'a.b' }, 'a\nb')).score).toBe(0);
    expect((await score('regex', { pattern: 'PARIS', flags: 'iu' }, 'paris')).score).toBe(1);
    expect(await score('regex', { pattern: '(?<=€ ?)\\d+' }, 'costs € 42')).toEqual({
      score: 1,
      reason: 'matched "42"',
    });
    const cases: [string, string, string[]][] = [
      ['^\\s*yes\\s*$', '', ['yes\u00a0', '\u2003yes\n', 'yes!']], // JavaScript's \s: Unicode spaces too
      ['^\\S+$', '', ['a\u00a0b', 'ab']],
      ['^[\\s\\d]+$', '', ['1\u00a02', '1x']],
      ['^[^\\s]+$', '', ['ab', 'a\u3000b']],
      ['^[a-\\d]+$', '', ['a-5', 'b']],
      ['^[\\s-z]+$', '', [' -z', 'y']],
      ['^[\\b]$', '', ['\b', 'b']],
      ['\\uD83D\\uDE00', '', ['😀', '\uD83D']],
      ['^(?<year>\\d{4})-(\\d\\d)$', '', ['2024-02', '24-02']],
      ['[^]', '', ['\n', '']],
      ['^a{,3}$', '', ['a{,3}', 'aa']],
      ['(?<!not )good', 'i', ['Not good', 'GOOD']],
      ['^\\p{Lu}\\p{Ll}+$', 'u', ['Éric', 'éric']],
      ['^\\p{Script=Greek}+$', 'u', ['αβγ', 'abc']],
      ['colou?r', 'g', ['color', 'colr']],
      ['\\bcat\\b', '', ['a cat!', 'concat']],
      ['^\\cJ$', '', ['\n', 'J']],
      ['^[\\u00e0-\\u00ff]+$', '', ['àé', 'ae']],
      ['x*', '', ['', 'y']],
    ];
    for (const [pattern, flags, inputs] of cases) {
      const re = new LinearRegExp(pattern, flags);
      for (const input of inputs)
        expect([pattern, input, re.test(input)]).toEqual([pattern, input, new RegExp(pattern, flags).test(input)]);
    }
  });

  it('a long text that needs the slow engine is a score error, not minutes of work', async () => {
    const ab = `${randomText(random(1), MB, 'ab')}c`;
    await expect(score('regex', { pattern: '(a|b)*a(a|b){20}c' }, ab)).rejects.toThrow(RegexTooComplexError);
    await expect(score('regex', { pattern: '(a|b)*a(a|b){20}c' }, ab)).rejects.toThrow(
      /^pattern \/\(a\|b\)\*a\(a\|b\)\{20\}c\/ is too complex for a text of 1,048,577 characters/,
    );
    // the same pattern on a shorter text runs
    expect((await score('regex', { pattern: '(a|b)*a(a|b){20}c' }, ab.slice(-20_000))).score).toBe(1);
    // simple patterns on 1 MB: matched (the match's text is not located when that would cost too much)
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(MB / 45);
    expect(await score('regex', { pattern: '\\d{4}-\\d\\d-\\d\\d' }, `${prose}2024-02-29`)).toEqual({
      score: 1,
      reason: 'matched /\\d{4}-\\d\\d-\\d\\d/',
    });
    expect((await score('regex', { pattern: 'zebra', flags: 'i' }, prose)).score).toBe(0);
    expect((await score('regex', { pattern: '^(?:\\w+[ .]*)+$' }, prose)).score).toBe(1);
  });

  it('estimates the compiled size before compiling', () => {
    expect(estimateProgramSize('abc')).toBe(3);
    expect(estimateProgramSize('a{1000}')).toBeGreaterThanOrEqual(1000);
    expect(estimateProgramSize('(?:ab|cd){10}')).toBeGreaterThanOrEqual(40);
    const re = new LinearRegExp('(?:[ab]{100}|x{200}){5}');
    expect(estimateProgramSize(re.source)).toBeGreaterThanOrEqual(re.programSize);
  });
});

describe('levenshtein: bounded', () => {
  it('the 120,000-char pair of the issue (2 edits) is exact', async () => {
    expect(await score('levenshtein', undefined, 'ab'.repeat(60_000), 'ba'.repeat(60_000))).toEqual({
      score: 1 - 2 / 120_000,
      reason: '2 edits over 120000 characters',
    });
  });

  it('300 KB pairs: exact with few edits, a score error when too different', async () => {
    const rnd = random(7);
    const text = randomText(rnd, 300_000, 'abcdefghijklmnopqrstuvwxyz     ');
    // distances known by construction: equal lengths and 2 differing characters; 3 inserted characters
    const twoSubstitutions = `${text.slice(0, 1000)}X${text.slice(1001, 200_000)}Y${text.slice(200_001)}`;
    expect(await score('levenshtein', undefined, text, twoSubstitutions)).toEqual({
      score: 1 - 2 / 300_000,
      reason: '2 edits over 300000 characters',
    });
    const inserted = `${text.slice(0, 150_000)}YYY${text.slice(150_000)}`;
    expect((await score('levenshtein', undefined, text, inserted)).reason).toBe('3 edits over 300003 characters');
    const other = randomText(rnd, 300_000, 'abcdefghijklmnopqrstuvwxyz     ');
    await expect(score('levenshtein', undefined, text, other)).rejects.toThrow(
      /^texts of 300,000 and 300,000 characters differ by at least [\d,]+ edits: too many to count exactly/,
    );
    await expect(score('levenshtein', undefined, 'a'.repeat(300_000), 'b'.repeat(300_000))).rejects.toThrow(
      /differ by at least/,
    );
  });

  it('equals fastest-levenshtein; a budget gives a true lower bound', () => {
    const rnd = random(3);
    for (let t = 0; t < 3000; t++) {
      const alphabet = ['a', 'ab', 'abc', 'abcdefgh😀'][t % 4]!;
      const a = randomText(rnd, Math.floor(rnd() * 90), alphabet);
      let b = randomText(rnd, Math.floor(rnd() * 90), alphabet);
      if (t % 2) b = `${a.slice(0, 10)}${b.slice(0, 3)}${a.slice(12)}`;
      const want = distance(a, b);
      expect(boundedDistance(a, b)).toEqual({ distance: want });
      const [short, long] = a.length <= b.length ? [a, b] : [b, a];
      if (short.length) expect(diagonalDistance(short, long, 1e9)).toEqual({ distance: want });
      const cut = diagonalDistance(short || 'x', long, 30);
      if ('atLeast' in cut) expect(cut.atLeast).toBeLessThanOrEqual(distance(short || 'x', long));
      else expect(cut.distance).toBe(distance(short || 'x', long));
    }
  });
});

describe('contains: linear substring search', () => {
  it('a long repetitive expected string in 1 MB (73 s with String.includes)', async () => {
    const needle = `${'a'.repeat(100_000)}b${'a'.repeat(100_000)}`;
    expect(await score('contains', undefined, 'a'.repeat(MB), needle)).toEqual({
      score: 0,
      reason: '0/1 expected strings found',
    });
    expect((await score('contains-all', { ignoreCase: false }, `${'a'.repeat(MB)}${needle}`, [needle])).score).toBe(1);
  });

  it('10,000 expected strings in 1 MB, in one pass', async () => {
    const out = `${'The quick brown fox. '.repeat(MB / 21)} token-1234 TOKEN-9999`;
    const needles = Array.from({ length: 10_000 }, (_, i) => `token-${i}`);
    // token-1, -12, -123, -1234 and token-9, -99, -999, -9999
    expect(await score('contains', undefined, out, needles)).toEqual({
      score: 8 / 10_000,
      reason: '8/10000 expected strings found',
    });
    const r = await score('contains-all', { ignoreCase: false }, out, needles);
    expect(r.score).toBe(0);
    // case-sensitive: TOKEN-9999 is not token-9999; the reason names the first 10 missing
    const first = [0, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((i) => `"token-${i}"`).join(', ');
    expect(r.reason).toBe(`missing ${first} and 9,986 more`);
  });

  it('Aho–Corasick and KMP agree with String.includes', () => {
    const rnd = random(5);
    for (let t = 0; t < 4000; t++) {
      const alphabet = ['ab', 'abc', 'aab', 'abcd😀'][t % 4]!;
      const hay = randomText(rnd, Math.floor(rnd() * 60), alphabet);
      const needles = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () =>
        randomText(rnd, Math.floor(rnd() * 6), alphabet),
      );
      const want = needles.map((n) => hay.includes(n));
      expect(ahoCorasick(hay, needles)).toEqual(want);
      expect(needles.map((n) => kmpIncludes(hay, n))).toEqual(want);
      expect(containsEach(hay, needles)).toEqual(want);
    }
  });
});

describe('json-schema: RE2 patterns, a linear url format and uniqueItems', () => {
  it('a ReDoS pattern in the schema (pattern, patternProperties) validates at once', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', pattern: '^(a+)+$' } },
      patternProperties: { '^(x+x+)+y$': { type: 'number' } },
    };
    expect(await score('json-schema', { schema }, { name: REDOS })).toEqual({
      score: 0,
      reason: '/name must match pattern "^(a+)+$"',
    });
    expect((await score('json-schema', { schema }, { name: 'aaa', [`${'x'.repeat(5000)}y`]: 1 })).score).toBe(1);
    expect((await score('json-schema', { schema }, { name: 'aaa', [`${'x'.repeat(5000)}y`]: 'one' })).score).toBe(0);
    expect(() =>
      createBuiltInScorer({ id: 'x', use: 'json-schema', options: { schema: { pattern: '(a)\\1' } } }),
    ).toThrow(/^options\.schema: pattern \/\(a\)\\1\/ uses a backreference/);
  });

  it('the url format is linear (45 s for ajv-formats on this string) and means the same', async () => {
    const schema = { type: 'string', format: 'url' };
    expect((await score('json-schema', { schema }, JSON.stringify(`http://${'12:'.repeat(128_000)}`))).score).toBe(0);
    expect((await score('json-schema', { schema }, JSON.stringify('https://example.com/a?b=c'))).score).toBe(1);
    const original = (addFormatsModule as unknown as (ajv: Ajv) => Ajv)(new Ajv()).formats.url as RegExp;
    const octets = [
      '0',
      '1',
      '01',
      '10',
      '16',
      '31',
      '32',
      '99',
      '127',
      '160',
      '168',
      '169',
      '172',
      '192',
      '254',
      '255',
      '256',
    ];
    const hosts = ['example.com', 'a-b.co', 'localhost', 'münchen.de', '1.2.3.4.com', 'a..b', '-a.com', 'a.b'];
    for (let first = 0; first <= 260; first++)
      for (const o of octets) hosts.push(`${first}.${o}.1.1`, `${first}.${o}.0.254`);
    for (const before of ['http://', 'HTTPS://', 'ftp://', 'gopher://', 'http://u:p@', 'http://u@8.8.8.8/x@']) {
      for (const host of hosts) {
        for (const after of ['', ':80', ':8', '/a b', '/p?q#f']) {
          const url = before + host + after;
          if (URL_FORMAT.test(url) !== original.test(url)) expect(url).toBe('the same as ajv-formats');
        }
      }
    }
  });

  it('uniqueItems is linear and reports what ajv reports', async () => {
    const schema = { type: 'array', uniqueItems: true };
    const items = Array.from({ length: 50_000 }, (_, i) => ({ id: i, tags: [i % 7, 'x'] }));
    expect(await score('json-schema', { schema }, items)).toEqual({ score: 1, reason: 'valid' });
    expect(await score('json-schema', { schema }, [...items, { tags: [3, 'x'], id: 3 }])).toEqual({
      score: 0,
      reason: '(root) must NOT have duplicate items (items ## 3 and 50000 are identical)',
    });
    const stock = new Ajv({ allErrors: true }).compile(schema);
    const ours = createAjv().compile(schema);
    const rnd = random(9);
    const values = [1, 2, '1', 'a', null, true, [1], [1, 2], { a: 1 }, { a: 1, b: 2 }, { b: 2, a: 1 }, [], {}];
    for (let t = 0; t < 2000; t++) {
      const data = Array.from({ length: Math.floor(rnd() * 6) }, () => values[Math.floor(rnd() * values.length)]);
      expect([data, ours(data), ours.errors?.[0]?.message]).toEqual([data, stock(data), stock.errors?.[0]?.message]);
    }
    expect(firstDuplicate([{ a: [1, { b: 2, c: 3 }] }, 0, { a: [1, { c: 3, b: 2 }] }])).toEqual([2, 0]);
  });
});

describe('json-valid and numeric-close on huge inputs', () => {
  it('stay linear', async () => {
    expect((await score('json-valid', undefined, `${'['.repeat(100_000)}${']'.repeat(100_000)}`)).score).toBe(1);
    expect((await score('json-valid', undefined, `[${'1,'.repeat(MB / 2)}]`)).score).toBe(0);
    expect((await score('numeric-close', undefined, `about ${'1,234,'.repeat(MB / 6)}`, 1234)).score).toBe(1);
    expect((await score('numeric-close', undefined, `${'+.e'.repeat(MB / 3)}7`, 7)).score).toBe(1);
  });
});
