import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server speaking the OpenAI chat-completions protocol (non-streaming), the only fake
 * our tests use for a model provider. `reply` decides each answer from the request body.
 */
export interface FakeReply {
  /** The assistant message's content. */
  content?: string;
  /** HTTP status (default 200); with a status ≥ 400 `content` is the error message. */
  status?: number;
  headers?: Record<string, string>;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string | { type: string; text?: string }[] }[];
  temperature?: number;
  max_tokens?: number;
  response_format?: unknown;
  [key: string]: unknown;
}

export interface FakeOpenAI {
  baseURL: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

const read = (req: IncomingMessage) =>
  new Promise<string>((ok, fail) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => ok(body));
    req.on('error', fail);
  });

/** The text of a message (string content or text parts). */
export const textOf = (m: ChatRequest['messages'][number]) =>
  typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? '').join('');

export async function startFakeOpenAI(
  reply: (req: ChatRequest, n: number) => FakeReply | Promise<FakeReply>,
): Promise<FakeOpenAI> {
  const requests: ChatRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    const body = JSON.parse(await read(req)) as ChatRequest;
    requests.push(body);
    const r = await reply(body, requests.length);
    const status = r.status ?? 200;
    res.writeHead(status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
    if (status >= 400) {
      res.end(JSON.stringify({ error: { message: r.content ?? 'error', type: 'fake_error', code: null } }));
      return;
    }
    const usage = r.usage ?? { prompt_tokens: 10, completion_tokens: 5 };
    res.end(
      JSON.stringify({
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: r.content ?? '' }, finish_reason: 'stop' }],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      }),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
