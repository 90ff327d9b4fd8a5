// The offline demo behind `npm start`: two versions of a capital-city agent that need no model
// provider, and a mix of built-in, configured and custom scorers. The agents are deterministic:
// the same question always gets the same answer and the same latency, so two runs of one agent
// score the same and a comparison of v1 and v2 shows only real differences.
//
// With OPENAI_API_KEY set (and optionally OPENAI_BASE_URL for any OpenAI-compatible server), a
// `model` target (gpt-capitals) and an LLM judge scorer (judge) are added: see docs/targets.md.
// A TypeScript config (assay.config.ts) works the same way; defineConfig from @assay/core adds types.

import { answer, sleep } from './capitals-agent.mjs';

/** One version of the demo agent as a code target: answers, waits its latency, reports usage. */
const agent = (version) => async (input, ctx) => {
  const a = answer(version, input?.question);
  await sleep(a.latencyMs, ctx.signal);
  ctx.reportUsage(a.usage);
  return a.answer;
};

const targets = [
  {
    id: 'capital-agent',
    type: 'agent',
    description: 'v1: answers "what is the capital of X?" from a lookup table, in 40-140 ms; some answers are wrong',
    run: agent('v1'),
  },
  {
    id: 'capital-agent-v2',
    type: 'agent',
    description: 'v2: looks the answer up first, in 120-260 ms; fixes most of v1 but not all, and regresses on two',
    run: agent('v2'),
  },
  {
    id: 'echo',
    type: 'function',
    description: 'Returns its input unchanged',
    run: async (input) => input,
  },
  {
    id: 'flaky-workflow',
    type: 'workflow',
    description: 'Like capital-agent, but about 1 call in 5 fails with a retryable 503 (retries make most items pass)',
    run: async (input, ctx) => {
      await sleep(20, ctx.signal);
      if (Math.random() < 0.2) throw Object.assign(new Error('upstream unavailable'), { status: 503 });
      return answer('v1', input?.question).answer;
    },
  },
];

const scorers = [
  // exact-match, contains, regex, json-valid… are built in; these are configured or custom.
  {
    id: 'similar',
    use: 'levenshtein',
    options: { ignoreCase: true },
    description: 'How close the answer is to the capital (1 − edit distance / length): "Brasilia" still scores 0.88',
  },
  {
    id: 'mentions-capital',
    use: 'contains',
    description: 'The answer contains the capital somewhere (forgives chatty answers)',
  },
  {
    id: 'no-refusal',
    use: 'regex',
    // RE2 has no lookahead: match the refusal and invert the score.
    options: { pattern: "\\b(don't know|not sure|no idea)\\b", flags: 'i', invert: true },
    description: '1 unless the agent declines to answer ("I don\'t know")',
  },
  {
    id: 'fast',
    use: 'latency-under',
    options: { ms: 200 },
    // Reported beside a comparison's verdict, not deciding it: a faster answer is not a better one.
    kind: 'latency',
    description: '1 when the target answered within 200 ms',
  },
  {
    id: 'short-answer',
    description: '1 for answers of at most three words',
    score: ({ output }) => {
      const words = String(output ?? '')
        .trim()
        .split(/\s+/)
        .filter(Boolean).length;
      return { score: words > 0 && words <= 3 ? 1 : 0, reason: `${words} words` };
    },
  },
];

// A real model, only when a key is set: nothing here is needed for the offline demo.
if (process.env.OPENAI_API_KEY) {
  const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
  const openai = createOpenAICompatible({
    name: 'openai',
    baseURL: process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1',
    apiKey: process.env.OPENAI_API_KEY,
  });
  const model = process.env.ASSAY_DEMO_MODEL ?? 'gpt-4o-mini';
  targets.push({
    id: 'gpt-capitals',
    type: 'model',
    description: `${model} answers the question in a word or two`,
    model: openai.chatModel(model),
    system: 'You answer geography questions with the name of the city only, no sentence.',
    prompt: '{{input.question}}',
    temperature: 0,
    maxOutputTokens: 20,
  });
  scorers.push({
    id: 'judge',
    use: 'llm-judge',
    options: {
      model: openai.chatModel(model),
      rubric: 'The output names the capital city given as the expected answer (spelling variants are fine).',
    },
  });
}

export default {
  targets,
  scorers,
  // USD per million tokens for model targets and LLM judges (used only with OPENAI_API_KEY).
  prices: {
    'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
    'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  },
};
