/**
 * The model-call cache through the real engine: a local server speaking the OpenAI protocol
 * stands in for the provider and counts every request. A second re-score with an LLM judge sends
 * nothing and its verdicts' cost counts as saved; a model target's stored answers are reused by a
 * rerun, by another target with the same declaration, and by items whose unused fields changed;
 * any parameter that changes the request (temperature, the repetition) misses. The same on
 * PostgreSQL, and with the built-ins in worker threads (a config file, as `assay serve` loads it).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { AssayConfig } from '@assay/core';
import { type Assay, type AssayOptions, createAssay } from '@assay/runtime';
import {
  createTestDatabase,
  deleteKeys,
  pgAvailable,
  REDIS_URL,
  redisAvailable,
  type ServiceCheck,
} from '@assay/testkit/services';
import { describeWithService } from '@assay/testkit/vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChatRequest, type FakeOpenAI, startFakeOpenAI, textOf } from '../../core/test/fake-openai.js';
import { call, dataset, results, waitRun } from './helpers.js';

let provider: FakeOpenAI;
beforeAll(async () => {
  provider = await startFakeOpenAI((req: ChatRequest) => {
    const user = textOf(req.messages.at(-1)!);
    if (req.model === 'judge-1') {
      const output = /## Output to grade\n(.*)/.exec(user)?.[1];
      const expected = /## Expected answer\n(.*)/.exec(user)?.[1];
      const score = output === expected ? 1 : 0;
      return {
        content: JSON.stringify({ score, reason: score ? 'matches' : `expected ${expected}` }),
        usage: { prompt_tokens: 60, completion_tokens: 10 },
      };
    }
    return { content: `answer to ${user}`, usage: { prompt_tokens: 100, completion_tokens: 2 } };
  });
});
afterAll(() => provider.close());

/** Requests the provider got while `fn` ran, by model. */
async function requestsDuring<T>(
  fn: () => Promise<T>,
): Promise<{ value: T; model: number; judge: number; sent: ChatRequest[] }> {
  const before = provider.requests.length;
  const value = await fn();
  const sent = provider.requests.slice(before);
  return {
    value,
    sent,
    model: sent.filter((r) => r.model === 'small-1').length,
    judge: sent.filter((r) => r.model === 'judge-1').length,
  };
}

// A judge call costs (60 + 10) × 1000 / 1e6 = $0.07; a model call (100 × 1000 + 2 × 4000) / 1e6 = $0.108.
const PRICES = {
  'fake.chat:small-1': { inputPerMillion: 1000, outputPerMillion: 4000 },
  'fake.chat:judge-1': { inputPerMillion: 1000, outputPerMillion: 1000 },
};
const JUDGE_COST = 0.07;
const MODEL_COST = 0.108;

function configOf(): AssayConfig {
  const openai = createOpenAICompatible({
    name: 'fake',
    baseURL: provider.baseURL,
    apiKey: 'k',
    supportsStructuredOutputs: true,
  });
  const model = (id: string, extra: Record<string, unknown> = {}) =>
    ({ id, type: 'model', model: openai.chatModel('small-1'), prompt: 'Q: {{q}}', temperature: 0, ...extra }) as never;
  const judge = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    use: 'llm-judge',
    options: { model: openai.chatModel('judge-1'), rubric: 'Right answer?', maxRetries: 0, ...extra },
  });
  return {
    targets: [
      model('qa'),
      model('qa-copy'),
      model('qa-hot', { temperature: 0.7 }),
      model('qa-seed-1', { seed: 1 }),
      model('qa-seed-2', { seed: 2 }),
      { id: 'echo', type: 'function', run: async (input: { answer: string }) => input.answer },
    ],
    scorers: [judge('judge'), judge('judge-hot', { temperature: 0.7 })],
    prices: PRICES,
  };
}

/** Triggers a run (or a re-score of `rescore`) and waits for it; returns the run and its results by item. */
async function finish(assay: Assay, ds: string, body: Record<string, unknown>, rescore?: string) {
  const path = rescore ? `/datasets/${ds}/runs/${rescore}/rescore` : `/datasets/${ds}/runs`;
  const trig = await call(assay, 'POST', path, body);
  expect(trig.status, JSON.stringify(trig.json)).toBe(202);
  const run = await waitRun(assay, ds, trig.json.runId ?? trig.json.id);
  expect(run.status, JSON.stringify(run.error)).toBe('completed');
  const rs = await results(assay, ds, run.id);
  expect(rs).toHaveLength(run.totalItems);
  return {
    run,
    rs: rs.sort((a, b) => (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : a.repetition - b.repetition)),
  };
}

const scoresOf = (rs: any[], scorerId = 'judge') =>
  rs.map((r) => r.scores.find((s: any) => s.scorerId === scorerId).score);

interface Place {
  open(config: AssayConfig, extra?: Partial<AssayOptions>): Promise<Assay>;
}

const opened: Assay[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const a of opened.splice(0)) await a.close(2000);
  for (const c of cleanups.splice(0).reverse()) await c();
});
const openAssay = async (options: AssayOptions) => {
  const assay = await createAssay({ pollMs: 20, retryBaseMs: 5, cancelPollMs: 50, ...options });
  opened.push(assay);
  return assay;
};
const sqlitePlace = (): Place => {
  const dataDir = mkdtempSync(join(tmpdir(), 'assay-calls-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  return { open: (config, extra) => openAssay({ config, dataDir, ...extra }) };
};

const DEPLOYMENTS: { name: string; requires?: () => Promise<ServiceCheck>; place(): Promise<Place> }[] = [
  { name: 'sqlite', place: async () => sqlitePlace() },
  {
    name: 'postgres',
    requires: async () => {
      const [pg, redis] = await Promise.all([pgAvailable(), redisAvailable()]);
      return !pg.available ? pg : redis;
    },
    async place() {
      const db = await createTestDatabase();
      const redisPrefix = `assay-test-calls-${randomBytes(4).toString('hex')}`;
      cleanups.push(async () => {
        await deleteKeys(redisPrefix);
        await db.drop();
      });
      return {
        open: (config, extra) => openAssay({ config, databaseUrl: db.url, redisUrl: REDIS_URL, redisPrefix, ...extra }),
      };
    },
  },
];

const items = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    input: { q: `question ${i}`, answer: `A${i}` },
    groundTruth: i % 2 === 0 ? `A${i}` : 'other',
  }));

for (const d of DEPLOYMENTS) {
  const describeIt = d.requires ? describeWithService(await d.requires()) : describe;
  describeIt(`model-call cache: ${d.name}`, () => {
    it('a second re-score with llm-judge sends no request; its verdicts are the stored ones, their cost saved', async () => {
      const assay = await (await d.place()).open(configOf());
      const ds = await dataset(assay, items(6));
      const source = await requestsDuring(() => finish(assay, ds, { targetId: 'echo', scorerIds: ['exact-match'] }));
      expect([source.model, source.judge]).toEqual([0, 0]);

      const first = await requestsDuring(() => finish(assay, ds, { scorerIds: ['judge'] }, source.value.run.id));
      expect(first.judge).toBe(6);
      expect(scoresOf(first.value.rs)).toEqual([1, 0, 1, 0, 1, 0]);
      expect(first.value.run.summary.cache).toMatchObject({ mode: 'read', hits: 6, misses: 0 });
      expect(first.value.run.summary.cache.costSpentUsd).toBeCloseTo(6 * JUDGE_COST, 9);
      expect(first.value.run.summary.cache.costSavedUsd).toBe(0);
      expect(first.value.run.summary.cache.modelCalls).toEqual({ made: 6, reused: 0 });
      // Each verdict keeps what its judge call spent; a stored verdict spent nothing now.
      expect(first.value.rs[0].scores[0].usage).toMatchObject({ inputTokens: 60, outputTokens: 10 });
      expect(first.value.rs[0].scores[0].usage.costUsd).toBeCloseTo(JUDGE_COST, 9);
      expect(first.value.run.summary.scorers[0].usage).toMatchObject({ inputTokens: 360, outputTokens: 60 });
      expect(first.value.run.summary.scorers[0].usage.costUsd).toBeCloseTo(6 * JUDGE_COST, 9);

      const second = await requestsDuring(() => finish(assay, ds, { scorerIds: ['judge'] }, source.value.run.id));
      expect(second.judge).toBe(0);
      expect(scoresOf(second.value.rs)).toEqual(scoresOf(first.value.rs));
      const firstId = first.value.run.id;
      for (const r of second.value.rs)
        expect(r.scores[0].reason).toMatch(
          new RegExp(`cached from ${firstId}, 60\\+10 tokens, \\$0\\.070000 not spent`),
        );
      expect(second.value.run.summary.cache.costSpentUsd).toBe(0);
      expect(second.value.run.summary.cache.costSavedUsd).toBeCloseTo(6 * JUDGE_COST, 9);
      expect(second.value.run.summary.cache.modelCalls).toEqual({ made: 0, reused: 6 });
      expect(second.value.rs.every((r) => r.scores[0].usage === undefined)).toBe(true);

      // Another temperature is another request: every verdict is asked for again.
      const hot = await requestsDuring(() => finish(assay, ds, { scorerIds: ['judge-hot'] }, source.value.run.id));
      expect(hot.judge).toBe(6);
    });

    it('a model target rerun from the cache sends no request, nor its judge; another temperature misses', async () => {
      const assay = await (await d.place()).open(configOf());
      const ds = await dataset(assay, items(4));
      const body = { targetId: 'qa', scorerIds: ['judge'], cache: 'readwrite' };
      const first = await requestsDuring(() => finish(assay, ds, body));
      expect([first.model, first.judge]).toEqual([4, 4]);
      expect(first.value.rs.map((r) => r.output)).toEqual([0, 1, 2, 3].map((i) => `answer to Q: question ${i}`));

      const again = await requestsDuring(() => finish(assay, ds, body));
      expect([again.model, again.judge]).toEqual([0, 0]);
      expect(again.value.rs.map((r) => r.output)).toEqual(first.value.rs.map((r) => r.output));
      expect(again.value.run.summary.cache).toMatchObject({ hits: 4, misses: 0, costSpentUsd: 0 });
      expect(again.value.run.summary.cache.costSavedUsd).toBeCloseTo(4 * (MODEL_COST + JUDGE_COST), 9);

      // Another target id with the same declaration misses the output cache, not its model calls.
      const copy = await requestsDuring(() => finish(assay, ds, { ...body, targetId: 'qa-copy' }));
      expect([copy.model, copy.judge]).toEqual([0, 0]);
      expect(copy.value.rs.every((r) => r.cached && r.cachedFrom === first.value.run.id)).toBe(true);
      expect(copy.value.rs.map((r) => r.usage)).toEqual(first.value.rs.map((r) => r.usage));

      const hot = await requestsDuring(() => finish(assay, ds, { ...body, targetId: 'qa-hot', scorerIds: [] }));
      expect(hot.model).toBe(4);
      expect(hot.value.rs.every((r) => !r.cached)).toBe(true);
    });
  });
}

describe('model-call cache: sqlite', () => {
  it('items whose unused fields changed reuse the stored answers; each repetition is a sample of its own', async () => {
    const assay = await sqlitePlace().open(configOf());
    const ds = await dataset(assay, items(3));
    const body = { targetId: 'qa', scorerIds: [], cache: 'readwrite' };
    const first = await requestsDuring(() => finish(assay, ds, body));
    expect(first.model).toBe(3);

    // The prompt reads only `q`: a changed `answer` is a new input (the output cache misses) but the same request.
    const changed = await dataset(
      assay,
      items(3).map((x) => ({ ...x, input: { ...x.input, answer: 'changed' } })),
    );
    const reuse = await requestsDuring(() => finish(assay, changed, body));
    expect(reuse.model).toBe(0);
    expect(reuse.value.rs.map((r) => r.output)).toEqual(first.value.rs.map((r) => r.output));
    expect(reuse.value.run.summary.cache).toMatchObject({ hits: 3, misses: 0 });

    // Repetition 0 is stored; repetitions 1 and 2 are new samples, stored in their turn.
    const reps = await requestsDuring(() => finish(assay, ds, { ...body, repetitions: 3 }));
    expect(reps.model).toBe(6);
    expect(reps.value.rs.filter((r) => r.cached).map((r) => r.repetition)).toEqual([0, 0, 0]);
    const repsAgain = await requestsDuring(() => finish(assay, ds, { ...body, repetitions: 3 }));
    expect(repsAgain.model).toBe(0);
  });

  it("a model target's seed is sent and keys both caches: another seed misses, the same seed hits", async () => {
    const assay = await sqlitePlace().open(configOf());
    const ds = await dataset(assay, items(3));
    const run = (targetId: string) =>
      requestsDuring(() => finish(assay, ds, { targetId, scorerIds: [], cache: 'readwrite' }));
    const one = await run('qa-seed-1');
    expect(one.sent.map((r) => r.seed)).toEqual([1, 1, 1]);
    // The same declaration but the seed: the output cache misses (another fingerprint), and so do its model calls.
    const two = await run('qa-seed-2');
    expect(two.sent.map((r) => r.seed)).toEqual([2, 2, 2]);
    expect(two.value.rs.every((r) => !r.cached)).toBe(true);
    const plain = await run('qa');
    expect(plain.sent.map((r) => r.seed)).toEqual([undefined, undefined, undefined]);
    const again = await run('qa-seed-1');
    expect(again.model).toBe(0);
    expect(again.value.rs.every((r) => r.cached && r.cachedFrom === one.value.run.id)).toBe(true);
  });

  it("a re-score's cache option: 'off' asks the judge again and stores nothing, 'write' stores, 'read' reuses", async () => {
    const assay = await sqlitePlace().open(configOf());
    const ds = await dataset(assay, items(3));
    const source = await finish(assay, ds, { targetId: 'echo', scorerIds: [] });
    const rescore = (cache?: string) =>
      requestsDuring(() => finish(assay, ds, { scorerIds: ['judge'], ...(cache ? { cache } : {}) }, source.run.id));
    const off = await rescore('off');
    expect(off.judge).toBe(3);
    expect(off.value.run.options.cache).toBe('off');
    expect(off.value.run.summary.cache.modelCalls).toEqual({ made: 3, reused: 0 });
    expect((await rescore('read')).judge).toBe(3); // 'off' stored nothing
    expect((await rescore('write')).judge).toBe(3);
    expect((await rescore('off')).judge).toBe(3); // stored now, but not read
    const read = await rescore('read');
    expect(read.judge).toBe(0);
    expect(read.value.run.summary.cache.modelCalls).toEqual({ made: 0, reused: 3 });
    expect((await rescore()).judge).toBe(0); // the default reads and writes
    const bad = await call(assay, 'POST', `/datasets/${ds}/runs/${source.run.id}/rescore`, {
      scorerIds: ['judge'],
      cache: 'sometimes',
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_ERROR');
  });

  it("the 'write' mode stores without reading; 'read' reads without storing; 'off' neither", async () => {
    const assay = await sqlitePlace().open(configOf());
    const ds = await dataset(assay, items(2));
    const run = (cache: string) =>
      requestsDuring(() => finish(assay, ds, { targetId: 'qa', scorerIds: ['judge'], cache }));
    expect(await run('off').then((r) => [r.model, r.judge])).toEqual([2, 2]);
    expect(await run('read').then((r) => [r.model, r.judge])).toEqual([2, 2]);
    expect(await run('write').then((r) => [r.model, r.judge])).toEqual([2, 2]);
    expect(await run('write').then((r) => [r.model, r.judge])).toEqual([2, 2]);
    expect(await run('read').then((r) => [r.model, r.judge])).toEqual([0, 0]);
  });
});

describe('model-call cache: built-ins in worker threads', () => {
  it('a second re-score with llm-judge in worker threads sends no request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'assay-calls-threads-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const configPath = join(dir, 'assay.config.mjs');
    writeFileSync(
      configPath,
      `import { createOpenAICompatible } from ${JSON.stringify(import.meta.resolve('@ai-sdk/openai-compatible'))};
const openai = createOpenAICompatible({ name: 'fake', baseURL: ${JSON.stringify(provider.baseURL)}, apiKey: 'k', supportsStructuredOutputs: true });
export default {
  targets: [
    { id: 'qa', type: 'model', model: openai.chatModel('small-1'), prompt: 'Q: {{q}}', temperature: 0 },
    { id: 'echo', type: 'function', run: async (input) => input.answer },
  ],
  scorers: [{ id: 'judge', use: 'llm-judge', options: { model: openai.chatModel('judge-1'), rubric: 'Right answer?', maxRetries: 0 } }],
  prices: ${JSON.stringify(PRICES)},
};
`,
    );
    const config = (await import(configPath)).default as AssayConfig;
    const assay = await sqlitePlace().open(config, { configPath, threads: 2 });
    const ds = await dataset(assay, items(5));
    const source = await finish(assay, ds, { targetId: 'echo', scorerIds: [] });
    const first = await requestsDuring(() => finish(assay, ds, { scorerIds: ['judge'] }, source.run.id));
    expect(first.judge).toBe(5);
    const second = await requestsDuring(() => finish(assay, ds, { scorerIds: ['judge'] }, source.run.id));
    expect(second.judge).toBe(0);
    expect(scoresOf(second.value.rs)).toEqual([1, 0, 1, 0, 1]);
    expect(second.value.run.summary.cache.costSavedUsd).toBeCloseTo(5 * JUDGE_COST, 9);

    // A model target in the threads: its answers are stored with the outcomes, then reused.
    const body = { targetId: 'qa', scorerIds: ['judge'], cache: 'readwrite' };
    const run = await requestsDuring(() => finish(assay, ds, body));
    expect([run.model, run.judge]).toEqual([5, 5]);
    const changed = await dataset(
      assay,
      items(5).map((x) => ({ ...x, input: { ...x.input, unused: true } })),
    );
    const rerun = await requestsDuring(() => finish(assay, changed, body));
    // The target's answers are reused; the judge sees a different input, so it is asked again.
    expect([rerun.model, rerun.judge]).toEqual([0, 5]);
  });
});
