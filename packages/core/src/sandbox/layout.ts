/**
 * The shared memory between a thread runner and its worker threads: how the main thread sees,
 * without any message, whether a thread's event loop still turns and what each task is doing.
 *
 * - per thread (index claimed by the thread): its owner (thread id), last heartbeat (ms), its
 *   event-loop utilization over the last heartbeat period (0–1), its recent busy time per attempt
 *   (ms) and when that was measured, and the task slot whose synchronous user code it is in
 *   (slot + 1; 0: none);
 * - per task slot: the thread running it (index + 1), its phase (see attempt.ts), when the
 *   phase began (ms), and the id of the task there whose caller gave up (so a task that has not
 *   started yet never calls user code).
 */
export const MAX_THREADS = 64;
export const MAX_SLOTS = 4096;

export interface SharedState {
  owner: Int32Array;
  heartbeat: Float64Array;
  busy: Float64Array;
  cost: Float64Array;
  costAt: Float64Array;
  sync: Int32Array;
  thread: Int32Array;
  phase: Int32Array;
  phaseAt: Float64Array;
  aborted: Int32Array;
}

const INTS = MAX_THREADS * 2 + MAX_SLOTS * 3;
const FLOATS = MAX_THREADS * 4 + MAX_SLOTS;

export function allocate(): SharedArrayBuffer {
  return new SharedArrayBuffer(FLOATS * 8 + INTS * 4);
}

export function view(buffer: SharedArrayBuffer): SharedState {
  const floats = new Float64Array(buffer, 0, FLOATS);
  const ints = new Int32Array(buffer, FLOATS * 8, INTS);
  return {
    heartbeat: floats.subarray(0, MAX_THREADS),
    busy: floats.subarray(MAX_THREADS, MAX_THREADS * 2),
    cost: floats.subarray(MAX_THREADS * 2, MAX_THREADS * 3),
    costAt: floats.subarray(MAX_THREADS * 3, MAX_THREADS * 4),
    phaseAt: floats.subarray(MAX_THREADS * 4),
    owner: ints.subarray(0, MAX_THREADS),
    sync: ints.subarray(MAX_THREADS, MAX_THREADS * 2),
    thread: ints.subarray(MAX_THREADS * 2, MAX_THREADS * 2 + MAX_SLOTS),
    phase: ints.subarray(MAX_THREADS * 2 + MAX_SLOTS, MAX_THREADS * 2 + MAX_SLOTS * 2),
    aborted: ints.subarray(MAX_THREADS * 2 + MAX_SLOTS * 2),
  };
}

/** What the runner gives every worker thread. */
export interface ThreadData {
  configPath: string;
  buffer: SharedArrayBuffer;
  /** BroadcastChannel on which the runner names signal groups to abort ({@link ThreadTask.group}). */
  channel: string;
}

/**
 * One task: an attempt, its slot in the shared state, a unique id, and the id of its caller's
 * signal (tasks of one signal — a run's — share one AbortController in a thread, and are aborted
 * together).
 */
export interface ThreadTask {
  taskId: number;
  slot: number;
  group: number;
  req: import('../engine/attempt.js').AttemptRequest;
}

/** What a task returns: the attempt's result, or why the thread could not run it. */
export type ThreadReply = { result: import('../engine/attempt.js').AttemptResult } | { internalError: string };

/** Several tasks in one piscina task; their replies come back as {@link ThreadResults} messages. */
export interface ThreadBatch {
  batch: ThreadTask[];
}

/** Posted by a thread (to its parent port) with the replies of batched tasks that finished. */
export interface ThreadResults {
  assayResults: true;
  results: [taskId: number, reply: ThreadReply][];
}

export const isResults = (m: unknown): m is ThreadResults =>
  typeof m === 'object' && m !== null && (m as { assayResults?: unknown }).assayResults === true;

/** Heartbeat period of a worker thread, ms. */
export const HEARTBEAT_MS = 50;
