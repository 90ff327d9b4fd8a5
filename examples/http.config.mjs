// The demo config plus an `http` target: the same capital agent, served by examples/http-agent.mjs.
//   AGENT_TOKEN=demo-token node examples/http-agent.mjs &
//   AGENT_TOKEN=demo-token npx assay serve --config examples/http.config.mjs --seed examples/demo-dataset.json
// Without AGENT_TOKEN the server does not start: "${env:AGENT_TOKEN}" is resolved at start-up.
import demo from './assay.config.mjs';

export default {
  ...demo,
  targets: [
    ...demo.targets,
    {
      id: 'capital-agent-http',
      type: 'http',
      description: 'capital-agent v1 behind HTTP (examples/http-agent.mjs)',
      url: `http://127.0.0.1:${process.env.AGENT_PORT ?? 4700}/answer`,
      method: 'POST',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Assay resolves ${env:NAME} itself, at start-up
      headers: { authorization: 'Bearer ${env:AGENT_TOKEN}' },
      body: { question: '{{input.question}}', version: 'v1' },
      output: '/answer',
      usage: { inputTokens: '/usage/input_tokens', outputTokens: '/usage/output_tokens', costUsd: '/usage/cost_usd' },
      timeoutMs: 5000,
      maxConcurrency: 8,
    },
  ],
};
