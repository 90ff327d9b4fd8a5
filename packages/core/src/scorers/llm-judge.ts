import type { LanguageModel as SdkModel } from 'ai';
import { z } from 'zod';
import type { ScoreArgs } from '../config.js';
import { cachedModelCall, declareModelCall, type ModelCallParts, type ModelCallResult } from '../engine/model-calls.js';
import { loadAiSdk } from '../targets/ai-sdk.js';
import { modelName, priceFor, providerError, usageOf } from '../targets/model.js';
import type { LanguageModel } from '../targets/model-ref.js';
import type { BuiltIn } from './builtin.js';
import { text } from './text.js';

const verdict = z.object({
  score: z.number().min(0).max(1).describe('0 = fails the rubric completely, 1 = meets it fully'),
  reason: z.string().describe('one or two sentences: why this score'),
});

/** The verdict's JSON Schema, as the call sends it: part of the model-call cache's key. */
const VERDICT_SCHEMA = z.toJSONSchema(verdict);

type Verdict = z.infer<typeof verdict>;

const isModel = (v: unknown): v is LanguageModel =>
  typeof v === 'string' ||
  (typeof v === 'object' && v !== null && typeof (v as { modelId?: unknown }).modelId === 'string');

const judgeOptions = z.strictObject({
  /** An AI SDK language model, e.g. openai('gpt-4o-mini'). */
  model: z.custom<LanguageModel>(isModel, "must be an AI SDK language model, e.g. openai('gpt-4o-mini')"),
  /** What a good output is: the judge scores the output against it. */
  rubric: z.string().trim().min(1),
  /** Replaces the judge's default instructions. */
  system: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).default(0),
  maxOutputTokens: z.number().int().positive().optional(),
  /** Tries of the judge call on 429, 5xx and network errors (the AI SDK's backoff). */
  maxRetries: z.number().int().min(0).max(10).default(2),
  /** Sent to providers that support it, for more reproducible verdicts. */
  seed: z.number().int().optional(),
});

const SYSTEM = [
  'You are an impartial evaluator of AI outputs.',
  'Grade the output against the rubric; use the expected answer, when given, as a reference.',
  'Answer only with a JSON object {"score": <number from 0 to 1>, "reason": "<one or two sentences>"}.',
].join(' ');

const block = (v: unknown) => (v === undefined || v === null ? '(none)' : text(v));

/**
 * An LLM judge: a model grades each output against a rubric and answers `{ score, reason }`
 * (structured output). A malformed answer is a score error on that item, never a crash.
 */
export const llmJudgeBuiltIn: BuiltIn<z.infer<typeof judgeOptions>> = {
  callsOut: true,
  use: 'llm-judge',
  description: 'A model grades the output against options.rubric: a score from 0 to 1 and a reason',
  options: judgeOptions,
  byDefault: false,
  create: (id, o, ctx) => {
    const name = modelName(o.model);
    const price = priceFor(ctx.prices, o.model);
    /** What the judge's call sends, as the model-call cache keys it (model-calls.ts). */
    const partsOf = (input: unknown, output: unknown, groundTruth: unknown): ModelCallParts => ({
      provider: typeof o.model === 'string' ? null : o.model.provider,
      modelId: typeof o.model === 'string' ? o.model : o.model.modelId,
      system: o.system ?? SYSTEM,
      prompt: [
        `## Rubric\n${o.rubric}`,
        `## Input\n${block(input)}`,
        `## Expected answer\n${block(groundTruth)}`,
        `## Output to grade\n${block(output)}`,
      ].join('\n\n'),
      params: {
        temperature: o.temperature,
        maxOutputTokens: o.maxOutputTokens ?? null,
        seed: o.seed ?? null,
        output: { name: 'verdict', schema: VERDICT_SCHEMA },
      },
    });
    const scorer = {
      id,
      description: `${name} judges against: ${o.rubric.length > 80 ? `${o.rubric.slice(0, 80)}…` : o.rubric}`,
      score: async ({ input, output, groundTruth, signal }: ScoreArgs) => {
        const parts = partsOf(input, output, groundTruth);
        const answer = await cachedModelCall<Verdict>(parts, async () => {
          const ai = await loadAiSdk();
          try {
            const result = await ai.generateText({
              model: o.model as SdkModel,
              system: parts.system ?? undefined,
              prompt: parts.prompt,
              temperature: o.temperature,
              maxOutputTokens: o.maxOutputTokens,
              maxRetries: o.maxRetries,
              seed: o.seed,
              abortSignal: signal,
              output: ai.Output.object({ schema: verdict, name: 'verdict' }),
            });
            return {
              value: { score: result.output.score, reason: result.output.reason },
              usage: usageOf(result.usage, price),
            };
          } catch (error) {
            if (ai.NoObjectGeneratedError.isInstance(error)) {
              const answer = error.text ? `: ${JSON.stringify(error.text.slice(0, 200))}` : '';
              throw new Error(`judge ${name} gave no valid { score 0–1, reason } answer${answer}`);
            }
            throw providerError(ai, error, `judge ${name}`);
          }
        });
        return {
          score: answer.value.score,
          reason: `${answer.value.reason}${spentNote(answer)}`,
          // Stored with the score when spent now; a stored verdict's cost was spent by its run.
          usage: answer.cachedFrom ? null : answer.usage,
        };
      },
    };
    return declareModelCall(scorer, (a) => partsOf(a.input, a.output, a.groundTruth));
  },
};

/** The judge's tokens and cost, after its reason; for a stored verdict, the run that paid for it. */
function spentNote(answer: ModelCallResult<Verdict>): string {
  const u = answer.usage;
  if (!u || u.inputTokens === null) return answer.cachedFrom ? ` [judge: cached from ${answer.cachedFrom}]` : '';
  const tokens = `${u.inputTokens}+${u.outputTokens ?? 0} tokens`;
  const cost = u.costUsd !== null ? `, $${u.costUsd.toFixed(6)}` : '';
  return answer.cachedFrom
    ? ` [judge: cached from ${answer.cachedFrom}, ${tokens}${cost} not spent again]`
    : ` [judge: ${tokens}${cost}]`;
}
