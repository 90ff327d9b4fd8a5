import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AttemptRequest, AttemptResult, ItemRunner } from '../engine/attempt.js';
import { newId } from '../ids.js';
import {
  allocate,
  HEARTBEAT_MS,
  isResults,
  MAX_SLOTS,
  MAX_THREADS,
  type ThreadBatch,
  type ThreadData,
  type ThreadReply,
  type ThreadTask,
  view,
} from './layout.js';

export interface ThreadRunnerOptions {
  /** The config module each worker thread loads (the same the process loaded). */
  configPath: string;
  /** Worker threads that run items. Default: the number of CPUs, at least 2. */
  threads?: number;
  /** A thread whose heartbeat is older than this is busy in synchronous code, ms. Default 1 000. */
  stallMs?: number;
  /** Slack on top of a phase's time limit before its thread is stopped, ms. Default 1 000. */
  graceMs?: number;
  log?: (message: string) => void;
}

interface Task {
  id: number;
  slot: number;
  req: AttemptRequest;
  /** Set by the watchdog when this task's user code overran: the item fails with it. */
  verdict: { code: string; message: string } | null;
  /** Set when its thread was stopped for another item's known fault: it runs again on the pool. */
  innocent: boolean;
  startedAt: number;
  /** Past this time (ms) with no answer from its thread, the attempt fails (`USER_CODE_LOST`). */
  deadline: number;
  /** The caller's signal: once it aborted, nothing runs again. */
  outer: AbortSignal;
  /** The caller's promise, until it is settled (an answer, a lost reply, or the caller's abort). */
  caller: { resolve: (r: AttemptResult) => void; reject: (e: unknown) => void } | null;
  /** Its slot was given back: whatever comes later for this task is ignored. */
  done: boolean;
}

const BOOTSTRAP = new URL('./bootstrap.mjs', import.meta.url).href;
/** Quarantine threads at a time (each runs one item). */
const QUARANTINE_THREADS = 2;
/** The fewest attempts in a piece of a batch (each piece is one message each way), unless they are costly. */
const MIN_PIECE = 8;
/** Pieces a tick's batch is split to, per thread: a thread answers each piece once it is done. */
const PIECES_PER_THREAD = 2;
/** A thread busier than this (event-loop utilization over its last heartbeat period) is full. */
const FULL = 0.8;
/** A batch whose attempts take less than this (ms, at the threads' recent cost) is packed onto one thread. */
const PACK_MS = 4;

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;
type PiscinaWorker = Parameters<Balancer>[1][number];

/**
 * Runs attempts in worker threads (a piscina pool), so that targets and scorers — user code, and
 * built-ins fed with user data — never block the thread that serves HTTP and renews leases.
 *
 * A watchdog on this thread reads each worker thread's heartbeat from shared memory. When a thread
 * stops beating because user code is busy synchronously, it knows whose code (the thread marks the
 * synchronous part of every call into user code) and for how long, and stops the thread once that
 * target overran `itemTimeoutMs` or that scorer overran `scorerTimeoutMs`: the item fails with
 * `TARGET_TIMEOUT` or `SCORER_TIMEOUT`; the other items of that thread run again. When it cannot
 * tell (the busy code is an async continuation and several items share the thread), it stops the
 * thread after the longest limit and runs each of its items again in quarantine, one item
 * per thread, where the blame is certain. An item whose code ends its thread there (e.g. calls
 * `process.exit`) fails with `USER_CODE_EXITED`.
 */
export function createThreadRunner(opts: ThreadRunnerOptions): ItemRunner & { threads: number } {
  const threads = Math.min(MAX_THREADS - 4, Math.max(1, opts.threads ?? Math.max(2, availableParallelism())));
  const stallMs = opts.stallMs ?? 1_000;
  const graceMs = opts.graceMs ?? 1_000;
  const buffer = allocate();
  const shared = view(buffer);
  const channelName = `assay-abort:${newId('pool')}`;
  const channel = new BroadcastChannel(channelName);
  (channel as unknown as { unref(): void }).unref();
  const workerData: ThreadData = { configPath: opts.configPath, buffer, channel: channelName };
  const common = { filename: BOOTSTRAP, workerData, atomics: 'disabled' as const, closeTimeout: 1_000 };
  /**
   * Where the pieces of a batch go. A batch that is cheap at the threads' recent cost per attempt
   * is packed: the first thread (in a stable order) that is not full — its event loop busy less
   * than {@link FULL} of its last heartbeat period — takes it, else the least busy. A thread that
   * stopped beating gets nothing while another can take it.
   * Quick attempts then stay on one thread and leave the other CPUs to this thread, which claims
   * and stores them (on 2 CPUs, spreading W1's instant target over both threads costs it ≈ 10 % of
   * its throughput, docs/benchmarks.md); a thread held up by user code, or kept busy, fills the
   * next. A costly batch (or one of unknown cost) is spread: each piece to the least busy thread.
   */
  let spreading = true;
  const balancer: Balancer = (_task, workers) => {
    const now = Date.now();
    let least: PiscinaWorker | null = null;
    let stuck: PiscinaWorker | null = null; // not beating: busy user code holds its event loop
    for (const w of workers) {
      if (w.terminating || w.destroyed) continue;
      const i = shared.owner.indexOf(w.id);
      if (i >= 0 && now - shared.heartbeat[i]! >= 3 * HEARTBEAT_MS) {
        stuck ??= w;
        continue;
      }
      if (!spreading && i >= 0 && shared.busy[i]! < FULL) return w;
      if (!least || w.currentUsage < least.currentUsage) least = w;
    }
    return least ?? stuck;
  };
  /** The threads' most recent busy time per attempt (ms), or null before any was measured. */
  const recentCost = (): number | null => {
    let at = 0;
    let cost: number | null = null;
    for (let i = 0; i < MAX_THREADS; i++) {
      if (shared.owner[i] !== 0 && shared.costAt[i]! > at) {
        at = shared.costAt[i]!;
        cost = shared.cost[i]!;
      }
    }
    return cost;
  };
  const pool = new Piscina({
    ...common,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1_000,
    loadBalancer: balancer,
    idleTimeout: 60_000,
  });
  const alone = new Map<number, Worker>(); // quarantine threads by thread id
  const quarantineQueue: (() => void)[] = [];
  /** Frees the shared-state index of a thread that ended. */
  const release = (threadId: number) => {
    for (let i = 0; i < MAX_THREADS; i++) Atomics.compareExchange(shared.owner, i, threadId, 0);
  };
  const free: number[] = Array.from({ length: MAX_SLOTS }, (_, i) => MAX_SLOTS - 1 - i);
  const waiting: ((slot: number) => void)[] = [];
  const active = new Map<number, Task>(); // by slot
  let seq = 0;
  let closed = false;

  const takeSlot = (): Promise<number> | number => free.pop() ?? new Promise((r) => waiting.push(r));
  const giveSlot = (slot: number) => {
    shared.phase[slot] = 0;
    Atomics.store(shared.aborted, slot, 0);
    shared.thread[slot] = 0;
    const next = waiting.shift();
    if (next) next(slot);
    else free.push(slot);
  };

  const limitOf = (t: Task) => {
    const phase = shared.phase[t.slot];
    return phase >= 2 ? t.req.scorerTimeoutMs : t.req.itemTimeoutMs;
  };
  const overrun = (t: Task): Task['verdict'] => {
    const phase = shared.phase[t.slot];
    if (phase >= 2) {
      const id = t.req.scorerIds[phase - 2] ?? '?';
      return {
        code: 'SCORER_TIMEOUT',
        message:
          `scorer '${id}' ran for more than ${t.req.scorerTimeoutMs} ms without yielding (scorerTimeoutMs); ` +
          'its worker thread was stopped and the item failed',
      };
    }
    return {
      code: 'TARGET_TIMEOUT',
      message:
        `target '${t.req.targetId}' ran for more than ${t.req.itemTimeoutMs} ms without yielding ` +
        '(synchronous work past itemTimeoutMs); its worker thread was stopped',
    };
  };

  /**
   * Stops thread `index`: piscina sees it exit and fails every task on it, which then run again
   * unless they are to blame. (Tasks are never given piscina an AbortSignal: its balancer would
   * then run one task per thread at a time.)
   */
  const stop = (index: number) => {
    const id = shared.owner[index];
    shared.owner[index] = 0;
    shared.heartbeat[index] = 0;
    for (const worker of pool.threads) if (worker.threadId === id) void worker.terminate();
    void alone.get(id)?.terminate();
  };

  const watchdog = setInterval(() => {
    const now = Date.now();
    // Last line of the liveness invariant: an attempt whose thread never answers (a lost reply)
    // fails after its limits plus slack, instead of holding its item's claim forever.
    for (const t of active.values()) {
      if (now > t.deadline) {
        const ms = t.deadline - t.startedAt;
        finish(t, failure(t, 'USER_CODE_LOST', `no answer from the worker thread running this item within ${ms} ms`));
      }
    }
    for (let i = 0; i < MAX_THREADS; i++) {
      if (shared.owner[i] === 0) continue;
      const age = now - shared.heartbeat[i];
      if (age < stallMs) continue;
      const on = [...active.values()].filter((t) => shared.thread[t.slot] === i + 1);
      if (on.length === 0) {
        if (age > 30_000) shared.owner[i] = 0; // a thread that is gone
        continue;
      }
      const busy = shared.sync[i] > 0 ? active.get(shared.sync[i] - 1) : on.length === 1 ? on[0] : undefined;
      if (busy) {
        if (now - shared.phaseAt[busy.slot] > limitOf(busy) + graceMs) {
          const verdict = overrun(busy);
          busy.verdict = verdict;
          for (const t of on) if (t !== busy) t.innocent = true;
          opts.log?.(`[assay] ${verdict?.message} (item ${busy.req.itemId}, run ${busy.req.runId})`);
          stop(i);
        }
      } else if (age > Math.max(...on.map(limitOf)) + graceMs) {
        opts.log?.(`[assay] a worker thread was busy for ${age} ms; its ${on.length} items run again one by one`);
        stop(i);
      }
    }
  }, 100);
  watchdog.unref(); // ref'd while attempts are active (their deadlines are checked here)

  const failure = (t: Task, code: string, message: string): AttemptResult => ({
    ok: false,
    error: { code, message, retryable: false },
    retryAfterMs: null,
    latencyMs: Date.now() - t.startedAt,
  });

  // The main pool gets attempts in batches — those started in one turn of the event loop go as one
  // piscina task — and each thread posts results back as they finish, several per message (those
  // still unposted when its batch is done come back as the task's result): per attempt this costs
  // a fraction of a piscina task (docs/benchmarks.md, issue 10).
  const replies = new Map<number, { resolve: (r: ThreadReply) => void; reject: (e: unknown) => void }>();
  let outbox: ThreadTask[] = [];
  const flush = () => {
    const all = outbox;
    outbox = [];
    // Pieces of at least MIN_PIECE attempts, a few per thread: piscina gives each task to one
    // thread, and a thread answers each piece once it is done. See `balancer` for where they go.
    const cost = recentCost();
    spreading = cost === null || cost * all.length >= PACK_MS;
    const least = spreading && cost !== null ? 1 : MIN_PIECE; // costly attempts are worth a message each
    const pieces = Math.max(1, Math.min(PIECES_PER_THREAD * threads, Math.floor(all.length / least)));
    if (pieces === 1) return send(all);
    const size = Math.ceil(all.length / pieces);
    for (let i = 0; i < all.length; i += size) send(all.slice(i, i + size));
  };
  const deliver = (m: unknown) => {
    if (!isResults(m)) return;
    for (const [taskId, reply] of m.results) {
      const waiting = replies.get(taskId);
      replies.delete(taskId);
      waiting?.resolve(reply);
    }
  };
  const send = (batch: ThreadTask[]) => {
    pool.run({ batch } satisfies ThreadBatch).then(deliver, (e) => {
      // The thread ended: whatever it had not answered is lost with it.
      for (const { taskId } of batch) {
        const waiting = replies.get(taskId);
        replies.delete(taskId);
        waiting?.reject(e);
      }
    });
  };
  pool.on('message', deliver);
  const batched = (payload: ThreadTask) =>
    new Promise<ThreadReply>((resolve, reject) => {
      replies.set(payload.taskId, { resolve, reject });
      if (outbox.push(payload) === 1) setImmediate(flush);
    });

  /**
   * Quarantine: runs one task on a thread of its own, started for it (at most
   * {@link QUARANTINE_THREADS} at a time). Its own threads rather than a second piscina pool: a
   * pool whose last busy threads are stopped leaves its queued tasks waiting for good.
   */
  const quarantined = async (payload: ThreadTask): Promise<ThreadReply> => {
    while (alone.size >= QUARANTINE_THREADS) await new Promise<void>((r) => quarantineQueue.push(r));
    if (closed) throw new Error('the thread runner is closed');
    const worker = new Worker(new URL(BOOTSTRAP), { workerData: { ...workerData, single: payload } });
    const id = worker.threadId; // -1 once it exited
    alone.set(id, worker);
    try {
      return await new Promise<ThreadReply>((resolve, reject) => {
        worker.once('message', (m: { reply: ThreadReply }) => resolve(m.reply));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`worker exited with code: ${code}`)));
      });
    } finally {
      alone.delete(id);
      release(id);
      void worker.terminate();
      quarantineQueue.shift()?.();
    }
  };

  /** Runs the task on the pool, or alone on a thread; a thread lost under it (not by its own fault) runs it again in quarantine. */
  async function execute(t: Task, isolated: boolean): Promise<AttemptResult> {
    const payload: ThreadTask = { taskId: t.id, slot: t.slot, group: groupOf(t.outer), req: t.req };
    let reply: ThreadReply;
    try {
      reply = isolated ? await quarantined(payload) : await batched(payload);
    } catch (e) {
      if (t.verdict) return failure(t, t.verdict.code, t.verdict.message);
      if (closed || t.outer.aborted) throw e;
      shared.thread[t.slot] = 0;
      shared.phase[t.slot] = 0;
      if (t.innocent) {
        // Its thread was stopped for another item's overrun: run it again as before.
        t.innocent = false;
        return execute(t, isolated);
      }
      if (!isolated) {
        // Its thread exited, or was stopped while nobody knew whose code was busy: run it again,
        // alone on a thread, where the blame is certain.
        return execute(t, true);
      }
      return failure(
        t,
        'USER_CODE_EXITED',
        `the worker thread running this item's target or scorers ended (${e instanceof Error ? e.message : e}); ` +
          'for example process.exit() or a fatal error in user code',
      );
    }
    if ('internalError' in reply) throw new Error(`worker thread: ${reply.internalError}`);
    return reply.result;
  }

  /**
   * The attempt's end: its slot is given back (once), and its caller answered unless it already
   * gave up. A late reply or failure for a finished task changes nothing.
   */
  function finish(t: Task, result: AttemptResult | null, error?: unknown): void {
    if (t.done) return;
    t.done = true;
    replies.delete(t.id);
    active.delete(t.slot);
    if (active.size === 0) watchdog.unref();
    watchers.get(t.outer)?.delete(t);
    giveSlot(t.slot);
    const caller = t.caller;
    t.caller = null;
    if (caller) result ? caller.resolve(result) : caller.reject(error);
  }

  /**
   * The attempts in flight by their caller's signal, with one abort listener per signal (a run's
   * attempts share one): on abort the target's signal fires in its thread and each caller moves
   * on at once; a busy thread is still bounded by the watchdog, and the slot is held until the
   * thread lets go of the task.
   */
  const watchers = new WeakMap<AbortSignal, Set<Task>>();
  const groups = new WeakMap<AbortSignal, number>();
  let groupSeq = 0;
  const groupOf = (signal: AbortSignal) => {
    let id = groups.get(signal);
    if (id === undefined) {
      id = ++groupSeq;
      groups.set(signal, id);
    }
    return id;
  };
  const watch = (t: Task) => {
    let set = watchers.get(t.outer);
    if (!set) {
      const tasks = new Set<Task>();
      set = tasks;
      watchers.set(t.outer, tasks);
      const signal = t.outer;
      signal.addEventListener(
        'abort',
        () => {
          const reason = String(signal.reason?.message ?? signal.reason);
          for (const task of tasks) {
            Atomics.store(shared.aborted, task.slot, task.id);
            const caller = task.caller;
            task.caller = null;
            caller?.reject(signal.reason);
          }
          // One message for all of them: their threads abort the signal's controller.
          channel.postMessage({ group: groupOf(signal), reason });
          tasks.clear();
        },
        { once: true },
      );
    }
    set.add(t);
  };

  return {
    threads,
    async attempt(req, _target, _scorers, signal) {
      if (closed) throw new Error('the thread runner is closed');
      if (signal.aborted) throw signal.reason;
      const taken = takeSlot();
      const slot = typeof taken === 'number' ? taken : await taken;
      if (signal.aborted) {
        giveSlot(slot);
        throw signal.reason;
      }
      const startedAt = Date.now();
      const bound = req.itemTimeoutMs + req.scorerTimeoutMs * Math.max(1, req.scorerIds.length) + 10_000;
      return new Promise<AttemptResult>((resolve, reject) => {
        const t: Task = {
          id: ++seq,
          slot,
          req,
          verdict: null,
          innocent: false,
          startedAt,
          deadline: startedAt + bound,
          outer: signal,
          caller: { resolve, reject },
          done: false,
        };
        if (active.size === 0) watchdog.ref();
        active.set(slot, t);
        watch(t);
        execute(t, false).then(
          (r) => finish(t, r),
          (e) => finish(t, null, e),
        );
      });
    },
    async close() {
      closed = true;
      clearInterval(watchdog);
      channel.close();
      for (const wake of quarantineQueue.splice(0)) wake();
      await Promise.allSettled([pool.destroy(), ...[...alone.values()].map((w) => w.terminate())]);
    },
  };
}
