import { canonicalJson } from '../canonical.js';
import type { Scorer, Target } from '../config.js';
import { retryAfterMs, serializeError, TimeoutError } from '../errors.js';
import type { ItemOutcome, WorkItem } from '../ports.js';
import { isLinearScorer } from '../scorers/index.js';
import type { Usage } from '../types.js';
import { ModelCallLog, type ModelCallRecord, type StoredModelCall } from './model-calls.js';

/**
 * One try of an item: the target once, then (when it answered) every scorer. This is the user
 * code of an item; it runs wherever an {@link ItemRunner} puts it (this thread, or a worker thread)
 * and its request and result are plain data, so they cross a thread boundary as they are.
 */
/** One try of one work item (its `attempt` is 1 on the first try in this run): what a runner needs. */
export interface AttemptRequest extends WorkItem {
  runId: string;
  targetId: string;
  scorerIds: string[];
  itemTimeoutMs: number;
  scorerTimeoutMs: number;
  /**
   * An output from the target cache: the target is not called, the scorers score this output. The
   * result's `output` is then not this output's copy (a thread runner sends null back): use your own.
   */
  cached?: { output: unknown; latencyMs: number; usage: Usage | null };
  /**
   * Only the target's `cacheKey` for this item is computed (bounded by `itemTimeoutMs`, where the
   * target runs): the result's `output` is its canonical JSON text, or null (do not cache the item).
   */
  cacheKeyOnly?: boolean;
  /**
   * The run uses the model-call cache: the stored answers found for this attempt's model calls, by
   * key (model-calls.ts). The result then reports every model call of a built-in (`modelCalls`).
   */
  modelCalls?: Record<string, StoredModelCall>;
}

export type AttemptResult =
  | {
      ok: true;
      output: unknown;
      latencyMs: number;
      usage: Usage | null;
      scores: ItemOutcome['scores'];
      /** What the target reported with `ctx.reportTrace` (a JSON object), if anything. */
      trace?: Record<string, unknown>;
      /** The model calls of built-ins, made or answered from the cache (with `modelCalls` in the request). */
      modelCalls?: ModelCallRecord[];
    }
  | {
      ok: false;
      error: { message: string; code: string; retryable: boolean };
      /** When the target asked to wait (`Retry-After`), in ms. */
      retryAfterMs: number | null;
      latencyMs: number;
    };

/** Runs attempts of items. Implementations decide where user code runs. */
export interface ItemRunner {
  /**
   * One attempt. `signal` aborts it (cancel, lost lease, shutdown): the promise then rejects with
   * the signal's reason, and the target's own signal fires.
   */
  attempt(req: AttemptRequest, target: Target, scorers: Scorer[], signal: AbortSignal): Promise<AttemptResult>;
  close(): Promise<void>;
}

/** Where an attempt is (phase 1: the target; 2 + k: scorer k). Lets a watchdog blame the right code. */
export interface AttemptProbe {
  phase(phase: number): void;
  /** Around the synchronous part of a call into user code. */
  enter(): void;
  leave(): void;
}

export const PHASE_TARGET = 1;
export const PHASE_SCORER = 2;

export class ScorerTimeoutError extends Error {
  readonly code = 'SCORER_TIMEOUT';
  constructor(id: string, ms: number) {
    super(`scorer '${id}' did not finish within ${ms} ms (scorerTimeoutMs)`);
    this.name = 'ScorerTimeoutError';
  }
}

/**
 * Runs a call with an AbortSignal that fires after `ms` (with `timeout()`'s error), or when `outer`
 * aborts. The call gets the signal through `signal()`: it is made on first use (an AbortController
 * costs more than an instant target's whole call, docs/benchmarks.md). A call that answers
 * synchronously is returned as it is: nothing could interrupt it, so no timer or listener is armed
 * for it (the watchdog bounds synchronous work in worker threads).
 */
export async function withTimeout<T>(
  ms: number,
  outer: AbortSignal,
  timeout: () => Error,
  fn: (signal: () => AbortSignal) => Promise<T> | T,
): Promise<T> {
  if (outer.aborted) throw outer.reason;
  const t0 = performance.now();
  let controller: AbortController | null = null;
  const control = () => {
    if (!controller) {
      controller = new AbortController();
      if (outer.aborted) controller.abort(outer.reason);
    }
    return controller;
  };
  const value = fn(() => control().signal);
  if (!isThenable(value)) return value;
  const ctl = control();
  const own = ctl.signal;
  let timer: NodeJS.Timeout | undefined;
  const onOuter = () => ctl.abort(outer.reason);
  if (outer.aborted) onOuter();
  else outer.addEventListener('abort', onOuter, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    if (own.aborted) return reject(own.reason);
    own.addEventListener('abort', () => reject(own.reason), { once: true });
    // The time its synchronous part took counts.
    timer = setTimeout(() => ctl.abort(timeout()), Math.max(0, ms - (performance.now() - t0)));
  });
  try {
    // A call that ignores its signal still loses the race against the timeout.
    return await Promise.race([value, aborted]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuter);
    aborted.catch(() => {});
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  (typeof v === 'object' || typeof v === 'function') &&
  v !== null &&
  typeof (v as { then?: unknown }).then === 'function';

/** Text from user code, made storable everywhere (PostgreSQL text cannot hold NUL). */
export const clean = (s: string) => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);

function normalizeScore(value: unknown): { score: number; reason: string | null; usage: Usage | null } {
  const v =
    typeof value === 'object' && value !== null
      ? (value as { score?: unknown; reason?: unknown; usage?: unknown })
      : { score: value };
  if (typeof v.score !== 'number' || !Number.isFinite(v.score) || v.score < 0 || v.score > 1) {
    throw new Error(`scorer returned ${JSON.stringify(value)}; expected a number in [0, 1] or { score, reason }`);
  }
  const usage = new UsageMeter();
  usage.add(v.usage as Partial<Usage> | null | undefined);
  return { score: v.score, reason: v.reason == null ? null : clean(String(v.reason)), usage: usage.value() };
}

const NO_PROBE: AttemptProbe = { phase() {}, enter() {}, leave() {} };

/** Calls user code, marking its synchronous part for the probe. */
function call<T>(probe: AttemptProbe, fn: () => T): T {
  probe.enter();
  try {
    return fn();
  } finally {
    probe.leave();
  }
}

/**
 * Every scorer of an item in parallel, each bounded by `timeoutMs`; a throwing or late scorer
 * records an error on its own score only.
 */
export async function scoreItem(
  scorers: Scorer[],
  args: Parameters<Scorer['score']>[0],
  timeoutMs = 30_000,
  probe: AttemptProbe = NO_PROBE,
  calls: ModelCallLog | null = null,
): Promise<ItemOutcome['scores']> {
  return Promise.all(
    scorers.map(async (s, k) => {
      try {
        // A linear built-in answers synchronously: no timer to arm (a synchronous overrun is the
        // watchdog's, through the probe, as for any scorer).
        const linear = isLinearScorer(s);
        if (linear) probe.phase(PHASE_SCORER + k);
        const value = linear
          ? call(probe, () => s.score({ ...args }))
          : await withTimeout(
              timeoutMs,
              args.signal,
              () => new ScorerTimeoutError(s.id, timeoutMs),
              (signal) => {
                probe.phase(PHASE_SCORER + k);
                const score = () =>
                  s.score({
                    ...args,
                    get signal() {
                      return signal();
                    },
                  });
                return call(probe, calls ? () => calls.run('scorer', s.id, score) : score);
              },
            );
        const { score, reason, usage } = normalizeScore(value);
        return { scorerId: s.id, score, reason, error: null, ...(usage ? { usage } : {}) };
      } catch (e) {
        if (args.signal.aborted) throw args.signal.reason;
        return { scorerId: s.id, score: null, reason: null, error: clean(e instanceof Error ? e.message : String(e)) };
      }
    }),
  );
}

/** Adds up what a target reports with `ctx.reportUsage`; ignores what is not a finite, non-negative number. */
class UsageMeter {
  private total: Usage | null = null;
  add(u: Partial<Usage> | null | undefined): void {
    if (!u || typeof u !== 'object') return;
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    this.total ??= { inputTokens: null, outputTokens: null, costUsd: null };
    const t = this.total;
    if (ok(u.inputTokens)) t.inputTokens = (t.inputTokens ?? 0) + Math.round(u.inputTokens!);
    if (ok(u.outputTokens)) t.outputTokens = (t.outputTokens ?? 0) + Math.round(u.outputTokens!);
    if (ok(u.costUsd)) t.costUsd = (t.costUsd ?? 0) + u.costUsd!;
  }
  value(): Usage | null {
    const t = this.total;
    return t && (t.inputTokens !== null || t.outputTokens !== null || t.costUsd !== null) ? { ...t } : null;
  }
}

/** A JSON-safe copy of a target's output, or an error naming why it cannot be stored. */
function storable(output: unknown): unknown {
  if (output === undefined) return null;
  // What JSON keeps as it is needs no copy.
  if (typeof output === 'string' || typeof output === 'boolean' || output === null) return output;
  if (typeof output === 'number') return Number.isFinite(output) ? (Object.is(output, -0) ? 0 : output) : null;
  try {
    return JSON.parse(JSON.stringify(output) ?? 'null');
  } catch (e) {
    throw new TypeError(`target output is not JSON-serializable: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * One attempt in this thread: the target bounded by `itemTimeoutMs`, then its scorers. Target
 * errors come back as data (with whether a retry can help), so the caller decides on retries.
 * Rejects only when `signal` aborts.
 */
export async function runAttempt(
  req: AttemptRequest,
  target: Target,
  scorers: Scorer[],
  signal: AbortSignal,
  probe: AttemptProbe = NO_PROBE,
): Promise<AttemptResult> {
  if (req.cacheKeyOnly) return cacheKeyAttempt(req, target, signal, probe);
  const calls = req.modelCalls ? new ModelCallLog(req.modelCalls, req.repetition) : null;
  const made = () => (calls ? { modelCalls: calls.calls.slice() } : {});
  if (req.cached) {
    const { output, latencyMs, usage } = req.cached;
    const args = { input: req.input, groundTruth: req.groundTruth, metadata: req.metadata, signal };
    const scores = await scoreItem(scorers, { ...args, output, latencyMs, usage }, req.scorerTimeoutMs, probe, calls);
    return { ok: true, output, latencyMs, usage, scores, ...made() };
  }
  const t0 = performance.now();
  const usage = new UsageMeter();
  let trace: Record<string, unknown> | null = null;
  let stored: unknown;
  let latencyMs: number;
  try {
    probe.phase(PHASE_TARGET);
    const output = await withTimeout(
      req.itemTimeoutMs,
      signal,
      () => new TimeoutError(req.itemTimeoutMs),
      (s) => {
        const run = () =>
          target.run(req.input, {
            get signal() {
              return s();
            },
            item: { id: req.itemId, groundTruth: req.groundTruth, metadata: req.metadata },
            runId: req.runId,
            attempt: req.attempt,
            repetition: req.repetition,
            reportUsage: (u) => usage.add(u),
            reportTrace: (t) => {
              if (typeof t === 'object' && t !== null && !Array.isArray(t)) trace = { ...trace, ...t };
            },
          });
        return call(probe, calls ? () => calls.run('target', req.targetId, run) : run);
      },
    );
    latencyMs = performance.now() - t0;
    stored = storable(output);
    trace = traceOf(trace);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    return {
      ok: false,
      error: serializeError(error),
      retryAfterMs: retryAfterMs(error) ?? null,
      latencyMs: performance.now() - t0,
    };
  }
  const scores = await scoreItem(
    scorers,
    {
      input: req.input,
      output: stored,
      groundTruth: req.groundTruth,
      metadata: req.metadata,
      latencyMs,
      usage: usage.value(),
      signal,
    },
    req.scorerTimeoutMs,
    probe,
    calls,
  );
  return { ok: true, output: stored, latencyMs, usage: usage.value(), scores, ...(trace ? { trace } : {}), ...made() };
}

/** A JSON-safe copy of what a target reported with `reportTrace`; what is not JSON is named, not stored. */
function traceOf(trace: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!trace || Object.keys(trace).length === 0) return null;
  try {
    return JSON.parse(JSON.stringify(trace)) as Record<string, unknown>;
  } catch (e) {
    return { error: `the reported trace is not JSON-serializable: ${e instanceof Error ? e.message : e}` };
  }
}

/** The target's `cacheKey` for one item (see {@link AttemptRequest.cacheKeyOnly}); its errors come back as data. */
async function cacheKeyAttempt(
  req: AttemptRequest,
  target: Target,
  signal: AbortSignal,
  probe: AttemptProbe,
): Promise<AttemptResult> {
  const t0 = performance.now();
  try {
    const cacheKey = target.cacheKey;
    if (typeof cacheKey !== 'function') throw new TypeError(`target '${target.id}' has no cacheKey function`);
    probe.phase(PHASE_TARGET);
    const key = await withTimeout(
      req.itemTimeoutMs,
      signal,
      () => new TimeoutError(req.itemTimeoutMs),
      (s) =>
        call(probe, () =>
          cacheKey.call(target, req.input, {
            item: { id: req.itemId, groundTruth: req.groundTruth, metadata: req.metadata },
            repetition: req.repetition,
            get signal() {
              return s();
            },
          }),
        ),
    );
    return { ok: true, output: key == null ? null : canonicalJson(key), latencyMs: 0, usage: null, scores: [] };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const e = serializeError(error);
    const message = `cacheKey of target '${target.id}' failed: ${e.message}`;
    return {
      ok: false,
      error: { message, code: 'CACHE_KEY_FAILED', retryable: false },
      retryAfterMs: null,
      latencyMs: performance.now() - t0,
    };
  }
}

/** Runs attempts on the calling thread: no isolation (for configs given as objects, and tests). */
export function createInlineRunner(): ItemRunner {
  return {
    attempt: (req, target, scorers, signal) => runAttempt(req, target, scorers, signal),
    close: async () => {},
  };
}
