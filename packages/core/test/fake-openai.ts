import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server speaking the OpenAI chat-completions protocol, the only fake our tests use
 * for a model provider: plain answers, errors with headers (Retry-After), tool calls and streaming
 * (`stream: true`, server-sent events, which Mastra's agent loop uses). `reply` decides each answer
 * from the request body.
 */
export interface FakeReply {
  /** The assistant message's content. */
  content?: string;
  /** Tool calls the assistant asks for (the answer then finishes with `tool_calls`). */
  toolCalls?: { name: string; arguments: unknown }[];
  /** HTTP status (default 200); with a status ≥ 400 `content` is the error message. */
  status?: number;
  headers?: Record<string, string>;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string | null | { type: string; text?: string }[]; [k: string]: unknown }[];
  temperature?: number;
  max_tokens?: number;
  response_format?: unknown;
  stream?: boolean;
  tools?: { type: string; function: { name: string } }[];
  [key: string]: unknown;
}

export interface FakeOpenAI {
  baseURL: string;
  requests: ChatRequest[];
  /** Requests whose client hung up before the answer was written (an aborted call). */
  aborted: number;
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
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');

/** The last user message's text. */
export const lastUser = (req: ChatRequest) => textOf([...req.messages].reverse().find((m) => m.role === 'user')!);

export async function startFakeOpenAI(
  reply: (req: ChatRequest, n: number) => FakeReply | Promise<FakeReply>,
): Promise<FakeOpenAI> {
  const requests: ChatRequest[] = [];
  const state = { aborted: 0 };
  const server: Server = createServer(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    res.on('close', () => {
      if (!res.writableEnded) state.aborted++;
    });
    const body = JSON.parse(await read(req)) as ChatRequest;
    requests.push(body);
    const n = requests.length;
    const r = await reply(body, n);
    if (res.destroyed) return;
    const status = r.status ?? 200;
    if (status >= 400) {
      res.writeHead(status, { 'content-type': 'application/json', ...(r.headers ?? {}) });
      res.end(JSON.stringify({ error: { message: r.content ?? 'error', type: 'fake_error', code: null } }));
      return;
    }
    const u = r.usage ?? { prompt_tokens: 10, completion_tokens: 5 };
    const usage = { ...u, total_tokens: u.prompt_tokens + u.completion_tokens };
    const toolCalls = (r.toolCalls ?? []).map((t, i) => ({
      index: i,
      id: `call_${n}_${i}`,
      type: 'function',
      function: { name: t.name, arguments: JSON.stringify(t.arguments) },
    }));
    const finish = toolCalls.length ? 'tool_calls' : 'stop';
    const base = { id: `chatcmpl-${n}`, created: Math.floor(Date.now() / 1000), model: body.model };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json', ...(r.headers ?? {}) });
      const message = {
        role: 'assistant',
        content: r.content ?? (toolCalls.length ? null : ''),
        ...(toolCalls.length ? { tool_calls: toolCalls.map(({ index: _, ...t }) => t) } : {}),
      };
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
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: unknown, finish_reason: string | null, extra: object = {}) =>
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`,
      );
    chunk({ role: 'assistant', content: '' }, null);
    if (r.content) chunk({ content: r.content }, null);
    if (toolCalls.length) chunk({ tool_calls: toolCalls }, null);
    chunk({}, finish, { usage });
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get aborted() {
      return state.aborted;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
