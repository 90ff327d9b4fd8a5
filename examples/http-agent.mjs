// The demo agent behind HTTP, for the `http` target example (docs/targets.md):
//   AGENT_TOKEN=demo-token node examples/http-agent.mjs        # listens on 127.0.0.1:4700 (PORT=… to change)
// POST /answer { "question": "…", "version"?: "v1" | "v2" } with `Authorization: Bearer $AGENT_TOKEN`
// → 200 { "answer": "…", "usage": { "input_tokens", "output_tokens", "cost_usd" } }.
// Like a real service it can be busy: set BUSY_EVERY=N and every Nth request gets 429 Retry-After: 1.
import { createServer } from 'node:http';
import { answer, sleep } from './capitals-agent.mjs';

const port = Number(process.env.PORT ?? 4700);
const token = process.env.AGENT_TOKEN;
const busyEvery = Number(process.env.BUSY_EVERY ?? 0);
let requests = 0;

const send = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const server = createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/answer') return send(res, 404, { error: 'POST /answer' });
  if (token && req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: 'bad token' });
  if (busyEvery > 0 && ++requests % busyEvery === 0) return send(res, 429, { error: 'busy' }, { 'retry-after': '1' });
  let raw = '';
  for await (const chunk of req) raw += chunk;
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return send(res, 400, { error: 'body must be JSON' });
  }
  if (typeof body?.question !== 'string') return send(res, 400, { error: 'question must be a string' });
  const a = answer(body.version === 'v2' ? 'v2' : 'v1', body.question);
  await sleep(a.latencyMs);
  send(res, 200, {
    answer: a.answer,
    usage: { input_tokens: a.usage.inputTokens, output_tokens: a.usage.outputTokens, cost_usd: a.usage.costUsd },
  });
});
server.once('error', (e) => {
  console.error(
    e.code === 'EADDRINUSE' ? `port ${port} is in use: set PORT=… (and AGENT_PORT=… for the config)` : e.message,
  );
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => console.log(`demo agent on http://127.0.0.1:${port}/answer`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
