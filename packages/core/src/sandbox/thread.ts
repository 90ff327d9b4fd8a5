import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { configExport } from '../config-export.js';
import { type AttemptProbe, runAttempt } from '../engine/attempt.js';
import { createRegistry, type Registry } from '../engine/registry.js';
import {
  HEARTBEAT_MS,
  MAX_THREADS,
  type ThreadBatch,
  type ThreadData,
  type ThreadReply,
  type ThreadResults,
  type ThreadTask,
  view,
} from './layout.js';

/**
 * A worker thread of the thread runner: loads the config once, runs attempts of items (target
 * and scorers) and keeps the shared state up to date, so the main thread can tell a busy loop
 * from a slow answer and stop this thread when user code overruns its time.
 */
const data = workerData as ThreadData;
const shared = view(data.buffer);

let index = -1;
for (let i = 0; i < MAX_THREADS && index < 0; i++) {
  if (Atomics.compareExchange(shared.owner, i, 0, threadId) === 0) index = i;
}
const beat = () => {
  if (index >= 0) shared.heartbeat[index] = Date.now();
};
beat();
let elu = performance.eventLoopUtilization();
/** Attempts finished since the last beat. */
let finished = 0;
setInterval(() => {
  // How busy this thread was since the last beat, and per attempt: the runner packs cheap
  // attempts onto one thread and spreads costly ones (thread-runner.ts, `flush` and `balancer`).
  const now = performance.eventLoopUtilization();
  const d = performance.eventLoopUtilization(now, elu);
  elu = now;
  if (index >= 0) {
    shared.busy[index] = d.utilization;
    const last = shared.cost[index]!;
    if (finished > 0) {
      const cost = d.active / finished;
      shared.cost[index] = last > 0 ? (last + cost) / 2 : cost;
      shared.costAt[index] = Date.now();
    } else if (d.utilization > 0.8) {
      // Busy, and nothing finished: at least this much per attempt.
      shared.cost[index] = Math.max(last, d.active);
      shared.costAt[index] = Date.now();
    }
  }
  finished = 0;
  beat();
}, HEARTBEAT_MS).unref();

/** One AbortController per caller's signal, while tasks of it run here. */
const groups = new Map<number, { controller: AbortController; tasks: number }>();
const channel = new BroadcastChannel(data.channel);
channel.onmessage = (e: MessageEvent) => {
  const { group, reason } = e.data as { group: number; reason: string };
  groups.get(group)?.controller.abort(new Error(reason));
};
const join = (group: number) => {
  let g = groups.get(group);
  if (!g) {
    g = { controller: new AbortController(), tasks: 0 };
    setMaxListeners(0, g.controller.signal); // one listener per attempt in flight: not a leak
    groups.set(group, g);
  }
  g.tasks++;
  return g;
};
const leave = (group: number) => {
  const g = groups.get(group);
  if (g && --g.tasks === 0) groups.delete(group);
};
(channel as unknown as { unref(): void }).unref();

let registry: Promise<Registry> | null = null;
const load = () =>
  (registry ??= import(pathToFileURL(data.configPath).href).then((mod: { default?: unknown }) =>
    createRegistry(configExport(mod) as never, { source: data.configPath }),
  ));

// Replies of batched tasks, posted to the parent a turn of the event loop's worth at a time.
let outbox: ThreadResults['results'] = [];
const flush = () => {
  if (outbox.length === 0) return;
  const results = outbox;
  outbox = [];
  parentPort?.postMessage({ assayResults: true, results } satisfies ThreadResults);
};

/**
 * A piscina task: one attempt (its reply is the result), or a batch: replies are posted as they
 * come, and those not posted yet when the batch is done are its result (one message fewer).
 */
export default async function run(task: ThreadTask | ThreadBatch): Promise<ThreadReply | ThreadResults | null> {
  if (!('batch' in task)) return runTask(task);
  await Promise.all(
    task.batch.map(async (t) => {
      const reply = await runTask(t);
      if (outbox.push([t.taskId, reply]) === 1) setImmediate(flush);
    }),
  );
  if (outbox.length === 0) return null;
  const results = outbox;
  outbox = [];
  return { assayResults: true, results };
}

const configFailure = (code: string, message: string): ThreadReply => ({
  result: { ok: false, error: { code, message, retryable: false }, retryAfterMs: null, latencyMs: 0 },
});

async function runTask(task: ThreadTask): Promise<ThreadReply> {
  const { slot, req, taskId, group } = task;
  const { controller } = join(group);
  shared.thread[slot] = index + 1;
  const probe: AttemptProbe = {
    phase(p) {
      shared.phaseAt[slot] = Date.now();
      shared.phase[slot] = p;
    },
    enter() {
      if (index >= 0) shared.sync[index] = slot + 1;
    },
    leave() {
      if (index >= 0) shared.sync[index] = 0;
      beat();
    },
  };
  try {
    // Its caller gave up before it started (cancel, lost lease): no user code runs for it.
    if (Atomics.load(shared.aborted, slot) === taskId) return { internalError: 'aborted before it started' };
    // A config this thread cannot load, or one without the run's target or scorers (changed on
    // disk since the process loaded it), fails the item with a code that says so: an error of the
    // worker instead would make the job retry the same failure for good.
    let reg: Registry;
    try {
      reg = await load();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return configFailure('CONFIG_LOAD_FAILED', `the worker thread could not load ${data.configPath}: ${why}`);
    }
    if (Atomics.load(shared.aborted, slot) === taskId) return { internalError: 'aborted before it started' };
    const target = reg.targets.get(req.targetId);
    const scorers = req.scorerIds.map((id) => reg.scorers.get(id));
    if (!target || scorers.some((s) => !s)) {
      const missing = !target ? `target '${req.targetId}'` : `scorer '${req.scorerIds[scorers.indexOf(undefined)]}'`;
      return configFailure(
        'CONFIG_MISMATCH',
        `${missing} is not in ${data.configPath} as this worker thread loaded it`,
      );
    }
    const result = await runAttempt(
      req,
      target,
      scorers as NonNullable<(typeof scorers)[0]>[],
      controller.signal,
      probe,
    );
    // A cached output is the caller's already: it is not sent back.
    return { result: req.cached && result.ok ? { ...result, output: null } : result };
  } catch (e) {
    return { internalError: e instanceof Error ? e.message : String(e) };
  } finally {
    finished++;
    leave(group);
    shared.phase[slot] = 0;
    shared.thread[slot] = 0;
  }
}
