/**
 * A local OpenAI-compatible chat-completions server (streaming, tool calls) so the example runs
 * offline: it asks for the `capital` tool when the question names a country it knows, and answers
 * with the tool's result.
 */
import { createServer } from 'node:http';

const COUNTRY = /capital of ([A-Za-z ]+?)\??$/i;

function answer(body) {
  const last = body.messages.at(-1);
  if (last.role === 'tool') {
    const { capital } = JSON.parse(typeof last.content === 'string' ? last.content : JSON.stringify(last.content));
    return { content: capital ?? 'I do not know.' };
  }
  const user = body.messages.findLast((m) => m.role === 'user');
  const text = typeof user.content === 'string' ? user.content : user.content.map((p) => p.text ?? '').join('');
  const country = COUNTRY.exec(text.trim())?.[1];
  return country ? { toolCalls: [{ name: 'capital', arguments: { country } }] } : { content: 'I do not know.' };
}

/** Starts the server on 127.0.0.1 (a free port unless given); `latencyMs` delays each answer. */
export async function startModelServer({ port = 0, latencyMs = 50 } = {}) {
  let n = 0;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw);
      const r = answer(body);
      await new Promise((ok) => setTimeout(ok, latencyMs));
      if (res.destroyed) return;
      const id = `chatcmpl-${++n}`;
      const usage = { prompt_tokens: 40, completion_tokens: 6, total_tokens: 46 };
      const calls = (r.toolCalls ?? []).map((t, index) => ({
        index,
        id: `call_${n}_${index}`,
        type: 'function',
        function: { name: t.name, arguments: JSON.stringify(t.arguments) },
      }));
      const finish = calls.length ? 'tool_calls' : 'stop';
      const base = { id, created: Math.floor(Date.now() / 1000), model: body.model };
      if (!body.stream) {
        const message = {
          role: 'assistant',
          content: r.content ?? null,
          ...(calls.length ? { tool_calls: calls } : {}),
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ...base,
            object: 'chat.completion',
            choices: [{ index: 0, message, finish_reason: finish }],
            usage,
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta, finish_reason, extra = {}) =>
        res.write(
          `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`,
        );
      chunk({ role: 'assistant', content: r.content ?? '' }, null);
      if (calls.length) chunk({ tool_calls: calls }, null);
      chunk({}, finish, { usage });
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    baseURL: `http://127.0.0.1:${server.address().port}/v1`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(ok);
      }),
  };
}
