// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test
/**
 * http and model targets and the llm-judge scorer through the real engine: real HTTP servers on
 * 127.0.0.1 stand in for a user's endpoint and for an OpenAI-compatible provider.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { AssayConfig } from '@assay/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatRequest, type FakeOpenAI, startFakeOpenAI, textOf } from '../../core/test/fake-openai.js';
import { call, dataset, results, useAssay, waitRun } from './helpers.js';

const start = useAssay();

interface Seen {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** A user's agent behind HTTP, with one route per behaviour under test. */
function startEndpoint() {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push({ path, method: req.method ?? '', headers: req.headers, body, at: Date.now() });
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(value));
      };
      const parsed = () => JSON.parse(body || 'null');
      const tries = seen.filter((s) => s.path === path && s.body === body).length;
      switch (path.split('?')[0]) {
        case '/answer': {
          const q = parsed();
          return json(200, {
            data: { answer: `Echo: ${q.question}`, confidence: 0.9 },
            usage: { prompt_tokens: 12, completion_tokens: 3, cost: 0.0004 },
          });
        }
        case '/raw':
          return json(200, { received: parsed(), contentType: req.headers['content-type'] });
        case '/text':
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end(`text for ${body}`);
        case '/auth':
          return json(200, { authorization: req.headers.authorization ?? null, key: req.headers['x-api-key'] ?? null });
        case '/busy':
          // 429 with Retry-After: 1 second on the first try of each item, then the answer
          return tries === 1 ? json(429, { error: 'slow down' }, { 'retry-after': '1' }) : json(200, { ok: tries });
        case '/down':
          return json(500, { error: 'internal error' });
        case '/bad':
          return json(400, { error: 'question is required' });
        case '/slow': {
          const t = setTimeout(() => json(200, { late: true }), 5000);
          res.on('close', () => clearTimeout(t));
          return;
        }
        case '/garbled':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{"answer": "Par');
        default:
          return json(404, { error: 'no route' });
      }
    });
  });
  return new Promise<{ url: string; seen: Seen[]; close(): Promise<void> }>((ok) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      ok({
        url: `http://127.0.0.1:${port}`,
        seen,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    }),
  );
}

let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(() => endpoint.close());

const http = (id: string, path: string, extra: Record<string, unknown> = {}) =>
  ({ id, type: 'http', url: `${endpoint.url}${path}`, ...extra }) as unknown as AssayConfig['targets'][number];

async function runOnce(
  config: AssayConfig,
  items: { input: unknown; groundTruth?: unknown }[],
  trigger: Record<string, unknown>,
) {
  const assay = await start(config);
  const ds = await dataset(assay, items);
  const r = await call(assay, 'POST', `/datasets/${ds}/runs`, trigger);
  expect(r.status, JSON.stringify(r.json)).toBe(202);
  const run = await waitRun(assay, ds, r.json.id, 30_000);
  return { assay, ds, run, results: await results(assay, ds, r.json.id) };
}

describe('http target', () => {
  it('posts the input as JSON by default and extracts the output with a JSON Pointer; usage from pointers', async () => {
    const { run, results: rs } = await runOnce(
      {
        targets: [
          http('bot', '/answer', {
            output: '/data/answer',
            usage: {
              inputTokens: '/usage/prompt_tokens',
              outputTokens: '/usage/completion_tokens',
              costUsd: '/usage/cost',
            },
          }),
        ],
      },
      [
        { input: { question: 'Capital of France?' }, groundTruth: 'Echo: Capital of France?' },
        { input: { question: 'Capital of Peru?' }, groundTruth: 'Lima' },
      ],
      { targetId: 'bot', scorerIds: ['exact-match'] },
    );
    expect(run.status).toBe('completed');
    expect(rs.map((r) => r.output)).toEqual(['Echo: Capital of France?', 'Echo: Capital of Peru?']);
    expect(rs.map((r) => r.scores[0].score)).toEqual([1, 0]);
    expect(rs[0].usage).toEqual({ inputTokens: 12, outputTokens: 3, costUsd: 0.0004 });
    expect(run.summary.usage).toMatchObject({ items: 2, inputTokens: 24, outputTokens: 6, meanInputTokens: 12 });
    expect(run.summary.usage.costUsd).toBeCloseTo(0.0008, 10);
    const sent = endpoint.seen.filter((s) => s.path === '/answer');
    expect(sent.map((s) => [s.method, s.headers['content-type'], JSON.parse(s.body)])).toContainEqual([
      'POST',
      'application/json',
      { question: 'Capital of France?' },
    ]);
  });

  it('fills a body template from the item; without output it returns the whole JSON; text responses stay text', async () => {
    const { results: rs } = await runOnce(
      {
        targets: [
          http('tpl', '/raw', {
            body: { q: '{{question}}', tags: '{{input.tags}}', expected: '{{groundTruth}}', note: 'item {{itemId}}' },
          }),
          http('txt', '/text', { body: 'Q: {{question}}' }),
        ],
      },
      [{ input: { question: 'Why?', tags: ['a', 'b'] }, groundTruth: 'Because' }],
      { targetId: 'tpl' },
    );
    expect(rs[0].output).toEqual({
      received: { q: 'Why?', tags: ['a', 'b'], expected: 'Because', note: `item ${rs[0].itemId}` },
      contentType: 'application/json',
    });
    const txt = await runOnce(
      { targets: [http('txt', '/text', { body: 'Q: {{question}}' })] },
      [{ input: { question: 'Why?' } }],
      { targetId: 'txt' },
    );
    expect(txt.results[0].output).toBe('text for Q: Why?');
  });

  it('a template naming a missing field fails the item without retrying', async () => {
    const before = endpoint.seen.length;
    const { results: rs } = await runOnce(
      { targets: [http('tpl', '/raw', { body: { q: '{{question}}' } })] },
      [{ input: { prompt: 'no question here' } }],
      { targetId: 'tpl', maxRetries: 3 },
    );
    expect(rs[0]).toMatchObject({ status: 'failed', attempt: 1 });
    expect(rs[0].error).toEqual({
      code: 'TEMPLATE_ERROR',
      message: "template {{question}}: input has no field 'question'",
      retryable: false,
    });
    expect(endpoint.seen.length).toBe(before);
  });

  it('429 with Retry-After is retried after the time it asks for', async () => {
    const { run, results: rs } = await runOnce({ targets: [http('busy', '/busy')] }, [{ input: { n: 1 } }], {
      targetId: 'busy',
      maxRetries: 2,
    });
    expect(run.status).toBe('completed');
    expect(rs[0]).toMatchObject({ status: 'succeeded', attempt: 2, output: { ok: 2 } });
    const tries = endpoint.seen.filter((s) => s.path === '/busy');
    expect(tries).toHaveLength(2);
    // the engine's own backoff is 5 ms here (retryBaseMs): the 1 s wait is the server's Retry-After
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('500 is retried, then the item fails with the status; 400 is not retried', async () => {
    const { run, results: rs } = await runOnce(
      { targets: [http('down', '/down'), http('bad', '/bad')] },
      [{ input: { n: 1 } }],
      { targetId: 'down', maxRetries: 2 },
    );
    expect(run).toMatchObject({ status: 'failed', failedCount: 1 }); // every item failed
    expect(rs[0]).toMatchObject({ status: 'failed', attempt: 3 });
    expect(rs[0].error).toEqual({
      code: 'HTTP_500',
      message: `POST ${endpoint.url}/down answered 500: {"error":"internal error"}`,
      retryable: true,
    });
    expect(endpoint.seen.filter((s) => s.path === '/down')).toHaveLength(3);

    const bad = await runOnce({ targets: [http('bad', '/bad')] }, [{ input: { n: 1 } }], {
      targetId: 'bad',
      maxRetries: 2,
    });
    expect(bad.results[0]).toMatchObject({ status: 'failed', attempt: 1 });
    expect(bad.results[0].error).toMatchObject({ code: 'HTTP_400', retryable: false });
    expect(bad.results[0].error.message).toContain('question is required');
    expect(endpoint.seen.filter((s) => s.path === '/bad')).toHaveLength(1);
  });

  it('a response slower than timeoutMs is a retryable timeout', async () => {
    const { results: rs } = await runOnce({ targets: [http('slow', '/slow', { timeoutMs: 200 })] }, [{ input: 1 }], {
      targetId: 'slow',
      maxRetries: 1,
    });
    expect(rs[0]).toMatchObject({ status: 'failed', attempt: 2 });
    expect(rs[0].error).toEqual({
      code: 'TIMEOUT',
      message: `POST ${endpoint.url}/slow did not answer within 200 ms`,
      retryable: true,
    });
    expect(endpoint.seen.filter((s) => s.path === '/slow')).toHaveLength(2);
  });

  it('invalid JSON and a missing pointer fail the item without retrying', async () => {
    const { results: rs } = await runOnce({ targets: [http('garbled', '/garbled')] }, [{ input: 1 }], {
      targetId: 'garbled',
      maxRetries: 2,
    });
    expect(rs[0]).toMatchObject({ status: 'failed', attempt: 1 });
    expect(rs[0].error.code).toBe('INVALID_RESPONSE');
    expect(rs[0].error.message).toMatch(/answered 200 with a body that is not valid JSON .*"\{\\"answer\\": \\"Par"/);

    const nope = await runOnce(
      { targets: [http('bot', '/answer', { output: '/data/nope' })] },
      [{ input: { question: 'x' } }],
      {
        targetId: 'bot',
      },
    );
    expect(nope.results[0].error).toMatchObject({ code: 'OUTPUT_NOT_FOUND', retryable: false });
    expect(nope.results[0].error.message).toContain('the response has nothing at /data/nope (missing from /data/nope)');
  });

  it('a network error (nothing listening) is retried, then fails', async () => {
    const dead = await startEndpoint();
    await dead.close();
    const { results: rs } = await runOnce(
      { targets: [{ id: 'gone', type: 'http', url: `${dead.url}/answer` } as never] },
      [{ input: 1 }],
      { targetId: 'gone', maxRetries: 1 },
    );
    expect(rs[0]).toMatchObject({ status: 'failed', attempt: 2 });
    expect(rs[0].error).toMatchObject({ code: 'ECONNREFUSED', retryable: true });
  });

  it('resolves ${env:NAME} in headers at start-up; a missing variable stops the start naming it', async () => {
    process.env.ASSAY_TEST_BOT_TOKEN = 'tok-123';
    try {
      const { results: rs } = await runOnce(
        {
          targets: [
            http('auth', '/auth', {
              method: 'GET',
              headers: {
                Authorization: 'Bearer ${env:ASSAY_TEST_BOT_TOKEN}',
                'X-Api-Key': 'k-${env:ASSAY_TEST_BOT_TOKEN}',
              },
            }),
          ],
        },
        [{ input: 1 }],
        { targetId: 'auth' },
      );
      expect(rs[0].output).toEqual({ authorization: 'Bearer tok-123', key: 'k-tok-123' });
      expect(endpoint.seen.find((s) => s.path === '/auth')).toMatchObject({ method: 'GET', body: '' });
    } finally {
      delete process.env.ASSAY_TEST_BOT_TOKEN;
    }
    await expect(
      start({
        targets: [http('auth', '/auth', { headers: { authorization: 'Bearer ${env:ASSAY_TEST_UNSET_TOKEN}' } })],
      }),
    ).rejects.toThrow(
      "targets[0] 'auth' (http): headers['authorization'] uses ${env:ASSAY_TEST_UNSET_TOKEN}, but environment variable ASSAY_TEST_UNSET_TOKEN is not set",
    );
  });

  it('no API call can point it at another URL: the configured URL is the only one called', async () => {
    const assay = await start({ targets: [http('bot', '/answer', { output: '/data/answer' })] });
    const ds = await dataset(assay, [{ input: { question: 'q', url: 'http://127.0.0.1:1/steal' } }]);
    const r = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'bot',
      url: 'http://127.0.0.1:1/steal',
    });
    expect(r.status).toBe(400); // unknown trigger fields are rejected
    const ok = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'bot', metadata: { url: 'http://x/' } });
    const run = await waitRun(assay, ds, ok.json.id);
    expect(run.status).toBe('completed');
    expect((await results(assay, ds, ok.json.id))[0].output).toBe('Echo: q');
  });
});

describe('GET /api/targets', () => {
  it('lists every target with its kind; declared targets show method, URL and model, never headers', async () => {
    process.env.ASSAY_TEST_SECRET = 'very-secret';
    const fake = createOpenAICompatible({ name: 'fake', baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-hidden' });
    const assay = await start({
      targets: [
        { id: 'fn', type: 'agent', description: 'code', run: (x: unknown) => x },
        http('bot', '/answer?key=${env:ASSAY_TEST_SECRET}', {
          headers: { authorization: '${env:ASSAY_TEST_SECRET}' },
          output: '/data/answer',
          timeoutMs: 5000,
          maxConcurrency: 4,
        }),
        { id: 'gpt', type: 'model', model: fake.chatModel('m-1'), prompt: '{{question}}', temperature: 0 } as never,
      ],
      prices: { 'm-1': { inputPerMillion: 1, outputPerMillion: 2 } },
    });
    delete process.env.ASSAY_TEST_SECRET;
    const r = await call(assay, 'GET', '/targets');
    expect(r.status).toBe(200);
    expect(r.json.targets).toEqual([
      { id: 'fn', type: 'agent', kind: 'function', description: 'code', maxConcurrency: null },
      {
        id: 'bot',
        type: 'http',
        kind: 'http',
        description: `POST ${endpoint.url}/answer`,
        maxConcurrency: 4,
        details: { method: 'POST', url: `${endpoint.url}/answer`, timeoutMs: 5000, output: '/data/answer' },
      },
      {
        id: 'gpt',
        type: 'model',
        kind: 'model',
        description: 'prompt on fake.chat:m-1',
        maxConcurrency: null,
        details: { model: 'fake.chat:m-1', temperature: 0, price: { inputPerMillion: 1, outputPerMillion: 2 } },
      },
    ]);
    expect(JSON.stringify(r.json)).not.toMatch(/very-secret|sk-hidden|ENV/);
    const ds = await dataset(assay, [{ input: 1 }]);
    const mismatch = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'bot', targetType: 'model' });
    expect(mismatch.json.error).toMatchObject({ code: 'TARGET_TYPE_MISMATCH' });
  });
});

describe('model target and llm-judge against an OpenAI-compatible server', () => {
  let provider: FakeOpenAI;
  const answers: Record<string, string> = { France: 'Paris', Peru: 'Lima', Kenya: 'Mombasa' };
  beforeAll(async () => {
    provider = await startFakeOpenAI((req: ChatRequest) => {
      const user = textOf(req.messages.at(-1)!);
      if (req.model === 'judge-1') {
        // The judge: right when the output equals the expected answer; for Peru a malformed answer.
        const output = /## Output to grade\n(.*)/.exec(user)?.[1];
        const expected = /## Expected answer\n(.*)/.exec(user)?.[1];
        if (user.includes('Peru'))
          return { content: 'Looks right to me!', usage: { prompt_tokens: 50, completion_tokens: 4 } };
        const score = output === expected ? 1 : 0;
        return {
          content: JSON.stringify({ score, reason: score ? 'matches' : `expected ${expected}` }),
          usage: { prompt_tokens: 60, completion_tokens: 9 },
        };
      }
      if (user.includes('Atlantis')) return { status: 429, content: 'rate limited', headers: { 'retry-after': '0' } };
      const country = Object.keys(answers).find((c) => user.includes(c));
      return {
        content: country ? answers[country] : "I don't know",
        usage: { prompt_tokens: 100 + user.length, completion_tokens: 2 },
      };
    });
  });
  afterAll(() => provider.close());

  it('records tokens and cost per item and in the summary; the judge scores with a reason, a malformed answer is a score error', async () => {
    const openai = createOpenAICompatible({
      name: 'fake',
      baseURL: provider.baseURL,
      apiKey: 'test-key',
      supportsStructuredOutputs: true,
    });
    const config: AssayConfig = {
      targets: [
        {
          id: 'qa',
          type: 'model',
          model: openai.chatModel('small-1'),
          system: 'Answer with the city name only. Language: {{metadata.lang}}',
          prompt: 'What is the capital of {{country}}?',
          temperature: 0,
          maxOutputTokens: 20,
        } as never,
      ],
      scorers: [
        {
          id: 'judge',
          use: 'llm-judge',
          options: { model: openai.chatModel('judge-1'), rubric: 'The answer names the right capital.', maxRetries: 0 },
        },
      ],
      prices: { 'fake.chat:small-1': { inputPerMillion: 1000, outputPerMillion: 4000 } },
    };
    const assay = await start(config);
    const ds = (await call(assay, 'POST', '/datasets', { name: 'caps' })).json.id;
    await call(assay, 'POST', `/datasets/${ds}/items/batch`, {
      items: [
        { input: { country: 'France' }, groundTruth: 'Paris', metadata: { lang: 'en' } },
        { input: { country: 'Kenya' }, groundTruth: 'Nairobi', metadata: { lang: 'en' } },
        { input: { country: 'Peru' }, groundTruth: 'Lima', metadata: { lang: 'es' } },
      ],
    });
    const trig = await call(assay, 'POST', `/datasets/${ds}/runs`, {
      targetId: 'qa',
      scorerIds: ['judge', 'exact-match'],
    });
    const run = await waitRun(assay, ds, trig.json.id);
    expect(run.status).toBe('completed');
    const rs = await results(assay, ds, trig.json.id);
    const byCountry = Object.fromEntries(rs.map((r) => [r.input.country, r]));
    expect(byCountry.France.output).toBe('Paris');
    expect(byCountry.Kenya.output).toBe('Mombasa');

    // what the provider received: the rendered templates and settings
    const call0 = provider.requests.find(
      (r) => r.model === 'small-1' && textOf(r.messages.at(-1)!).includes('France'),
    )!;
    expect(call0.messages.map((m) => [m.role, textOf(m)])).toEqual([
      ['system', 'Answer with the city name only. Language: en'],
      ['user', 'What is the capital of France?'],
    ]);
    expect(call0).toMatchObject({ temperature: 0, max_tokens: 20 });

    // usage and cost: 1000 $/M input, 4000 $/M output
    const promptTokens = 100 + 'What is the capital of France?'.length;
    expect(byCountry.France.usage).toEqual({
      inputTokens: promptTokens,
      outputTokens: 2,
      costUsd: expect.closeTo((promptTokens * 1000 + 2 * 4000) / 1e6, 12),
    });
    const totalIn = rs.reduce((a, r) => a + r.usage.inputTokens, 0);
    expect(run.summary.usage).toMatchObject({ items: 3, inputTokens: totalIn, outputTokens: 6, meanOutputTokens: 2 });
    expect(run.summary.usage.costUsd).toBeCloseTo((totalIn * 1000 + 6 * 4000) / 1e6, 10);

    // the judge: a score and a reason; its structured-output request carries the schema
    const judge = (r: any) => r.scores.find((s: any) => s.scorerId === 'judge');
    expect(judge(byCountry.France)).toEqual({
      scorerId: 'judge',
      score: 1,
      reason: 'matches [judge: 60+9 tokens]',
      error: null,
      // What the judge call spent, stored with the score (no price for judge-1 here: no cost).
      usage: { inputTokens: 60, outputTokens: 9, costUsd: null },
    });
    expect(judge(byCountry.Kenya)).toMatchObject({ score: 0, reason: 'expected Nairobi [judge: 60+9 tokens]' });
    expect(judge(byCountry.Peru)).toEqual({
      scorerId: 'judge',
      score: null,
      reason: null,
      error: 'judge fake.chat:judge-1 gave no valid { score 0–1, reason } answer: "Looks right to me!"',
    });
    const judgeReq = provider.requests.find((r) => r.model === 'judge-1')!;
    expect(JSON.stringify(judgeReq.response_format)).toContain('"score"');
    const summary = run.summary.scorers.find((s: any) => s.scorerId === 'judge');
    expect(summary).toMatchObject({ count: 2, errors: 1, mean: 0.5 });
  });

  it('a provider 429 is retried by the engine, then fails with the status', async () => {
    const openai = createOpenAICompatible({ name: 'fake', baseURL: provider.baseURL, apiKey: 'k' });
    const before = provider.requests.length;
    const { results: rs } = await runOnce(
      {
        targets: [
          { id: 'qa', type: 'model', model: openai.chatModel('small-1'), prompt: 'Capital of {{country}}?' } as never,
        ],
      },
      [{ input: { country: 'Atlantis' } }],
      { targetId: 'qa', maxRetries: 2 },
    );
    expect(rs[0]).toMatchObject({ status: 'failed', attempt: 3, usage: null });
    expect(rs[0].error).toMatchObject({ code: 'HTTP_429', retryable: true });
    expect(rs[0].error.message).toContain('rate limited');
    expect(provider.requests.length - before).toBe(3);
  });
});

describe('scorer defaults, configured built-ins and the pass threshold', () => {
  const config: AssayConfig = {
    targets: [{ id: 'echo', type: 'function', run: (input: any) => input.answer }],
    scorers: [
      { id: 'close', use: 'levenshtein', options: { ignoreCase: true } },
      { id: 'fast', use: 'latency-under', options: { ms: 60_000 } },
    ],
  };
  const items = [
    { input: { answer: 'PARIS' }, groundTruth: 'Paris' },
    { input: { answer: 'Lina' }, groundTruth: 'Lima' },
    { input: { answer: 'Rome' }, groundTruth: 'Oslo' },
    { input: { answer: 'Tokyo' }, groundTruth: 'Tokyo' },
  ];

  it('a trigger without scorerIds uses the dataset defaults; explicit scorerIds win; passThreshold applies', async () => {
    const assay = await start(config);
    const created = await call(assay, 'POST', '/datasets', {
      name: 'caps',
      scorerIds: ['close', 'exact-match', 'fast'],
    });
    expect(created.json.scorerIds).toEqual(['close', 'exact-match', 'fast']);
    const ds = created.json.id;
    await call(assay, 'POST', `/datasets/${ds}/items/batch`, { items });

    const t1 = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', passThreshold: 0.7 });
    expect(t1.status).toBe(202);
    const run = await waitRun(assay, ds, t1.json.id);
    expect(run.scorerIds).toEqual(['close', 'exact-match', 'fast']);
    expect(run.summary.passThreshold).toBe(0.7);
    const byId = Object.fromEntries(run.summary.scorers.map((s: any) => [s.scorerId, s]));
    // close: PARIS/Paris 1, Lina/Lima 0.75, Rome/Oslo 0, Tokyo 1 → passes at 0.7: 3 of 4
    expect(byId.close).toMatchObject({ count: 4, errors: 0, median: 0.875, passRate: 0.75 });
    expect(byId.close.mean).toBeCloseTo(2.75 / 4, 10);
    expect(byId['exact-match']).toMatchObject({ mean: 0.25, median: 0, passRate: 0.25 });
    expect(byId.fast).toMatchObject({ mean: 1, passRate: 1 });
    expect(run.summary.latencyMs).toMatchObject({
      p50: expect.any(Number),
      p95: expect.any(Number),
      max: expect.any(Number),
    });

    const t2 = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: ['contains'] });
    expect((await waitRun(assay, ds, t2.json.id)).scorerIds).toEqual(['contains']);
    const t3 = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: [] });
    expect((await waitRun(assay, ds, t3.json.id)).scorerIds).toEqual([]);

    const scorers = (await call(assay, 'GET', '/scorers')).json.scorers;
    expect(scorers).toContainEqual({
      id: 'close',
      description: 'Similarity 1 − edit distance / longer length, output vs. ground truth (ignoreCase: true)',
      builtIn: false,
      use: 'levenshtein',
      kind: 'quality',
    });
  });

  it('an unknown default or explicit scorer is a 400 that names it', async () => {
    const assay = await start(config);
    const ds = (await call(assay, 'POST', '/datasets', { name: 'old', scorerIds: ['close', 'bleu'] })).json.id;
    await call(assay, 'POST', `/datasets/${ds}/items/batch`, { items });
    const r = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo' });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({
      code: 'UNKNOWN_SCORER',
      message: "unknown scorer 'bleu' (a default scorer of dataset 'old')",
      details: { scorerIds: ['bleu'] },
    });
    const r2 = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo', scorerIds: ['close', 'rouge'] });
    expect(r2.status).toBe(400);
    expect(r2.json.error).toMatchObject({ code: 'UNKNOWN_SCORER', message: "unknown scorer 'rouge'" });
    const fixed = await call(assay, 'PATCH', `/datasets/${ds}`, { scorerIds: ['close'] });
    expect(fixed.json.scorerIds).toEqual(['close']);
    const r3 = await call(assay, 'POST', `/datasets/${ds}/runs`, { targetId: 'echo' });
    expect(r3.status).toBe(202);
  });
});
