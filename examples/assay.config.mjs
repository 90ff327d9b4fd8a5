// Demo config for `npm start`: offline targets (no model provider needed) and a few scorers.
// A TypeScript config (assay.config.ts) works the same way; defineConfig from @assay/core adds types.

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

const CAPITALS = { France: 'Paris', Japan: 'Tokyo', Kenya: 'Nairobi', Peru: 'Lima', Canada: 'Ottawa', Italy: 'Rome' };

export default {
  targets: [
    {
      id: 'capital-agent',
      type: 'agent',
      description: 'Answers "what is the capital of X?" from a small table, after a short think (50-150 ms)',
      run: async (input, ctx) => {
        await sleep(50 + Math.random() * 100, ctx.signal);
        const country = Object.keys(CAPITALS).find((c) => String(input.question).includes(c));
        return country ? CAPITALS[country] : "I don't know";
      },
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
      description: 'Like capital-agent, but fails about 1 call in 5 with a retryable 503',
      run: async (input, ctx) => {
        await sleep(20, ctx.signal);
        if (Math.random() < 0.2) throw Object.assign(new Error('upstream unavailable'), { status: 503 });
        const country = Object.keys(CAPITALS).find((c) => String(input.question).includes(c));
        return country ? CAPITALS[country] : "I don't know";
      },
    },
  ],
  scorers: [
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
  ],
};
