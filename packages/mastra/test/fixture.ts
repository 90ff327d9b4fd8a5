import type { MastraProject } from './mastra-install.js';

/** What the `hold` workflow's step saw: how often it started, and how often its abortSignal fired. */
export interface HoldProbe {
  started: number;
  aborted: number;
}

/** How long `hold`'s step waits when nothing aborts it (long past any test's wait for the abort). */
const HOLD_MS = 60_000;

/**
 * A Mastra instance as a user would write it, built from the real @mastra/core of `project`:
 * - agent `helper` on an AI SDK OpenAI-compatible model at `baseURL`, with a `weather` tool;
 * - workflow `calc`: `double` (fails on a negative n), then `approve` (suspends when n > 100
 *   until resumed with `{ ok }`);
 * - workflow `hold`: one step `wait` that waits until its `abortSignal` fires (or a minute),
 *   counting both in `probe`;
 * - scorers `has-sunny` (1 when the output mentions "sunny", with a reason), `broken` (throws) and
 *   `graded` (an LLM judge on the model `judge-model`: its `generateScore` step asks the model).
 */
export async function buildMastra(
  project: MastraProject,
  baseURL: string,
  probe: HoldProbe = { started: 0, aborted: 0 },
) {
  const { Mastra } = await project.load('@mastra/core');
  const { Agent } = await project.load('@mastra/core/agent');
  const { createTool } = await project.load('@mastra/core/tools');
  const { createWorkflow, createStep } = await project.load('@mastra/core/workflows');
  const { createScorer } = await project.load('@mastra/core/evals');
  const { createOpenAICompatible } = await project.load('@ai-sdk/openai-compatible');
  const { z } = await project.load('zod');

  const provider = createOpenAICompatible({ name: 'fake', baseURL, apiKey: 'test' });
  const weather = createTool({
    id: 'weather',
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async (input: { city: string }) => ({ city: input.city, sky: 'sunny' }),
  });
  const helper = new Agent({
    id: 'helper',
    name: 'Helper',
    instructions: 'Answer briefly; use the weather tool for weather questions.',
    model: provider.chatModel('fake-model'),
    tools: { weather },
  });
  const n = z.object({ n: z.number() });
  const double = createStep({
    id: 'double',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData }: { inputData: { n: number } }) => {
      if (inputData.n < 0) throw new Error(`cannot double a negative number (${inputData.n})`);
      return { n: inputData.n * 2 };
    },
  });
  const approve = createStep({
    id: 'approve',
    inputSchema: n,
    outputSchema: z.object({ n: z.number(), ok: z.boolean() }),
    resumeSchema: z.object({ ok: z.boolean() }),
    suspendSchema: z.object({ why: z.string() }),
    execute: async ({ inputData, resumeData, suspend }: any) => {
      if (inputData.n > 100 && !resumeData) return await suspend({ why: `n=${inputData.n} needs approval` });
      return { n: inputData.n, ok: resumeData?.ok ?? true };
    },
  });
  const calc = createWorkflow({
    id: 'calc',
    inputSchema: n,
    outputSchema: z.object({ n: z.number(), ok: z.boolean() }),
  })
    .then(double)
    .then(approve)
    .commit();
  const wait = createStep({
    id: 'wait',
    inputSchema: n,
    outputSchema: n,
    execute: async ({ inputData, abortSignal }: { inputData: { n: number }; abortSignal: AbortSignal }) => {
      probe.started++;
      await new Promise<void>((done) => {
        // Unref'd: a step nobody cancels must not keep the test process alive.
        const timer = setTimeout(done, HOLD_MS).unref();
        const onAbort = () => {
          probe.aborted++;
          clearTimeout(timer);
          done();
        };
        if (abortSignal.aborted) onAbort();
        else abortSignal.addEventListener('abort', onAbort, { once: true });
      });
      return inputData;
    },
  });
  const hold = createWorkflow({ id: 'hold', inputSchema: n, outputSchema: n }).then(wait).commit();
  const hasSunny = createScorer({ id: 'has-sunny', description: 'mentions sunny weather' })
    .generateScore(({ run }: any) => (JSON.stringify(run.output).toLowerCase().includes('sunny') ? 1 : 0))
    .generateReason(({ score }: any) => (score === 1 ? 'mentions sunny' : 'no sunny'));
  const broken = createScorer({ id: 'broken', description: 'always throws' }).generateScore(() => {
    throw new Error('judge unavailable');
  });
  const graded = createScorer({
    id: 'graded',
    description: 'a judge grades the answer',
    judge: { model: provider.chatModel('judge-model'), instructions: 'You grade answers from 0 to 1.' },
  }).generateScore({ description: 'grade', createPrompt: ({ run }: any) => `Grade: ${JSON.stringify(run.output)}` });
  return new Mastra({
    agents: { helper },
    workflows: { calc, hold },
    scorers: { 'has-sunny': hasSunny, broken, graded },
    logger: false,
  });
}
