// Times the built-in scorers on the hostile and huge inputs of scorers-bounded.test.ts (the tests
// assert results only). Run: npx tsx packages/core/test/scorer-timings.ts
import { cpus, loadavg } from 'node:os';
import { createBuiltInScorer } from '../src/index.js';

const MB = 1 << 20;
let seed = 1;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const randomText = (length: number, alphabet: string) =>
  Array.from({ length }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
const prose = 'The quick brown fox jumps over the lazy dog. 12 apples, 3.5 km. '.repeat(MB / 64);
const ab = `${randomText(MB, 'ab')}c`;
const letters = 'abcdefghijklmnopqrstuvwxyz     ';
const text300k = randomText(300_000, letters);

type Case = [label: string, use: string, options: Record<string, unknown> | undefined, output: unknown, gt?: unknown];
const cases: Case[] = [
  ['regex /^(a+)+$/ on 31 a + ! (the issue)', 'regex', { pattern: '^(a+)+$' }, `${'a'.repeat(31)}!`],
  ['regex /^(a+)+$/ on 1 MB of a + !', 'regex', { pattern: '^(a+)+$' }, `${'a'.repeat(MB)}!`],
  ['regex /(a+)+!/ (ground truth) on 1 MB, match', 'regex', undefined, `${'a'.repeat(MB)}!`, '(a+)+!'],
  ['regex literal /zebra/i on 1 MB, no match', 'regex', { pattern: 'zebra', flags: 'i' }, prose],
  ['regex date on 1 MB, match at the end', 'regex', { pattern: '\\d{4}-\\d\\d-\\d\\d' }, `${prose}2024-02-29`],
  [
    'regex 7-word list /\\b(?:…)\\b/i on 1 MB',
    'regex',
    { pattern: '\\b(?:yes|no|maybe|sure|never|always|ok)\\b', flags: 'i' },
    `${prose} maybe`,
  ],
  ['regex /^\\s*(yes|no)\\s*$/ on 1 MB', 'regex', { pattern: '^\\s*(yes|no)\\s*$' }, prose],
  ['regex /(?<=fox )jumps/ on 200 KB', 'regex', { pattern: '(?<=fox )jumps' }, prose.slice(0, 200_000)],
  ['regex /(a|b)*a(a|b){20}c/ on 1 MB: refused', 'regex', { pattern: '(a|b)*a(a|b){20}c' }, ab],
  ['regex /(?:a[ab]{0,100}){3}c/ on 1 MB: refused', 'regex', { pattern: '(?:a[ab]{0,100}){3}c' }, ab],
  [
    'regex /(a|b)*a(a|b){20}c/ on 190 KB (slowest allowed)',
    'regex',
    { pattern: '(a|b)*a(a|b){20}c' },
    ab.slice(-190_000),
  ],
  ['regex: compiling a 19,000-instruction pattern', 'regex', undefined, 'x', 'x{1000}'.repeat(19)],
  [
    'levenshtein ab×60,000 vs ba×60,000 (the issue)',
    'levenshtein',
    undefined,
    'ab'.repeat(60_000),
    'ba'.repeat(60_000),
  ],
  [
    'levenshtein 300 KB vs itself with 3 edits',
    'levenshtein',
    undefined,
    text300k,
    `${text300k.slice(0, 9)}X${text300k.slice(10, 200_000)}YY${text300k.slice(200_000)}`,
  ],
  ['levenshtein 300 KB vs 300 KB unrelated: error', 'levenshtein', undefined, text300k, randomText(300_000, letters)],
  ['levenshtein a×300,000 vs b×300,000: error', 'levenshtein', undefined, 'a'.repeat(300_000), 'b'.repeat(300_000)],
  [
    'levenshtein 23 KB vs 23 KB unrelated (exact)',
    'levenshtein',
    undefined,
    randomText(23_000, letters),
    randomText(23_000, letters),
  ],
  ['levenshtein 1 KB vs 300 KB (exact)', 'levenshtein', undefined, text300k.slice(5000, 6000), text300k],
  [
    'contains a×100,000 b a×100,000 in 1 MB of a',
    'contains',
    undefined,
    'a'.repeat(MB),
    `${'a'.repeat(100_000)}b${'a'.repeat(100_000)}`,
  ],
  [
    'contains 10,000 strings in 1 MB',
    'contains',
    undefined,
    prose,
    Array.from({ length: 10_000 }, (_, i) => `token-${i}`),
  ],
  [
    'contains 10,000 random 100-char strings in 1 MB',
    'contains',
    undefined,
    prose,
    Array.from({ length: 10_000 }, () => randomText(100, 'abc ')),
  ],
  [
    'json-schema pattern ^(a+)+$ on 31 a + !',
    'json-schema',
    { schema: { type: 'string', pattern: '^(a+)+$' } },
    JSON.stringify(`${'a'.repeat(31)}!`),
  ],
  [
    'json-schema format url on http:// + 12:×128,000',
    'json-schema',
    { schema: { type: 'string', format: 'url' } },
    JSON.stringify(`http://${'12:'.repeat(128_000)}`),
  ],
  [
    'json-schema uniqueItems, 50,000 objects',
    'json-schema',
    { schema: { type: 'array', uniqueItems: true } },
    Array.from({ length: 50_000 }, (_, i) => ({ id: i, tags: ['x', i % 7] })),
  ],
  ['json-valid 1 MB of nested arrays', 'json-valid', undefined, `${'['.repeat(MB / 2)}${']'.repeat(MB / 2)}`],
  ['numeric-close on 1 MB of "1,234,"', 'numeric-close', undefined, '1,234,'.repeat(MB / 6), 1234],
];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
console.log(
  `${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}, node ${process.version}`,
);
console.log('| case | result | wall ms | CPU ms |\n| --- | --- | ---: | ---: |');
for (const [label, use, options, output, groundTruth] of cases) {
  const wall = performance.now();
  const cpu = cpuMs();
  let result: string;
  try {
    const scorer = createBuiltInScorer({ id: 'timed', use, options });
    const v = await scorer.score({
      input: null,
      output,
      groundTruth,
      metadata: null,
      latencyMs: 1,
      usage: null,
      signal: new AbortController().signal,
    });
    result = typeof v === 'number' ? `${v}` : `${Number(v.score.toFixed(6))}`;
  } catch (e) {
    result = `error: ${(e instanceof Error ? e.message : String(e)).slice(0, 50)}…`;
  }
  const ms = (performance.now() - wall).toFixed(0);
  console.log(`| ${label} | ${result.replaceAll('|', '\\|')} | ${ms} | ${(cpuMs() - cpu).toFixed(0)} |`);
}
