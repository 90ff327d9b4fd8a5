import { describe, expect, it } from 'vitest';
import { scoreItem } from '../src/engine/attempt.js';
import { INLINE_SCORING_LIMIT, scoresInline } from '../src/engine/inline-scoring.js';
import { builtInScorers, createBuiltInScorer } from '../src/scorers/index.js';

const builtIn = (id: string) => builtInScorers.find((s) => s.id === id)!;
const small = ['a question', 'an answer', { tag: 'x' }, 'an answer'];

describe('scoring a stored output on the claiming thread', () => {
  it('takes only linear built-ins, however they are configured', () => {
    expect(scoresInline([builtIn('exact-match'), builtIn('json-valid')], small)).toBe(true);
    const latency = createBuiltInScorer({ id: 'fast', use: 'latency-under', options: { ms: 100 } });
    const exact = createBuiltInScorer({ id: 'exact-ci', use: 'exact-match', options: { ignoreCase: true } });
    expect(scoresInline([latency, exact], small)).toBe(true);
    for (const id of ['levenshtein', 'contains', 'regex', 'numeric-close'])
      expect(scoresInline([builtIn('exact-match'), builtIn(id)], small), id).toBe(false);
    // Code, even a copy of a built-in's function: user code never runs here.
    expect(scoresInline([{ ...builtIn('exact-match') }], small)).toBe(false);
    expect(scoresInline([{ id: 'mine', score: () => 1 }], small)).toBe(false);
    expect(scoresInline([], small)).toBe(false);
  });

  it('takes only small items: text, keys and elements together under the limit, nesting under 32', () => {
    const scorers = [builtIn('exact-match')];
    const half = 'x'.repeat(INLINE_SCORING_LIMIT / 2);
    expect(scoresInline(scorers, [half, null, null, 'y'])).toBe(true);
    expect(scoresInline(scorers, [half, null, null, half])).toBe(false);
    expect(scoresInline(scorers, [Array.from({ length: INLINE_SCORING_LIMIT }, () => 1), null, null, 'y'])).toBe(false);
    expect(scoresInline(scorers, [{ [half]: 1, [`${half}!`]: 2 }, null, null, 'y'])).toBe(false);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(scoresInline(scorers, [deep, null, null, 'y'])).toBe(false);
  });

  it('linear built-ins score without a timer, as the scorers do, an error on its own score', async () => {
    const signal = new AbortController().signal;
    const args = {
      input: 'q',
      output: 'Paris',
      groundTruth: 'Paris',
      metadata: null,
      latencyMs: 20,
      usage: null,
      signal,
    };
    const fast = createBuiltInScorer({ id: 'fast', use: 'latency-under', options: { ms: 10 } });
    const broken = { ...builtIn('json-valid'), score: () => 2 };
    expect(await scoreItem([builtIn('exact-match'), fast, broken], args)).toEqual([
      { scorerId: 'exact-match', score: 1, reason: null, error: null },
      { scorerId: 'fast', score: 0, reason: '20 ms (budget 10 ms)', error: null },
      {
        scorerId: 'json-valid',
        score: null,
        reason: null,
        error: expect.stringContaining('expected a number in [0, 1]'),
      },
    ]);
  });
});
