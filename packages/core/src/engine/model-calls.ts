import { AsyncLocalStorage } from 'node:async_hooks';
import { canonicalHash } from '../canonical.js';
import type { Usage } from '../types.js';

/**
 * The model-call cache, as the built-ins that call a model see it (a `model` target's generation,
 * the `llm-judge` scorer's verdict). An answer is stored under the hash of everything that shapes
 * it: provider, model id, the messages as rendered, the parameters (temperature, maxOutputTokens,
 * the structured output's schema, seed) and the item's repetition, so the repetitions of an item
 * stay independent samples.
 *
 * Built-ins run where user code runs: in worker threads, which have no storage. So the engine
 * looks answers up on its own thread before an attempt, from keys the built-ins compute without
 * calling anything ({@link declareModelCall}), and sends the answers found with the attempt
 * request; inside the attempt, {@link cachedModelCall} answers from them or calls the model and
 * records the call, and the calls travel back in the attempt's result, to be stored with the
 * item's outcome in its transaction (model-call-cache.ts is the engine's side).
 */

/** What shapes the answer of one model call (the repetition is added by {@link modelCallKey}). */
export interface ModelCallParts {
  provider: string | null;
  modelId: string;
  system: string | null;
  prompt: string;
  /** Temperature, maxOutputTokens, the output's schema, seed: every parameter sent. */
  params: Record<string, unknown>;
}

/** The key of a model call's answer: a SHA-256 in hex, in a namespace of its own. */
export const modelCallKey = (parts: ModelCallParts, repetition: number): string =>
  canonicalHash({ kind: 'model-call', ...parts, repetition });

/** A stored answer, as an attempt request carries it. */
export interface StoredModelCall {
  value: unknown;
  latencyMs: number | null;
  usage: Usage | null;
  /** The run whose call produced it. */
  runId: string;
}

/** One model call of an attempt: made now (`cachedFrom` null, with its `value`) or answered from the cache. */
export interface ModelCallRecord {
  key: string;
  /** Made by the target, or by a scorer. */
  phase: 'target' | 'scorer';
  /** The target's or the scorer's id. */
  ownerId: string;
  latencyMs: number | null;
  usage: Usage | null;
  cachedFrom: string | null;
  /** The answer (calls made now only): what is stored. */
  value?: unknown;
}

/** What a key is computed from: the item and, for a scorer, the output it scores. */
export interface ModelCallArgs {
  input: unknown;
  output?: unknown;
  groundTruth: unknown;
  metadata: Record<string, unknown> | null;
  itemId: string;
  runId: string;
}

/**
 * How a built-in's model call is keyed without making it. It must compute the parts its call
 * sends exactly as the call does (the same code), and run no user code: the engine calls it on
 * its own thread. It may throw (a template the item cannot fill): that item is not looked up.
 */
export type ModelCallKeying = (args: ModelCallArgs) => ModelCallParts;

/** How a built-in makes its cached model call. */
export interface ModelCallDeclaration {
  keying: ModelCallKeying;
  /**
   * A target whose output is its call's answer, as it is (a `model` target's text): when the
   * answer is stored, the engine takes it as the target's output without running the target.
   */
  answerIsOutput?: boolean;
}

const DECLARATION = Symbol.for('assay.modelCall');

/** Marks a built-in target or scorer as making one cached model call per attempt, keyed by `keying`. */
export function declareModelCall<T extends object>(
  builtIn: T,
  keying: ModelCallKeying,
  opts: { answerIsOutput?: boolean } = {},
): T {
  // A symbol key: registries copy built-ins with spreads, which keep it; configs never see it.
  const declaration: ModelCallDeclaration = { keying, ...opts };
  Object.defineProperty(builtIn, DECLARATION, { value: declaration, enumerable: true });
  return builtIn;
}

/** How a built-in makes its cached model call, if it makes one. */
export const modelCallOf = (obj: object): ModelCallDeclaration | undefined =>
  (obj as { [DECLARATION]?: ModelCallDeclaration })[DECLARATION];

/** The model calls of one attempt: the answers found for it, and the calls it makes or reuses. */
export class ModelCallLog {
  readonly calls: ModelCallRecord[] = [];

  constructor(
    private readonly found: Readonly<Record<string, StoredModelCall>>,
    readonly repetition: number,
  ) {}

  /** Runs a target's or a scorer's code with this log as the one its model calls use. */
  run<T>(phase: ModelCallRecord['phase'], ownerId: string, fn: () => T): T {
    return scope.run({ log: this, phase, ownerId }, fn);
  }

  hit(key: string): StoredModelCall | undefined {
    return Object.hasOwn(this.found, key) ? this.found[key] : undefined;
  }
}

const scope = new AsyncLocalStorage<{ log: ModelCallLog; phase: ModelCallRecord['phase']; ownerId: string }>();

/** An answer and where it came from (`cachedFrom`: the run whose call produced it; null: called now). */
export interface ModelCallResult<T> {
  value: T;
  usage: Usage | null;
  cachedFrom: string | null;
}

/**
 * A built-in's model call: inside an attempt of a run that uses the cache, the stored answer of
 * the same call when the engine found one (nothing is sent), else the call, recorded for the
 * cache. Outside such an attempt, just the call. `call` returns a JSON-safe value.
 */
export async function cachedModelCall<T>(
  parts: ModelCallParts,
  call: () => Promise<{ value: T; usage: Usage | null }>,
): Promise<ModelCallResult<T>> {
  const at = scope.getStore();
  if (!at) return { ...(await call()), cachedFrom: null };
  const { log, phase, ownerId } = at;
  const key = modelCallKey(parts, log.repetition);
  const hit = log.hit(key);
  if (hit) {
    log.calls.push({ key, phase, ownerId, latencyMs: hit.latencyMs, usage: hit.usage, cachedFrom: hit.runId });
    return { value: hit.value as T, usage: hit.usage, cachedFrom: hit.runId };
  }
  const t0 = performance.now();
  const made = await call();
  const latencyMs = performance.now() - t0;
  log.calls.push({ key, phase, ownerId, latencyMs, usage: made.usage, cachedFrom: null, value: made.value });
  return { ...made, cachedFrom: null };
}
