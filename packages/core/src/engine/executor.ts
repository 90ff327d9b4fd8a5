import { setMaxListeners } from 'node:events';
import type { Scorer, Target } from '../config.js';
import {
  type CacheWrite,
  type ClaimedItem,
  type Clock,
  type ItemOutcome,
  type Logger,
  noopMetrics,
  type Storage,
  silentLogger,
  type WorkMetrics,
} from '../ports.js';
import { RUN_DEFAULTS } from '../schemas.js';
import { isLocalScorer } from '../scorers/index.js';
import type { Run } from '../types.js';
import { type AttemptRequest, type AttemptResult, createInlineRunner, type ItemRunner, scoreItem } from './attempt.js';
import { cachePlan } from './cache.js';
import { ClaimSizer, MAX_CLAIM } from './claim-size.js';
import { scoresInline } from './inline-scoring.js';
import { FAIL_AFTER_LOST_CLAIMS, ISOLATE_AFTER_LOST_CLAIMS, type IsolationGate } from './isolation.js';
import type { TargetLimiter } from './limits.js';
import { ModelCallReader, withModelCalls } from './model-call-cache.js';
import type { ModelCallRecord, StoredModelCall } from './model-calls.js';
import { SourceOutputs } from './rescore.js';
import { type CacheLookup, type OutputSource, type Reuse, RunCache } from './run-cache.js';
import { Semaphore } from './semaphore.js';
import { OutcomeWriter, type WriterOptions } from './writer.js';

export interface ExecutorDeps {
  storage: Storage;
  clock: Clock;
  /** A target's `maxConcurrency` and `rateLimit`, shared by every run (per process, or across workers). */
  limiter?: TargetLimiter;
  /** First retry delay of a retryable target error, in ms (doubles per try, with jitter). Default 500. */
  retryBaseMs?: number;
  /** Longest retry delay in ms. Default 30 000. */
  retryMaxMs?: number;
  writer?: WriterOptions;
  /** Shared by every execution in the process: lets a suspect item run alone (see isolation.ts). */
  isolation?: IsolationGate;
  /** Where targets and scorers run. Default: on this thread (no isolation). */
  runner?: ItemRunner;
  /** Where the run's lines go (each carries `runId`; item lines `itemId`). Default: nowhere. */
  log?: Logger;
  /** Told of every stored item outcome and every lost claim taken over. Default: nobody. */
  metrics?: WorkMetrics;
}

const inline = createInlineRunner();
/** Items started between two turns of the event loop at most. */
const YIELD_EVERY = 64;

export interface ExecuteParams {
  run: Run;
  /** Who claims the items (`host:pid:…#slot`); recorded on each result. */
  workerId: string;
  /** Items in flight at once for this execution. Default `run.options.maxConcurrency`. */
  concurrency?: number;
  /** Lease of claimed items; renewed every third of it while the execution lives. Default 15 000. */
  leaseMs?: number;
  target: Target;
  scorers: Scorer[];
  /** Aborted when the worker loses the run (lease lost, shutdown): stop, record nothing more. */
  signal: AbortSignal;
  onProgress?: (counts: { succeeded: number; failed: number }) => void;
}

/** The outcome of an item that failed: no output, no scores. */
function failed(
  item: ClaimedItem,
  workerId: string,
  attempt: number,
  error: ItemOutcome['error'],
  latencyMs: number | null,
  startedAt: string,
  completedAt: string,
): ItemOutcome {
  const { itemId, claimToken, repetition } = item;
  return {
    itemId,
    claimToken,
    workerId,
    repetition,
    status: 'failed',
    attempt,
    output: null,
    error,
    latencyMs,
    usage: null,
    startedAt,
    completedAt,
    scores: [],
  };
}

/**
 * Executes one item: target with timeout and abort signal, retries on retryable errors with
 * exponential backoff and jitter (honouring Retry-After), then scorers. Returns null when the
 * run-level signal aborted: the item stays pending for whoever owns the run next.
 */
type ItemParams = Pick<ExecuteParams, 'run' | 'target' | 'scorers' | 'signal' | 'workerId'> & {
  /** Where stored outputs are found before the target is called (the output cache, a re-score's source run). */
  cache?: OutputSource | null;
};

export async function executeItem(deps: ExecutorDeps, p: ItemParams, item: ClaimedItem): Promise<ItemOutcome | null> {
  const lost = item.lostClaims ?? 0;
  if (lost >= FAIL_AFTER_LOST_CLAIMS) {
    // It took its worker down (or its worker lost it) every time: never run it again.
    const at = new Date(deps.clock.now()).toISOString();
    const error = {
      message:
        `the worker running this item stopped ${lost} times before it finished (a crash, kill -9 or a ` +
        'lost lease); it is not run again. Retry the run to give it another chance.',
      code: 'WORKER_LOST',
      retryable: false,
    };
    return failed(item, p.workerId, item.attempt + 1, error, null, at, at);
  }
  const gate = deps.isolation;
  const alone = lost >= ISOLATE_AFTER_LOST_CLAIMS;
  if (gate) {
    if (alone) await gate.enterExclusive();
    else {
      const wait = gate.enterShared();
      if (wait) await wait;
    }
  }
  try {
    if (p.signal.aborted) return null;
    // A suspect's next loss counts only if it was running: say so before its target is called.
    if (lost > 0) await deps.storage.markStarted(p.run.id, item.itemId, item.repetition, item.claimToken);
    return await runItem(deps, p, item);
  } finally {
    if (gate) {
      if (alone) gate.leaveExclusive();
      else gate.leaveShared();
    }
  }
}

/** The attempt request of an item's try number `attempt` (with `calls`: the run uses the model-call cache). */
function requestOf(
  p: ItemParams,
  item: ClaimedItem,
  attempt: number,
  calls?: Record<string, StoredModelCall>,
): AttemptRequest {
  const { run } = p;
  return {
    runId: run.id,
    targetId: p.target.id,
    scorerIds: p.scorers.map((s) => s.id),
    itemId: item.itemId,
    repetition: item.repetition,
    attempt,
    input: item.input,
    groundTruth: item.groundTruth,
    metadata: item.metadata,
    itemTimeoutMs: run.options.itemTimeoutMs,
    scorerTimeoutMs: run.options.scorerTimeoutMs ?? RUN_DEFAULTS.scorerTimeoutMs,
    ...(calls ? { modelCalls: calls } : {}),
  };
}

/** Runs one attempt; null when the run-level signal aborted it. */
async function attemptOf(
  deps: ExecutorDeps,
  p: ItemParams,
  req: AttemptRequest,
  limited: boolean,
): Promise<AttemptResult | null> {
  const runner = deps.runner ?? inline;
  try {
    const release = limited && deps.limiter ? await deps.limiter.acquire(p.target, p.signal) : undefined;
    try {
      return await runner.attempt(req, p.target, p.scorers, p.signal);
    } finally {
      release?.();
    }
  } catch (error) {
    if (p.signal.aborted) return null;
    throw error;
  }
}

/**
 * An item whose output the cache holds: the target is not called (nor its limits taken); the
 * scorers score the stored output, which keeps its first latency and usage.
 */
async function fromCache(
  deps: ExecutorDeps,
  p: ItemParams,
  item: ClaimedItem,
  hit: Reuse,
  startedAt: string,
  calls: Record<string, StoredModelCall> | undefined,
): Promise<ItemOutcome | null> {
  const attempt = item.attempt + 1;
  const latencyMs = hit.latencyMs ?? 0;
  let scores: ItemOutcome['scores'] = [];
  let made: ModelCallRecord[] | undefined;
  if (p.scorers.length) {
    const cached = { output: hit.output, latencyMs, usage: hit.usage };
    const values = [item.input, item.groundTruth, item.metadata, hit.output];
    if (scoresInline(p.scorers, values)) {
      const args = { input: item.input, groundTruth: item.groundTruth, metadata: item.metadata, signal: p.signal };
      try {
        scores = await scoreItem(p.scorers, { ...args, ...cached });
      } catch (error) {
        if (p.signal.aborted) return null;
        throw error;
      }
    } else {
      const result = await attemptOf(deps, p, { ...requestOf(p, item, attempt, calls), cached }, false);
      if (!result) return null;
      const at = new Date(deps.clock.now()).toISOString();
      if (!result.ok) return failed(item, p.workerId, attempt, result.error, null, startedAt, at);
      scores = result.scores;
      made = result.modelCalls;
    }
  }
  return withCalls(p, made, {
    itemId: item.itemId,
    claimToken: item.claimToken,
    workerId: p.workerId,
    repetition: item.repetition,
    status: 'succeeded',
    attempt,
    output: hit.output,
    error: null,
    latencyMs: hit.latencyMs,
    usage: hit.usage,
    startedAt,
    completedAt: new Date(deps.clock.now()).toISOString(),
    scores,
    cachedFrom: hit.runId,
  });
}

/** An outcome with the model calls of its attempt, when the run caches them. */
const withCalls = (p: ItemParams, calls: ModelCallRecord[] | undefined, outcome: ItemOutcome): ItemOutcome =>
  p.cache?.modelCalls ? withModelCalls(outcome, calls, p.cache.modelCalls.mode) : outcome;

async function runItem(deps: ExecutorDeps, p: ItemParams, item: ClaimedItem): Promise<ItemOutcome | null> {
  const { signal } = p;
  const { clock } = deps;
  const startedAt = new Date(clock.now()).toISOString();
  let cacheWrite: CacheWrite | null = null;
  let calls: Record<string, StoredModelCall> | undefined;
  let share: ((output: Reuse | null) => void) | null = null;
  if (p.cache) {
    // Before the target: a hit never calls it.
    let found: CacheLookup;
    try {
      found = await p.cache.lookup(item);
    } catch (error) {
      if (signal.aborted) return null;
      throw error;
    }
    if (signal.aborted) return null;
    if (found.error) {
      const at = new Date(clock.now()).toISOString();
      return failed(item, p.workerId, item.attempt + 1, found.error, null, startedAt, at);
    }
    if (p.cache.modelCalls) calls = found.calls ?? {};
    if (found.hit) return fromCache(deps, p, item, found.hit, startedAt, calls);
    // An item computing the same key now (in this run or another): its output, once it has one.
    while (found.key && p.cache.shared) {
      const turn = p.cache.shared.take(found.key);
      if (turn.first) {
        share = turn.settle;
        // Its batch was looked up when it was claimed: an item with its key was stored since.
        let stored: Reuse | null = null;
        try {
          stored = turn.stored ? ((await p.cache.reread?.(found.key)) ?? null) : null;
        } catch (error) {
          share(null);
          if (signal.aborted) return null;
          throw error;
        }
        if (stored) {
          share(stored);
          share = null;
          return fromCache(deps, p, item, stored, startedAt, calls);
        }
        break;
      }
      const reuse = await turn.output;
      if (signal.aborted) return null;
      if (reuse) return fromCache(deps, p, item, reuse, startedAt, calls);
    }
    if (found.key && p.cache.write) cacheWrite = { key: found.key, targetId: p.target.id };
  }
  try {
    const outcome = await attempts(deps, p, item, { startedAt, calls, cacheWrite });
    if (share && outcome?.status === 'succeeded') {
      // Shared once it is stored: an item that comes after then finds it in the cache.
      const settle = share;
      share = null;
      const output = { output: outcome.output, latencyMs: outcome.latencyMs, usage: outcome.usage, runId: p.run.id };
      whenStored.set(outcome, (stored) => settle(stored ? output : null));
    }
    return outcome;
  } finally {
    share?.(null); // no output to share
  }
}

/** What to do once an outcome is stored (true) or will not be (false): see {@link SharedOutputs}. */
const whenStored = new WeakMap<ItemOutcome, (stored: boolean) => void>();

/** The tries of an item's target (and scorers), with retries. */
async function attempts(
  deps: ExecutorDeps,
  p: ItemParams,
  item: ClaimedItem,
  c: { startedAt: string; calls: Record<string, StoredModelCall> | undefined; cacheWrite: CacheWrite | null },
): Promise<ItemOutcome | null> {
  const { run, signal } = p;
  const { clock } = deps;
  const { startedAt, calls, cacheWrite } = c;
  const base = deps.retryBaseMs ?? 500;
  const max = deps.retryMaxMs ?? 30_000;
  let attempt = item.attempt;
  for (let tryNo = 1; ; tryNo++) {
    attempt++;
    const result = await attemptOf(deps, p, requestOf(p, item, attempt, calls), true);
    if (!result) return null;
    if (result.ok) {
      return withCalls(p, result.modelCalls, {
        itemId: item.itemId,
        claimToken: item.claimToken,
        workerId: p.workerId,
        repetition: item.repetition,
        status: 'succeeded',
        attempt,
        output: result.output,
        error: null,
        latencyMs: result.latencyMs,
        usage: result.usage,
        ...(result.trace ? { trace: result.trace } : {}),
        startedAt,
        completedAt: new Date(clock.now()).toISOString(),
        scores: result.scores,
        cacheWrite,
      });
    }
    if (tryNo <= run.options.maxRetries && result.error.retryable) {
      const exp = Math.min(max, base * 2 ** (tryNo - 1));
      const wait = Math.max(result.retryAfterMs ?? 0, exp / 2 + (exp / 2) * clock.random());
      try {
        await clock.sleep(Math.min(wait, max), signal);
      } catch {
        return null;
      }
      continue;
    }
    return failed(
      item,
      p.workerId,
      attempt,
      result.error,
      result.latencyMs,
      startedAt,
      new Date(clock.now()).toISOString(),
    );
  }
}

/**
 * Where an execution finds stored outputs: a re-score's source run (every item, the target is never
 * called), or the output cache when the run uses it and its target can be cached.
 */
function runCacheOf(deps: ExecutorDeps, p: ExecuteParams): OutputSource | null {
  const calls = (read: boolean, write: boolean) =>
    ModelCallReader.of({ read, write }, p.run.id, p.target, p.scorers, deps.storage);
  // A re-score reads and writes the model-call cache unless it says otherwise: its judge is free
  // the second time.
  if (p.run.sourceRunId) {
    const mode = p.run.options.cache ?? 'readwrite';
    const reads = mode === 'read' || mode === 'readwrite';
    const writes = mode === 'write' || mode === 'readwrite';
    return new SourceOutputs(p.run.sourceRunId, deps.storage, calls(reads, writes));
  }
  const plan = cachePlan(p.run, p.target);
  if (!plan) return null;
  const runner = deps.runner ?? inline;
  const customKey = async (item: ClaimedItem) => {
    const req = { ...requestOf(p, item, item.attempt + 1), cacheKeyOnly: true };
    const r = await runner.attempt(req, p.target, p.scorers, p.signal);
    return r.ok ? { key: r.output as string | null } : { error: r.error };
  };
  return new RunCache(plan, deps.storage, customKey, calls(plan.read, plan.write));
}

/** Why {@link executeRun} returned before every item was done (null: it finished them all). */
export type StopReason = null | 'aborted' | 'stopping' | 'circuit';

export interface ExecuteResult {
  stopped: StopReason;
  /** Set when the circuit breaker opened: the last item error. */
  lastError: { message: string; code: string } | null;
  consecutiveFailures: number;
}

/**
 * Drives the items of a run through {@link executeItem}, claiming them from storage in batches
 * (so several workers can share one run, and the run is never held in memory) with at most
 * `concurrency` in flight. Outcomes are group-committed by an {@link OutcomeWriter}; each carries
 * its claim token, so a worker that lost an item can never store it. Claim leases are renewed
 * while this runs, and the claims not worked on are handed back when it stops early.
 *
 * Returns when nothing is left to claim, or early when `signal` aborts (in-flight items are
 * abandoned), when `stopping` aborts (nothing new starts; in-flight items finish and are stored),
 * or when `maxConsecutiveFailures` items fail in a row (the circuit breaker).
 */
export async function executeRun(
  deps: ExecutorDeps,
  p: ExecuteParams & { stopping?: AbortSignal },
): Promise<ExecuteResult> {
  const { storage } = deps;
  const runId = p.run.id;
  const concurrency = Math.max(1, p.concurrency ?? p.run.options.maxConcurrency);
  const leaseMs = p.leaseMs ?? 15_000;
  const breakAfter = p.run.options.maxConsecutiveFailures;
  const writer = new OutcomeWriter(storage, runId, deps.clock, (c) => p.onProgress?.(c), deps.writer);
  const log = (deps.log ?? silentLogger).child({ runId, workerId: p.workerId });
  const metrics = deps.metrics ?? noopMetrics;
  const targetId = p.target.id;
  /** Once an outcome is durable: the item's metrics and its log line. */
  const stored = (o: ItemOutcome) => {
    const durationMs = Math.max(0, Date.parse(o.completedAt) - Date.parse(o.startedAt));
    // A cached result's latency is its first computation's: the target was not called now.
    const targetLatencyMs = o.cachedFrom ? null : o.latencyMs;
    metrics.itemFinished({ runId, targetId, status: o.status, durationMs, targetLatencyMs });
    const fields = { itemId: o.itemId, repetition: o.repetition, attempt: o.attempt, status: o.status, durationMs };
    if (o.status === 'succeeded') log.debug(fields, 'item succeeded');
    else if (o.error?.code === 'WORKER_LOST')
      log.warn({ ...fields, error: o.error }, 'item failed: it lost its worker too often');
    else log.debug({ ...fields, error: o.error }, 'item failed');
  };
  /** Items taken over from a claim whose lease ran out: that claim was lost. */
  const tookOver = (batch: ClaimedItem[]) => {
    const lost = batch.filter((c) => c.takenOver);
    if (lost.length === 0) return batch;
    metrics.claimsLost(lost.length);
    for (const c of lost)
      log.warn(
        { itemId: c.itemId, repetition: c.repetition, lostClaims: c.lostClaims },
        'item taken over: the claim of its last worker ran out without an outcome',
      );
    return batch;
  };
  const circuit = new AbortController();
  const signal = AbortSignal.any([p.signal, circuit.signal]);
  setMaxListeners(0, signal); // one listener per item in flight: not a leak
  const slots = new Semaphore(concurrency);
  const unstored = new Semaphore(Math.max(500, concurrency * 4));
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let consecutiveFailures = 0;
  let lastError: ExecuteResult['lastError'] = null;
  const halted = () => signal.aborted || p.stopping?.aborted || failure !== null;
  const heartbeat = setInterval(
    () => void storage.extendClaims(runId, p.workerId, leaseMs).catch(() => {}),
    Math.max(50, Math.floor(leaseMs / 3)),
  );

  const record = (outcome: ItemOutcome | null) => {
    if (!outcome) return;
    const settle = whenStored.get(outcome);
    if (circuit.signal.aborted) return settle?.(false);
    if (outcome.status === 'failed') {
      consecutiveFailures++;
      lastError = { message: outcome.error?.message ?? 'unknown error', code: outcome.error?.code ?? 'TARGET_ERROR' };
      if (breakAfter > 0 && consecutiveFailures >= breakAfter) circuit.abort(new Error('circuit breaker opened'));
    } else consecutiveFailures = 0;
    return writer.add(outcome).then(
      () => {
        settle?.(true);
        stored(outcome);
      },
      (e) => {
        settle?.(false);
        throw e;
      },
    );
  };

  // Claims come in batches of at least 2 × `concurrency` (ClaimSizer); the next batch is claimed
  // while the current one runs (claim ahead), so slots never wait for a claim transaction.
  let buffer: ClaimedItem[] = [];
  let ahead: Promise<ClaimedItem[]> | null = null;
  const cache = runCacheOf(deps, p);
  const scoresLocally = p.scorers.every(isLocalScorer);
  // While claimed batches find their outputs stored (a re-score, a rerun from the cache), the
  // target is hardly called: the largest claims, fewer claim transactions. Otherwise the claim
  // follows the run's pace (see ClaimSizer).
  const sizer = new ClaimSizer(concurrency);
  let reading = false;
  let started = 0;
  let finished = 0;
  let claimSize = concurrency * 2;
  const claim = () => {
    claimSize = reading ? Math.max(concurrency * 2, MAX_CLAIM) : sizer.next(finished);
    return storage
      .claimWork(runId, p.workerId, claimSize, leaseMs)
      .then(tookOver)
      .then((batch) => (cache ? cache.prepare(batch) : batch))
      .then((batch) => {
        if (cache && batch.length) reading = cache.reusedIn(batch) >= batch.length * 0.9;
        return batch;
      });
  };
  try {
    while (!halted()) {
      if (buffer.length === 0) {
        buffer = await (ahead ?? claim());
        ahead = null;
        if (buffer.length === 0) break;
      }
      if (!ahead && buffer.length <= Math.max(concurrency, claimSize / 2)) {
        // After the items being started now (setImmediate): SQLite commits block the event loop.
        ahead = new Promise((r) => setImmediate(r)).then(claim);
        ahead.catch(() => {}); // awaited above or in `finally`
      }
      // Items that finish without leaving this thread (stored outputs scored here, an inline runner)
      // would otherwise start one after another in a single turn of the event loop.
      if (++started % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      // A concurrency slot is held while the target and scorers run; an `unstored` permit until the
      // outcome is durable, so the group commit can batch beyond `concurrency` yet stays bounded.
      // An item whose output is stored and whose scorers call nothing outside (built-ins other than
      // llm-judge) loads neither the target nor a provider: it needs the permit only.
      await unstored.acquire();
      const held = !(scoresLocally && cache?.reuses(buffer[0]!));
      if (held) await slots.acquire();
      if (halted()) {
        if (held) slots.release();
        unstored.release();
        break;
      }
      const item = buffer.shift()!;
      const task = executeItem(deps, { ...p, signal, cache }, item)
        .then(
          (outcome) => {
            if (held) slots.release();
            return record(outcome);
          },
          (e) => {
            if (held) slots.release();
            throw e;
          },
        )
        .catch((e) => {
          failure ??= e;
        })
        .finally(() => {
          finished++;
          unstored.release();
          inFlight.delete(task);
        });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
    await writer.flush().catch((e) => {
      failure ??= e;
    });
  } finally {
    clearInterval(heartbeat);
    if (ahead) buffer.push(...(await ahead.catch(() => [])));
  }
  // Claimed but not finished here (never started, or abandoned): back to the queue at once.
  if (buffer.length || halted()) await storage.releaseClaims(runId, p.workerId).catch(() => {});
  if (failure) throw failure;
  const stopped: StopReason = circuit.signal.aborted
    ? 'circuit'
    : p.signal.aborted
      ? 'aborted'
      : p.stopping?.aborted
        ? 'stopping'
        : null;
  return { stopped, lastError, consecutiveFailures };
}
