// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test
import { describe, expect, it } from 'vitest';
import { createRegistry, jsonPointer, renderJson, renderText, validateConfig } from '../src/index.js';

const scope = {
  input: { question: 'Capital of France?', tags: ['geo', 'eu'], nested: { n: 2 } },
  groundTruth: 'Paris',
  metadata: { lang: 'en' },
  itemId: 'item-1',
  runId: 'run-1',
};

describe('templates over an item', () => {
  it('fills text templates: input fields directly or via input., JSON with | json', () => {
    expect(renderText('Q: {{question}} ({{ input.nested.n }})', scope)).toBe('Q: Capital of France? (2)');
    expect(renderText('{{input.tags}} / {{question | json}}', scope)).toBe('["geo","eu"] / "Capital of France?"');
    expect(renderText('{{groundTruth}} {{metadata.lang}} {{itemId}} {{runId}}', scope)).toBe('Paris en item-1 run-1');
    expect(() => renderText('{{input.missing}}', scope)).toThrow(
      "template {{input.missing}}: input has no field 'missing'",
    );
    expect(() => renderText('{{nested.n.x}}', scope)).toThrow("input.nested.n has no field 'x'");
  });
  it('fills JSON templates keeping the type of whole-tag strings', () => {
    expect(
      renderJson(
        { q: '{{question}}', tags: '{{tags}}', n: '{{nested.n}}', s: 'n={{nested.n}}', raw: '{{input}}', k: 3 },
        scope,
      ),
    ).toEqual({ q: 'Capital of France?', tags: ['geo', 'eu'], n: 2, s: 'n=2', raw: scope.input, k: 3 });
    expect(renderJson(['{{groundTruth}}', { j: '{{tags | json}}' }], scope)).toEqual(['Paris', { j: '["geo","eu"]' }]);
  });
  it('resolves RFC 6901 JSON Pointers', () => {
    const doc = { a: { 'b/c': [10, { 'd~e': 'x' }] }, '': 1 };
    expect(jsonPointer(doc, '')).toEqual({ found: true, value: doc });
    expect(jsonPointer(doc, '/a/b~1c/1/d~0e')).toEqual({ found: true, value: 'x' });
    expect(jsonPointer(doc, '/a/b~1c/0')).toEqual({ found: true, value: 10 });
    expect(jsonPointer(doc, '/')).toEqual({ found: true, value: 1 });
    expect(jsonPointer(doc, '/a/b~1c/2')).toEqual({ found: false, at: '/a/b~1c/2' });
    expect(jsonPointer(doc, '/a/b~1c/01')).toEqual({ found: false, at: '/a/b~1c/01' });
    expect(jsonPointer(doc, '/a/x/y')).toEqual({ found: false, at: '/a/x' });
    expect(jsonPointer({ a: null }, '/a/b')).toEqual({ found: false, at: '/a/b' });
  });
});

describe('config: target kinds and scorer options are checked at start-up', () => {
  const http = { id: 'bot', type: 'http', url: 'https://bot.example/answer' };
  const err = (config: unknown, env: Record<string, string> = {}) => {
    try {
      createRegistry(config as never, { env, source: 'assay.config.mjs' });
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };

  it('builds every kind and lists them with their kind', () => {
    const reg = createRegistry(
      {
        targets: [
          { id: 'fn', type: 'agent', run: (x: unknown) => x },
          { ...http, headers: { Authorization: 'Bearer ${env:BOT_TOKEN}' } } as never,
          { id: 'm', type: 'model', model: 'openai/gpt-4o-mini', prompt: '{{question}}' } as never,
        ],
        scorers: [{ id: 'close', use: 'levenshtein', options: { ignoreCase: true } }],
      },
      { env: { BOT_TOKEN: 'secret' } },
    );
    expect([...reg.targets.values()].map((t) => [t.id, t.type, t.kind])).toEqual([
      ['fn', 'agent', 'function'],
      ['bot', 'http', 'http'],
      ['m', 'model', 'model'],
    ]);
    expect(reg.targets.get('bot')!.details).toEqual({ method: 'POST', url: 'https://bot.example/answer' });
    expect(JSON.stringify(reg.targets.get('bot'))).not.toContain('secret');
    expect(reg.scorerUses.get('close')).toBe('levenshtein');
    expect(reg.builtInScorerIds.has('close')).toBe(false);
  });

  it('a missing environment variable names it', () => {
    expect(err({ targets: [{ ...http, headers: { 'x-api-key': '${env:BOT_KEY}' } }] })).toBe(
      "assay.config.mjs: targets[0] 'bot' (http): headers['x-api-key'] uses ${env:BOT_KEY}, but environment variable BOT_KEY is not set",
    );
  });

  it('names bad http and model fields', () => {
    expect(err({ targets: [{ ...http, url: 'not a url' }] })).toMatch(
      /targets\[0\] 'bot' \(http\): url "not a url" is not an absolute URL/,
    );
    expect(err({ targets: [{ ...http, url: 'file:///etc/passwd' }] })).toMatch(/url must be http: or https:/);
    expect(err({ targets: [{ ...http, output: 'answer' }] })).toMatch(/output must be a JSON Pointer/);
    expect(err({ targets: [{ ...http, method: 'TRACE' }] })).toMatch(/method must be one of/);
    expect(err({ targets: [{ ...http, timeoutMs: -1 }] })).toMatch(/timeoutMs must be a positive integer/);
    expect(err({ targets: [{ ...http, usage: { tokens: '/u' } }] })).toMatch(/usage.tokens is not one of/);
    expect(err({ targets: [{ id: 'h', type: 'http', run: () => 1 }] })).toMatch(
      /targets\[0\]\.url must be the endpoint's URL/,
    );
    expect(err({ targets: [{ id: 'm', type: 'model', prompt: 'x' }] })).toMatch(
      /targets\[0\]\.model must be an AI SDK/,
    );
    expect(err({ targets: [{ id: 'm', type: 'model', model: 'x', prompt: '' }] })).toMatch(
      /'m' \(model\): prompt must be/,
    );
    expect(err({ targets: [{ id: 'm', type: 'model', model: 'x', prompt: 'p', temperature: 5 }] })).toMatch(
      /temperature/,
    );
    expect(err({ targets: [{ id: 'm', type: 'model', model: 'x', prompt: 'p', seed: 1.5 }] })).toMatch(
      /'m' \(model\): seed must be an integer/,
    );
    expect(
      err({ targets: [{ id: 'm', type: 'model', model: 'x', prompt: 'p', price: { inputPerMillion: 1 } }] }),
    ).toMatch(/targets\[0\]\.price must be \{ inputPerMillion, outputPerMillion \}/);
    expect(err({ targets: [{ id: 'x', type: 'rpc', run: () => 1 }] })).toMatch(
      /type must be one of agent, workflow, function, http, model/,
    );
  });

  it('names the scorer and the option', () => {
    expect(err({ targets: [], scorers: [{ id: 'short-answer', use: 'levenshtein', options: { threshold: 2 } }] })).toBe(
      "assay.config.mjs: scorers[0] 'short-answer' (use: 'levenshtein'): options.threshold is not an option of levenshtein (options: ignoreCase, trim)",
    );
    expect(err({ targets: [], scorers: [{ id: 'fast', use: 'latency-under', options: { ms: 'soon' } }] })).toMatch(
      /^assay\.config\.mjs: scorers\[0\] 'fast' \(use: 'latency-under'\): options\.ms: /,
    );
    expect(err({ targets: [], scorers: [{ id: 'x', use: 'bleu' }] })).toMatch(/unknown built-in scorer 'bleu'/);
    expect(err({ targets: [], scorers: [{ id: 'x', use: 'regex', score: () => 1 }] })).toMatch(
      /has both use and score/,
    );
    expect(err({ targets: [], scorers: [{ id: 'x' }] })).toMatch(
      /scorers\[0\]\.score must be a function .* or use a built-in/,
    );
  });

  it("scorer kinds: the config's, latency for a latency budget, else quality; anything else is refused", () => {
    const reg = createRegistry({
      targets: [],
      scorers: [
        { id: 'fast', use: 'latency-under', options: { ms: 200 } },
        { id: 'slow-ok', use: 'latency-under', options: { ms: 200 }, kind: 'quality' },
        { id: 'cheap', kind: 'cost', score: () => 1 },
        { id: 'right', score: () => 1 },
      ],
    });
    expect(['fast', 'slow-ok', 'cheap', 'right', 'exact-match'].map((id) => reg.scorerKinds.get(id))).toEqual([
      'latency',
      'quality',
      'cost',
      'quality',
      'quality',
    ]);
    expect(err({ targets: [], scorers: [{ id: 'x', kind: 'speed', score: () => 1 }] })).toMatch(
      /scorers\[0\]\.kind must be one of quality, latency, cost \(got "speed"\)/,
    );
  });

  it('validateConfig accepts declared targets and prices without building them', () => {
    const cfg = validateConfig({
      targets: [http, { id: 'm', type: 'model', model: 'x', prompt: 'p' }],
      prices: { 'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 } },
    });
    expect(cfg.targets).toHaveLength(2);
    expect(cfg.prices['gpt-4o-mini']!.outputPerMillion).toBe(0.6);
    expect(() => validateConfig({ targets: [], prices: { m: { inputPerMillion: -1, outputPerMillion: 0 } } })).toThrow(
      "config: prices['m'] must be",
    );
  });
});
