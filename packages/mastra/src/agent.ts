import { type Target, TargetError } from '@assay/core';
import type { MastraAgent, MastraGenerateResult, MastraToolCall } from './mastra-types.js';

/**
 * What an agent target returns: `text` (default) the answer's text, or its structured object when
 * the call asked for one (`structuredOutput`); `full` an object with the answer, the tool calls
 * and the trace id, so that scorers see them too. Either way the tool calls, trace id, Mastra run
 * id and finish reason are kept with the result as its `trace` (`ctx.reportTrace`).
 */
export type AgentOutput = 'text' | 'full';

export interface AgentTargetOptions {
  /** Options for every `generate` call (e.g. `{ maxSteps: 5 }`); an item's own `options` win. */
  generateOptions?: Record<string, unknown>;
  /** Default `text`. */
  output?: AgentOutput;
}

/** A tool call as stored with a `full` output. */
export interface AgentToolCall {
  id: string | null;
  name: string | null;
  args: unknown;
}

/** The `full` output of an agent target. */
export interface AgentFullOutput {
  text: string;
  object?: unknown;
  toolCalls: AgentToolCall[];
  traceId: string | null;
  runId: string | null;
  finishReason: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * An item's input as `generate` arguments. A string or an array (messages) is the input as it is;
 * an object with `messages` is `{ messages, options? }`, the options of this item's call
 * (`maxSteps`, `structuredOutput`, `instructions`, ...); any other value goes to Mastra as it is.
 */
export function generateArgs(input: unknown): { messages: unknown; options: Record<string, unknown> } {
  if (isRecord(input) && 'messages' in input) {
    const options = input.options;
    if (options !== undefined && !isRecord(options))
      throw new TargetError("the item input's options must be an object, e.g. { maxSteps: 3 }", {
        code: 'INVALID_INPUT',
      });
    return { messages: input.messages, options: options ?? {} };
  }
  return { messages: input, options: {} };
}

const toolCall = (c: MastraToolCall): AgentToolCall => {
  const p = c.payload ?? c;
  return { id: p.toolCallId ?? null, name: p.toolName ?? null, args: p.args ?? c.input ?? null };
};

const asError = (e: unknown): Error =>
  e instanceof Error ? e : new Error(isRecord(e) && typeof e.message === 'string' ? e.message : String(e));

/** A Mastra agent as an Assay target under `id`. */
export function agentTarget(id: string, agent: MastraAgent, opts: AgentTargetOptions = {}): Target {
  let description: string | undefined;
  try {
    description = agent.getDescription?.() || agent.name || undefined;
  } catch {
    description = agent.name;
  }
  return {
    id,
    type: 'agent',
    description: description ? `Mastra agent: ${description}` : `Mastra agent '${agent.id}'`,
    async run(input, ctx) {
      const { messages, options } = generateArgs(input);
      const result: MastraGenerateResult = await agent.generate(messages, {
        ...opts.generateOptions,
        ...options,
        abortSignal: ctx.signal,
      });
      // An aborted generate resolves (finishReason 'aborted') rather than rejecting.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const usage = result.totalUsage ?? result.usage;
      if (usage) ctx.reportUsage({ inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
      if (result.error) throw asError(result.error);
      if (result.tripwire)
        throw new TargetError(`agent '${agent.id}' was stopped by a processor: ${result.tripwire.reason ?? ''}`, {
          code: 'AGENT_TRIPWIRE',
        });
      const answer = result.object !== undefined && result.object !== null ? result.object : result.text;
      const trace = {
        toolCalls: (result.toolCalls ?? []).map(toolCall),
        traceId: result.traceId ?? null,
        runId: result.runId ?? null,
        finishReason: result.finishReason ?? null,
      };
      ctx.reportTrace(trace);
      if (opts.output !== 'full') return answer;
      const full: AgentFullOutput = {
        text: result.text,
        ...(result.object !== undefined ? { object: result.object } : {}),
        ...trace,
      };
      return full;
    },
  };
}
