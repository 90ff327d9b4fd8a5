import type { LanguageModelUsage, LanguageModel as SdkModel } from 'ai';
import type { ModelPrice, ModelTargetConfig, Target, TargetContext } from '../config.js';
import { cachedModelCall, declareModelCall, type ModelCallParts } from '../engine/model-calls.js';
import { TargetError } from '../errors.js';
import type { Usage } from '../types.js';
import { loadAiSdk } from './ai-sdk.js';
import { declaredIdentity } from './cache-identity.js';
import type { LanguageModel } from './model-ref.js';
import { renderText, scopeOf, type TemplateScope } from './template.js';

/** `provider:modelId` of an AI SDK model (or the string id it was given as). */
export function modelName(model: LanguageModel): string {
  if (typeof model === 'string') return model;
  return `${model.provider}:${model.modelId}`;
}

/** The price of a model: by `provider:modelId`, then by `modelId` alone. */
export function priceFor(prices: Record<string, ModelPrice>, model: LanguageModel): ModelPrice | undefined {
  if (typeof model === 'string') return prices[model];
  return prices[`${model.provider}:${model.modelId}`] ?? prices[model.modelId];
}

/** Tokens of an AI SDK call and their cost at `price` (null when the price or the tokens are unknown). */
export function usageOf(u: LanguageModelUsage | undefined, price: ModelPrice | undefined): Usage {
  const inputTokens = typeof u?.inputTokens === 'number' ? u.inputTokens : null;
  const outputTokens = typeof u?.outputTokens === 'number' ? u.outputTokens : null;
  const costUsd =
    price && (inputTokens !== null || outputTokens !== null)
      ? ((inputTokens ?? 0) * price.inputPerMillion + (outputTokens ?? 0) * price.outputPerMillion) / 1e6
      : null;
  return { inputTokens, outputTokens, costUsd };
}

/**
 * A provider error as the engine classifies it: HTTP status, whether to retry (429, 5xx and
 * network errors), and the provider's Retry-After. Everything else passes through.
 */
export function providerError(ai: Pick<typeof import('ai'), 'APICallError'>, error: unknown, what: string): unknown {
  if (!ai.APICallError.isInstance(error)) return error;
  const headers = error.responseHeaders ?? {};
  const ms = Number(headers['retry-after-ms']);
  const secs = Number(headers['retry-after']);
  return new TargetError(`${what}: ${error.message}`, {
    retryable: error.isRetryable,
    status: error.statusCode,
    code: error.statusCode ? `HTTP_${error.statusCode}` : 'NETWORK_ERROR',
    retryAfterMs: Number.isFinite(ms) && ms >= 0 ? ms : Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined,
    cause: error,
  });
}

/** Builds a runnable target from a `model` declaration, checking its fields (start-up). */
export function createModelTarget(cfg: ModelTargetConfig, prices: Record<string, ModelPrice>): Target {
  const model = cfg.model;
  if (typeof model !== 'string' && (typeof model !== 'object' || typeof model.modelId !== 'string'))
    throw new Error("model must be an AI SDK language model, e.g. openai('gpt-4o-mini')");
  if (typeof cfg.prompt !== 'string' || cfg.prompt.trim() === '')
    throw new Error("prompt must be a non-empty template, e.g. 'Question: {{question}}'");
  if (cfg.system !== undefined && typeof cfg.system !== 'string') throw new Error('system must be a string template');
  if (
    cfg.temperature !== undefined &&
    !(typeof cfg.temperature === 'number' && cfg.temperature >= 0 && cfg.temperature <= 2)
  )
    throw new Error('temperature must be a number from 0 to 2');
  if (cfg.maxOutputTokens !== undefined && !(Number.isInteger(cfg.maxOutputTokens) && cfg.maxOutputTokens > 0))
    throw new Error('maxOutputTokens must be a positive integer');
  if (cfg.seed !== undefined && !Number.isSafeInteger(cfg.seed)) throw new Error('seed must be an integer');
  // Only when declared, so the cache keys of targets without a seed stay what they were.
  const seeded = cfg.seed !== undefined ? { seed: cfg.seed } : {};
  const price = cfg.price ?? priceFor(prices, model);
  const name = modelName(model);

  const provider = typeof model === 'string' ? null : model.provider;
  const modelId = typeof model === 'string' ? model : model.modelId;
  /** What the call sends, as the model-call cache keys it (model-calls.ts). */
  const partsOf = (scope: TemplateScope): ModelCallParts => ({
    provider,
    modelId,
    system: cfg.system === undefined ? null : renderText(cfg.system, scope),
    prompt: renderText(cfg.prompt, scope),
    params: { temperature: cfg.temperature ?? null, maxOutputTokens: cfg.maxOutputTokens ?? null, ...seeded },
  });

  async function run(input: unknown, ctx: TargetContext): Promise<string> {
    const parts = partsOf(scopeOf(input, ctx));
    const answer = await cachedModelCall(parts, async () => {
      const ai = await loadAiSdk();
      try {
        const result = await ai.generateText({
          model: model as SdkModel, // checked at start-up; a provider's model object is one
          system: parts.system ?? undefined,
          prompt: parts.prompt,
          temperature: cfg.temperature,
          maxOutputTokens: cfg.maxOutputTokens,
          seed: cfg.seed,
          abortSignal: ctx.signal,
          // The engine retries (durably, with backoff and Retry-After): the SDK does not.
          maxRetries: 0,
        });
        return { value: result.text, usage: usageOf(result.usage, price) };
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
        throw providerError(ai, error, name);
      }
    });
    // A stored answer keeps the usage of its first call (the run counts it as saved).
    if (answer.usage) ctx.reportUsage(answer.usage);
    return answer.value;
  }

  const target: Target = {
    id: cfg.id,
    type: 'model',
    kind: 'model',
    description: cfg.description ?? `prompt on ${name}`,
    details: {
      model: name,
      ...(cfg.temperature !== undefined ? { temperature: cfg.temperature } : {}),
      ...(cfg.maxOutputTokens !== undefined ? { maxOutputTokens: cfg.maxOutputTokens } : {}),
      ...seeded,
      price: price ?? null,
    },
    maxConcurrency: cfg.maxConcurrency,
    rateLimit: cfg.rateLimit,
    cache: cfg.cache,
    cacheIdentity: declaredIdentity(
      'model',
      {
        provider,
        modelId,
        system: cfg.system ?? null,
        prompt: cfg.prompt,
        temperature: cfg.temperature ?? null,
        maxOutputTokens: cfg.maxOutputTokens ?? null,
        ...seeded,
      },
      [cfg.system, cfg.prompt],
    ),
    run,
  };
  return declareModelCall(
    target,
    (a) =>
      partsOf({ input: a.input, groundTruth: a.groundTruth, metadata: a.metadata, itemId: a.itemId, runId: a.runId }),
    { answerIsOutput: true },
  );
}
