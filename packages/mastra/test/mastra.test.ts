import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Assay, createAssay } from '@assay/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, lastUser, startFakeOpenAI } from '../../core/test/fake-openai.js';
import { fromMastra } from '../src/index.js';
import { buildMastra, type HoldProbe } from './fixture.js';
import { installMastra, type MastraProject } from './mastra-install.js';

/**
 * The real @mastra/core (installed into a temp project) through the real engine: an embedded
 * Assay on a fresh SQLite file, the config built by `fromMastra`, runs started and read over the
 * HTTP API in-process. The model is a local OpenAI-compatible server.
 */
let project: MastraProject;
let fake: FakeOpenAI;
let assay: Assay;
let dataDir: string;
/** Resolves the model's hanging answer (the cancel test) once the test is over. */
let release = () => {};
/** What the `hold` workflow's waiting step saw (the workflow cancel test). */
const hold: HoldProbe = { started: 0, aborted: 0 };

beforeAll(async () => {
  project = installMastra();
  fake = await startFakeOpenAI((req) => {
    if (req.model === 'judge-model')
      return { content: '{"score": 0.8}', usage: { prompt_tokens: 40, completion_tokens: 5 } };
    const last = req.messages[req.messages.length - 1];
    if (last.role === 'tool')
      return { content: 'It is sunny in Paris.', usage: { prompt_tokens: 30, completion_tokens: 6 } };
    const q = lastUser(req);
    if (q.includes('refuse')) return { status: 400, content: 'this prompt is refused' };
    if (q.includes('hang')) return new Promise((ok) => (release = () => ok({ content: 'late' })));
    if (q.includes('weather'))
      return {
        toolCalls: [{ name: 'weather', arguments: { city: 'Paris' } }],
        usage: { prompt_tokens: 20, completion_tokens: 4 },
      };
    return { content: `You said: ${q}`, usage: { prompt_tokens: 7, completion_tokens: 3 } };
  });
  const mastra = await buildMastra(project, fake.baseURL, hold);
  const agentOnly = fromMastra(mastra, { agents: ['helper'], workflows: [], scorers: [] });
  const full = fromMastra(mastra, { agents: ['helper'], workflows: [], scorers: [], output: 'full' });
  const all = fromMastra(mastra);
  dataDir = mkdtempSync(join(tmpdir(), 'assay-mastra-data-'));
  assay = await createAssay({
    config: {
      targets: [
        ...all.targets,
        { ...full.targets[0], id: 'helper-full' },
        { ...agentOnly.targets[0], id: 'helper-text' },
      ],
      scorers: all.scorers,
    },
    dataDir,
    pollMs: 20,
    retryBaseMs: 5,
    cancelPollMs: 50,
  });
}, 300_000);

afterAll(async () => {
  release();
  await assay?.close(2000);
  await fake?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  project?.remove();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await assay.app.request(`/api${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function until<T>(fn: () => Promise<T>, pred: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (pred(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met in ${ms} ms; last ${JSON.stringify(v)?.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A dataset of `items`, a run of `targetId` with `scorerIds` on it, and the run once it has started. */
async function startRun(
  items: { input: unknown; groundTruth?: unknown }[],
  targetId: string,
  scorerIds: string[] = [],
) {
  const ds = (await call('POST', '/datasets', { name: `mastra-${targetId}` })).json.id as string;
  expect((await call('POST', `/datasets/${ds}/items/batch`, { items })).status).toBe(201);
  const trig = await call('POST', `/datasets/${ds}/runs`, { targetId, scorerIds });
  expect(trig.status, JSON.stringify(trig.json)).toBe(202);
  return { ds, runId: trig.json.id ?? trig.json.runId };
}

const FINAL = ['completed', 'failed', 'cancelled'];
const waitRun = (ds: string, runId: string) =>
  until(
    async () => (await call('GET', `/datasets/${ds}/runs/${runId}`)).json,
    (r) => FINAL.includes(r.status),
  );
async function runToEnd(
  items: { input: unknown; groundTruth?: unknown }[],
  targetId: string,
  scorerIds: string[] = [],
) {
  const { ds, runId } = await startRun(items, targetId, scorerIds);
  const run = await waitRun(ds, runId);
  const results = (await call('GET', `/datasets/${ds}/runs/${runId}/results?perPage=1000`)).json.results as any[];
  return {
    run,
    results,
    byInput: (input: unknown) => results.find((r) => JSON.stringify(r.input) === JSON.stringify(input)),
  };
}

describe('fromMastra with the real @mastra/core', () => {
  it('exposes every agent, workflow and scorer by registration key, and names an unknown one', async () => {
    const { json } = await call('GET', '/targets');
    const ids = (json.targets ?? json).map((t: any) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['helper', 'calc']));
    const mastra = await buildMastra(project, fake.baseURL);
    expect(() => fromMastra(mastra, { agents: ['nope'] })).toThrow(/no agent 'nope' \(registered: helper\)/);
  });

  it('runs an agent with a tool call: the answer, the tool call and the tokens of both model calls', async () => {
    const before = fake.requests.length;
    const { run, results } = await runToEnd([{ input: 'what is the weather in Paris?' }], 'helper-full', ['has-sunny']);
    expect(run.status).toBe('completed');
    const [r] = results;
    expect(r.status).toBe('succeeded');
    expect(r.output.text).toBe('It is sunny in Paris.');
    expect(r.output.toolCalls).toEqual([{ id: expect.any(String), name: 'weather', args: { city: 'Paris' } }]);
    expect(r.output.finishReason).toBe('stop');
    // No observability is configured on this Mastra instance, so Mastra makes no trace.
    expect(r.output.traceId).toBeNull();
    expect(r.output.runId).toEqual(expect.any(String));
    expect(r.usage).toMatchObject({ inputTokens: 50, outputTokens: 10 });
    expect(r.scores).toEqual([{ scorerId: 'has-sunny', score: 1, reason: 'mentions sunny', error: null }]);
    // Two model calls: the tool call, then the answer with the tool's result in the messages.
    const mine = fake.requests.slice(before);
    expect(mine).toHaveLength(2);
    expect(mine[0].tools?.map((t) => t.function.name)).toEqual(['weather']);
    expect(JSON.stringify(mine[1].messages)).toContain('sunny');
  });

  it("stores a Mastra judge scorer's score with what its judge spent (Mastra's judge usage)", async () => {
    const before = fake.requests.length;
    const { run, results } = await runToEnd([{ input: 'hello judge' }], 'helper-text', ['graded', 'has-sunny']);
    const [r] = results;
    expect(r.status).toBe('succeeded');
    const graded = r.scores.find((s: any) => s.scorerId === 'graded');
    expect(graded).toMatchObject({ score: 0.8, error: null });
    expect(graded.usage).toEqual({ inputTokens: 40, outputTokens: 5, costUsd: null });
    // A scorer without a judge reports nothing.
    expect(r.scores.find((s: any) => s.scorerId === 'has-sunny').usage).toBeUndefined();
    expect(fake.requests.slice(before).filter((q) => q.model === 'judge-model')).toHaveLength(1);
    // The run's summary adds it up per scorer.
    const summary = (s: string) => run.summary.scorers.find((x: any) => x.scorerId === s);
    expect(summary('graded').usage).toEqual({ inputTokens: 40, outputTokens: 5, costUsd: null });
    expect(summary('has-sunny').usage).toBeUndefined();
  });

  it('passes messages and per-item options: maxSteps 1 stops after the tool call', async () => {
    const messages = [{ role: 'user', content: 'weather please' }];
    const { results, byInput } = await runToEnd(
      [{ input: 'hello there' }, { input: { messages, options: { maxSteps: 1 } } }],
      'helper-text',
      ['has-sunny', 'broken'],
    );
    expect(results).toHaveLength(2);
    const plain = byInput('hello there');
    expect(plain.output).toBe('You said: hello there');
    expect(plain.usage).toMatchObject({ inputTokens: 7, outputTokens: 3 });
    expect(plain.scores.find((s: any) => s.scorerId === 'has-sunny')).toMatchObject({ score: 0, reason: 'no sunny' });
    // A throwing Mastra scorer is a score error, not an item error.
    expect(plain.scores.find((s: any) => s.scorerId === 'broken')).toMatchObject({ score: null });
    expect(plain.scores.find((s: any) => s.scorerId === 'broken').error).toMatch(/judge unavailable/);
    const stepped = byInput({ messages, options: { maxSteps: 1 } });
    expect(stepped.status).toBe('succeeded');
    expect(stepped.output).toBe('');
    expect(stepped.usage).toMatchObject({ inputTokens: 20, outputTokens: 4 });
    // With the text output, the tool calls and Mastra's run id are kept beside it, as the result's trace.
    expect(stepped.trace).toEqual({
      toolCalls: [{ id: expect.any(String), name: 'weather', args: { city: 'Paris' } }],
      traceId: null,
      runId: expect.any(String),
      finishReason: 'tool-calls',
    });
    expect(plain.trace).toMatchObject({ toolCalls: [], finishReason: 'stop' });
  });

  it('a provider error fails the item with its message', async () => {
    const { run, results } = await runToEnd([{ input: 'please refuse' }], 'helper');
    // Every item failed, so the run did.
    expect(run.status).toBe('failed');
    expect(results[0].status).toBe('failed');
    expect(results[0].error.message).toMatch(/this prompt is refused/);
    expect(results[0].error.retryable).toBe(false);
  });

  it('runs a workflow: success, a failed step, suspended, and resumed with resumeData', async () => {
    const { run, byInput } = await runToEnd(
      [
        { input: { n: 3 } },
        { input: { n: -1 } },
        { input: { n: 200 } },
        { input: { inputData: { n: 300 }, resumeData: { ok: false } } },
      ],
      'calc',
    );
    expect(run.status).toBe('completed');
    expect(byInput({ n: 3 })).toMatchObject({ status: 'succeeded', output: { n: 6, ok: true } });
    // Beside the output: Mastra's run id and every step's status.
    expect(byInput({ n: 3 }).trace).toMatchObject({
      runId: expect.any(String),
      status: 'success',
      steps: expect.objectContaining({ double: 'success' }),
    });
    const failed = byInput({ n: -1 });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'WORKFLOW_FAILED', retryable: false });
    expect(failed.error.message).toMatch(/at step 'double': cannot double a negative number \(-1\)/);
    const suspended = byInput({ n: 200 });
    expect(suspended.status).toBe('failed');
    expect(suspended.error).toMatchObject({ code: 'WORKFLOW_SUSPENDED', retryable: false });
    expect(suspended.error.message).toMatch(/suspended at step 'approve'.*n=400 needs approval/);
    expect(byInput({ inputData: { n: 300 }, resumeData: { ok: false } })).toMatchObject({
      status: 'succeeded',
      output: { n: 600, ok: false },
    });
  });

  it('a cancelled run aborts the agent’s model call through its abort signal', async () => {
    const abortedBefore = fake.aborted;
    const requestsBefore = fake.requests.length;
    const { ds, runId } = await startRun([{ input: 'hang on' }], 'helper');
    // The agent's model call is in flight (the fake model holds its answer).
    await until(
      async () => fake.requests.length,
      (n) => n > requestsBefore,
    );
    expect((await call('POST', `/datasets/${ds}/runs/${runId}/cancel`)).status).toBe(202);
    const run = await waitRun(ds, runId);
    expect(run.status).toBe('cancelled');
    // The HTTP request to the model was dropped by the client: the signal reached the AI SDK call.
    await until(
      async () => fake.aborted,
      (n) => n > abortedBefore,
    );
    const results = (await call('GET', `/datasets/${ds}/runs/${runId}/results?perPage=10`)).json.results as any[];
    expect(results.every((r) => r.status !== 'succeeded')).toBe(true);
  });

  it('a cancelled run cancels the Mastra workflow run: the waiting step’s abortSignal fires', async () => {
    const startedBefore = hold.started;
    const abortedBefore = hold.aborted;
    const { ds, runId } = await startRun([{ input: { n: 1 } }], 'hold');
    // The step is running; it returns only when its abortSignal fires (or after a minute).
    await until(
      async () => hold.started,
      (n) => n > startedBefore,
    );
    expect(hold.aborted).toBe(abortedBefore);
    expect((await call('POST', `/datasets/${ds}/runs/${runId}/cancel`)).status).toBe(202);
    const run = await waitRun(ds, runId);
    expect(run.status).toBe('cancelled');
    // Assay's cancel reached Mastra's run: `run.cancel()` aborted the signal the step waits on.
    await until(
      async () => hold.aborted,
      (n) => n > abortedBefore,
      10_000,
    );
    const results = (await call('GET', `/datasets/${ds}/runs/${runId}/results?perPage=10`)).json.results as any[];
    expect(results.every((r) => r.status !== 'succeeded')).toBe(true);
  });

  it('a workflow target whose signal aborted before the run started does not start it', async () => {
    const probe: HoldProbe = { started: 0, aborted: 0 };
    const mastra = await buildMastra(project, fake.baseURL, probe);
    const [target] = fromMastra(mastra, { agents: [], workflows: ['hold'], scorers: [] }).targets;
    const reason = new Error('cancelled before the run started');
    // An abort listener added to an aborted signal never fires, so only a check before `start`
    // keeps the step from running (here for a minute).
    const ctx = {
      signal: AbortSignal.abort(reason),
      item: { id: 'item', groundTruth: null, metadata: null },
      runId: 'run',
      attempt: 1,
      repetition: 1,
      reportUsage() {},
      reportTrace() {},
    };
    await expect(target.run({ n: 1 }, ctx)).rejects.toBe(reason);
    expect(probe.started).toBe(0);
  });
});
