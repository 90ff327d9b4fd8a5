import { AssayError } from './errors.js';
import type { Json, Usage } from './types.js';

export type TargetType = 'agent' | 'workflow' | 'function';

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
}

/**
 * A system under test.
 * @example defineTarget({ id: 'echo', type: 'function', run: async (input) => input })
 */
export interface Target<I = any, O = unknown> {
  id: string;
  type: TargetType;
  description?: string;
  /**
   * Max calls in flight across all runs: per worker process embedded; across all workers together
   * when scaled out (a Redis semaphore).
   */
  maxConcurrency?: number;
  /** At most `max` calls started per `perMs` window, across all runs and workers (a provider's quota). */
  rateLimit?: { max: number; perMs: number };
  run(input: I, ctx: TargetContext): Promise<O> | O;
}

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

export type ScoreValue = number | { score: number; reason?: string | null };

/**
 * Scores one output in [0, 1].
 * @example defineScorer({ id: 'non-empty', score: ({ output }) => (output ? 1 : 0) })
 */
export interface Scorer<I = any, O = any, G = any> {
  id: string;
  description?: string;
  score(args: ScoreArgs<I, O, G>): Promise<ScoreValue> | ScoreValue;
}

export interface AssayConfig {
  targets: Target[];
  scorers?: Scorer[];
}

/** Adds types only: a plain object with the same shape works just as well. */
export const defineConfig = <C extends AssayConfig>(config: C): C => config;
export const defineTarget = <I = any, O = unknown>(target: Target<I, O>): Target<I, O> => target;
export const defineScorer = <I = any, O = any, G = any>(scorer: Scorer<I, O, G>): Scorer<I, O, G> => scorer;

const TARGET_TYPES = ['agent', 'workflow', 'function'];
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Checks a loaded config module's default export and names the first problem precisely
 * (`targets[1].run must be a function`), so a user can fix it without reading our code.
 */
export function validateConfig(raw: unknown, source = 'config'): Required<AssayConfig> {
  const fail = (message: string): never => {
    throw new AssayError('INVALID_CONFIG', `${source}: ${message}`, 400);
  };
  if (typeof raw !== 'object' || raw === null) fail('the default export must be an object { targets, scorers }');
  const cfg = raw as Record<string, unknown>;
  const targets = cfg.targets ?? [];
  const scorers = cfg.scorers ?? [];
  if (!Array.isArray(targets)) fail('targets must be an array');
  if (!Array.isArray(scorers)) fail('scorers must be an array');
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
    if (typeof target.run !== 'function') fail(`${at}.run must be a function (input, ctx) => output`);
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
    if (typeof scorer.score !== 'function')
      fail(`${at}.score must be a function ({ input, output, groundTruth }) => number`);
  });
  return { targets: targets as Target[], scorers: scorers as Scorer[] };
}

export type { Json };
