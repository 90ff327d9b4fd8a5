import type { CacheMode, ScorerKind } from '@assay/contract';
import { AssayError } from './errors.js';
import type { LanguageModel } from './targets/model-ref.js';
import type { Json, Usage } from './types.js';

/** `agent`, `workflow` and `function` are code in the config; `http` and `model` are declared. */
export type TargetType = 'agent' | 'workflow' | 'function' | 'http' | 'model';
/** How a target runs: code in the config, an HTTP endpoint, or a model call. */
export type TargetKind = 'function' | 'http' | 'model';

/** What a target receives besides the item's input. */
export interface TargetContext {
  /** Aborted on timeout, cancel, lease loss or shutdown: pass it to fetch and model calls. */
  signal: AbortSignal;
  item: { id: string; groundTruth: unknown; metadata: Record<string, unknown> | null };
  runId: string;
  /** 1 on the first try of this item in this run. */
  attempt: number;
  repetition: number;
  /**
   * Records tokens and cost of this call (several calls add up). They are stored on the result
   * and totalled in the run summary.
   * @example ctx.reportUsage({ inputTokens: 812, outputTokens: 64, costUsd: 0.0011 })
   */
  reportUsage(usage: Partial<Usage>): void;
  /**
   * Keeps what this call did beside its output — an agent's `traceId` and `toolCalls`, say — with
   * the result (`trace`), shown in the UI's result drawer; scorers do not see it. A JSON object;
   * several calls merge (a later key wins). Not kept for results taken from the output cache.
   * @example ctx.reportTrace({ traceId: result.traceId, toolCalls: [{ name: 'weather', args: { city: 'Paris' } }] })
   */
  reportTrace(trace: Record<string, unknown>): void;
}

/** Limits any target may carry. */
export interface TargetLimits {
  /**
   * Max calls in flight across all runs: per worker process embedded; across all workers together
   * when scaled out (a Redis semaphore).
   */
  maxConcurrency?: number;
  /** At most `max` calls started per `perMs` window, across all runs and workers (a provider's quota). */
  rateLimit?: { max: number; perMs: number };
  /**
   * Use of the target output cache by runs that do not say (`cache` on the trigger). Default `off`.
   * A target is cached only when it has a fingerprint: `http` and `model` targets always do (their
   * declaration); a code target needs `version` or `cacheKey`.
   */
  cache?: CacheMode;
}

/** What `cacheKey` receives besides the item's input. */
export interface CacheKeyContext {
  item: { id: string; groundTruth: unknown; metadata: Record<string, unknown> | null };
  repetition: number;
  signal: AbortSignal;
}

/**
 * What identifies a target's output for the cache, set by the registry (`http`, `model`: from
 * their declaration) or derived from a code target's `version`. Internal.
 */
export interface CacheIdentity {
  /** A hash of everything of the declaration that shapes the output; null: never cached. */
  fingerprint: string | null;
  /** Why the target is never cached (when `fingerprint` is null). */
  reason?: string;
  /** Item fields besides the input that the declaration reads (its templates): part of the key. */
  itemFields?: ('groundTruth' | 'metadata' | 'itemId')[];
}

/**
 * A system under test.
 * @example defineTarget({ id: 'echo', type: 'function', run: async (input) => input })
 */
export interface Target<I = any, O = unknown> extends TargetLimits {
  id: string;
  type: TargetType;
  description?: string;
  /** Set by the registry: `function` for code, `http` and `model` for declared targets. */
  kind?: TargetKind;
  /** Set by the registry for declared targets: what `GET /api/targets` shows of them (never secrets). */
  details?: Record<string, unknown>;
  /**
   * The version of this code, for the output cache: change it whenever the code changes what it
   * answers (a cached output is reused only under the same version). Without `version` or
   * `cacheKey` a code target is never cached.
   * @example version: '2026-03-01'
   */
  version?: string;
  /**
   * The fingerprint of one item's output, for the output cache (with `version`, both count): a
   * string or JSON value that changes whenever the output would, e.g. when the target reads
   * `ctx.item.metadata`. It runs where the target runs; return null to never cache this item.
   * The item's input and repetition are always part of the key.
   * @example cacheKey: (input, ctx) => ctx.item.metadata?.locale ?? 'en'
   */
  cacheKey?(input: I, ctx: CacheKeyContext): unknown;
  /** Set by the registry for declared targets (see {@link CacheIdentity}). */
  cacheIdentity?: CacheIdentity;
  run(input: I, ctx: TargetContext): Promise<O> | O;
}

/**
 * An HTTP endpoint as a target. Only this `url` is ever called: nothing in an item or an API call
 * can change it.
 * @example { id: 'support-bot', type: 'http', url: 'https://bot.internal/answer',
 *   headers: { authorization: 'Bearer ${env:BOT_TOKEN}' }, body: { question: '{{input.question}}' },
 *   output: '/answer' }
 */
export interface HttpTargetConfig extends TargetLimits {
  id: string;
  type: 'http';
  description?: string;
  url: string;
  /** Default POST. GET and HEAD send no body. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  /** Header values may reference environment variables: `${env:NAME}`, resolved at start-up. */
  headers?: Record<string, string>;
  /**
   * A template over the item (see docs/targets.md): a JSON value whose strings may
   * hold `{{input.field}}` tags (sent as JSON), or a string (sent as text). Default: the input as JSON.
   */
  body?: Json;
  /** A JSON Pointer into the JSON response (`/choices/0/message/content`). Default: the whole body. */
  output?: string;
  /** JSON Pointers to token counts and cost in the response, e.g. `{ inputTokens: '/usage/prompt_tokens' }`. */
  usage?: { inputTokens?: string; outputTokens?: string; costUsd?: string };
  /** Per request; a slower answer is a retryable timeout. Default: the run's item timeout only. */
  timeoutMs?: number;
}

/** USD per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/**
 * A prompt on an AI SDK language model as a target: the output is the model's text.
 * @example { id: 'gpt-qa', type: 'model', model: openai('gpt-4o-mini'),
 *   system: 'Answer in one word.', prompt: '{{question}}', temperature: 0 }
 */
export interface ModelTargetConfig extends TargetLimits {
  id: string;
  type: 'model';
  description?: string;
  model: LanguageModel;
  /** System message template. */
  system?: string;
  /** User message template over the item's input fields (`{{question}}`, `{{input | json}}`). */
  prompt: string;
  temperature?: number;
  maxOutputTokens?: number;
  /**
   * Sent to providers that support it, for more reproducible answers; part of the cache keys (the
   * output cache's fingerprint and the model-call cache's key).
   */
  seed?: number;
  /** Overrides the config's `prices` entry for this model. */
  price?: ModelPrice;
}

export type TargetConfig = Target | HttpTargetConfig | ModelTargetConfig;

export interface ScoreArgs<I = any, O = any, G = any> {
  input: I;
  output: O;
  groundTruth: G;
  metadata: Record<string, unknown> | null;
  /** How long the target took, in ms. */
  latencyMs: number;
  /** Tokens and cost the target reported, if any. */
  usage: Usage | null;
  /** Aborted when the run is cancelled or the worker stops: pass it to model calls. */
  signal: AbortSignal;
}

/**
 * A score in [0, 1], or with its reason and, for a scorer that calls a model (a judge), the tokens
 * and cost of its calls (stored with the score; invalid fields are ignored).
 */
export type ScoreValue = number | { score: number; reason?: string | null; usage?: Partial<Usage> | null };

/**
 * Scores one output in [0, 1].
 * @example defineScorer({ id: 'non-empty', score: ({ output }) => (output ? 1 : 0) })
 */
export interface Scorer<I = any, O = any, G = any> {
  id: string;
  description?: string;
  /**
   * What the scorer measures. `latency` and `cost` scorers are reported beside a comparison's
   * verdict but do not decide it unless asked to (a faster answer is not a better one).
   * Default `quality`.
   */
  kind?: ScorerKind;
  score(args: ScoreArgs<I, O, G>): Promise<ScoreValue> | ScoreValue;
}

/**
 * A built-in scorer under an id of your own with options (docs/scorers.md lists them).
 * @example { id: 'close-enough', use: 'levenshtein', options: { ignoreCase: true } }
 */
export interface BuiltInScorerConfig {
  id: string;
  use: string;
  description?: string;
  /** As {@link Scorer.kind}; default `latency` for `latency-under`, else `quality`. */
  kind?: ScorerKind;
  options?: Record<string, unknown>;
}

export type ScorerConfig = Scorer | BuiltInScorerConfig;

export interface AssayConfig {
  targets: TargetConfig[];
  scorers?: ScorerConfig[];
  /**
   * USD per million tokens by model id (`gpt-4o-mini`) or provider and id (`openai.chat:gpt-4o-mini`):
   * the cost of `model` targets and `llm-judge` calls.
   */
  prices?: Record<string, ModelPrice>;
}

/** Adds types only: a plain object with the same shape works just as well. */
export const defineConfig = <C extends AssayConfig>(config: C): C => config;
export const defineTarget = <I = any, O = unknown>(target: Target<I, O>): Target<I, O> => target;
export const defineScorer = <I = any, O = any, G = any>(scorer: Scorer<I, O, G>): Scorer<I, O, G> => scorer;

const CODE_TYPES = ['agent', 'workflow', 'function'];
const SCORER_KINDS: readonly ScorerKind[] = ['quality', 'latency', 'cost'];
const CACHE_MODES: readonly CacheMode[] = ['off', 'read', 'write', 'readwrite'];
const TARGET_TYPES = [...CODE_TYPES, 'http', 'model'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The kind of a target declaration: `function` for code (agent, workflow, function). */
export const kindOf = (t: { type: string }): TargetKind =>
  t.type === 'http' ? 'http' : t.type === 'model' ? 'model' : 'function';

/**
 * Checks a loaded config module's default export and names the first problem precisely
 * (`targets[1].run must be a function`), so a user can fix it without reading our code. The
 * fields of `http` and `model` targets and the options of built-in scorers are checked when the
 * registry builds them ({@link createRegistry}), at start-up too.
 */
export function validateConfig(raw: unknown, source = 'config'): Required<AssayConfig> {
  const fail = (message: string): never => {
    throw new AssayError('INVALID_CONFIG', `${source}: ${message}`, 400);
  };
  if (typeof raw !== 'object' || raw === null) fail('the default export must be an object { targets, scorers }');
  const cfg = raw as Record<string, unknown>;
  const targets = cfg.targets ?? [];
  const scorers = cfg.scorers ?? [];
  const prices = cfg.prices ?? {};
  if (!Array.isArray(targets)) fail('targets must be an array');
  if (!Array.isArray(scorers)) fail('scorers must be an array');
  if (typeof prices !== 'object' || prices === null || Array.isArray(prices))
    fail("prices must be an object { 'model-id': { inputPerMillion, outputPerMillion } }");
  for (const [model, price] of Object.entries(prices as object)) checkPrice(price, `prices['${model}']`, fail);
  const seen = new Set<string>();
  (targets as unknown[]).forEach((t, i) => {
    const at = `targets[${i}]`;
    if (typeof t !== 'object' || t === null) fail(`${at} must be an object`);
    const target = t as Record<string, unknown>;
    if (typeof target.id !== 'string' || !ID.test(target.id))
      fail(`${at}.id must be a non-empty string of letters, digits, '.', '_', ':' or '-'`);
    if (seen.has(target.id as string)) fail(`${at}.id '${target.id}' is used twice`);
    seen.add(target.id as string);
    if (!TARGET_TYPES.includes(target.type as string))
      fail(`${at}.type must be one of ${TARGET_TYPES.join(', ')} (got ${JSON.stringify(target.type)})`);
    if (CODE_TYPES.includes(target.type as string) && typeof target.run !== 'function')
      fail(`${at}.run must be a function (input, ctx) => output`);
    if (target.type === 'http' && typeof target.url !== 'string')
      fail(`${at}.url must be the endpoint's URL (an http target is declared with url, not run)`);
    if (target.type === 'model' && (target.model === undefined || target.model === null))
      fail(`${at}.model must be an AI SDK language model, e.g. openai('gpt-4o-mini')`);
    if (
      target.maxConcurrency !== undefined &&
      !(Number.isInteger(target.maxConcurrency) && (target.maxConcurrency as number) > 0)
    )
      fail(`${at}.maxConcurrency must be a positive integer`);
    if (target.rateLimit !== undefined) {
      const r = target.rateLimit as Record<string, unknown> | null;
      const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
      if (typeof r !== 'object' || r === null || !positive(r.max) || !positive(r.perMs))
        fail(`${at}.rateLimit must be { max, perMs } with positive integers (e.g. { max: 60, perMs: 60000 })`);
    }
    if (target.price !== undefined) checkPrice(target.price, `${at}.price`, fail);
    if (target.cache !== undefined && !CACHE_MODES.includes(target.cache as CacheMode))
      fail(`${at}.cache must be one of ${CACHE_MODES.join(', ')} (got ${JSON.stringify(target.cache)})`);
    if (target.version !== undefined && (typeof target.version !== 'string' || target.version === ''))
      fail(`${at}.version must be a non-empty string (change it whenever the code changes what it answers)`);
    if (target.cacheKey !== undefined && typeof target.cacheKey !== 'function')
      fail(`${at}.cacheKey must be a function (input, ctx) => string`);
  });
  const seenScorers = new Set<string>();
  (scorers as unknown[]).forEach((s, i) => {
    const at = `scorers[${i}]`;
    if (typeof s !== 'object' || s === null) fail(`${at} must be an object`);
    const scorer = s as Record<string, unknown>;
    if (typeof scorer.id !== 'string' || !ID.test(scorer.id))
      fail(`${at}.id must be a non-empty string of letters, digits, '.', '_', ':' or '-'`);
    if (seenScorers.has(scorer.id as string)) fail(`${at}.id '${scorer.id}' is used twice`);
    seenScorers.add(scorer.id as string);
    if (scorer.kind !== undefined && !SCORER_KINDS.includes(scorer.kind as ScorerKind))
      fail(`${at}.kind must be one of ${SCORER_KINDS.join(', ')} (got ${JSON.stringify(scorer.kind)})`);
    if (scorer.use !== undefined) {
      if (typeof scorer.use !== 'string') fail(`${at}.use must be the name of a built-in scorer, e.g. 'levenshtein'`);
      if (scorer.score !== undefined) fail(`${at} has both use and score: pick one`);
      if (scorer.options !== undefined && (typeof scorer.options !== 'object' || scorer.options === null))
        fail(`${at}.options must be an object`);
    } else if (typeof scorer.score !== 'function')
      fail(
        `${at}.score must be a function ({ input, output, groundTruth }) => number, or use a built-in scorer: { id, use: 'levenshtein', options }`,
      );
  });
  return {
    targets: targets as TargetConfig[],
    scorers: scorers as ScorerConfig[],
    prices: prices as Record<string, ModelPrice>,
  };
}

function checkPrice(price: unknown, at: string, fail: (m: string) => never): void {
  const p = price as Record<string, unknown> | null;
  const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof p !== 'object' || p === null || !ok(p.inputPerMillion) || !ok(p.outputPerMillion))
    fail(`${at} must be { inputPerMillion, outputPerMillion } in USD per million tokens (numbers ≥ 0)`);
}

export type { Json };
