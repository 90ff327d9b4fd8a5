/** Every workload bench/run.ts knows: its title, what one run does, and its report rows. */
import type { Metrics, Row, RowOf } from '../harness/lib.js';
import { RS1_ROWS, rs1, W1C_ROWS, W2C_ROWS, w1c, w2c } from './cache.js';
import { H1_TITLE, h1, h1Rows } from './h1.js';
import { I1_ROWS, i1 } from './i1.js';
import type { Placement } from './placement.js';
import { R_SAMPLES, r1, r1Rows } from './r1.js';
import { r2, r2Rows } from './r2.js';
import { T1_ROWS, t1 } from './t1.js';
import { W1_ROWS, w1 } from './w1.js';
import { W2_ROWS, w2 } from './w2.js';
import { W3_ROWS, w3 } from './w3.js';

export interface Workload {
  title: string;
  /** One run, in a bench child process, on a fresh data dir. */
  run: (dataDir: string) => Promise<Metrics>;
  rows: (row: RowOf) => Row[];
  /** The child is killed after this long. Default 15. */
  timeoutMinutes?: number;
}

/** A workload with targets in worker threads (as `assay serve --config` runs them) and its main-thread twin `<id>M`. */
function twins<I extends string>(
  id: I,
  title: string,
  run: (dataDir: string, placement: Placement) => Promise<Metrics>,
  rows: Workload['rows'],
): Record<I | `${I}M`, Workload> {
  return {
    [id]: { title: `${title}; targets in worker threads`, run: (dir: string) => run(dir, 'threads'), rows },
    [`${id}M`]: {
      title: `${id} with targets on the main thread (no isolation)`,
      run: (dir: string) => run(dir, 'main'),
      rows,
    },
  } as Record<I | `${I}M`, Workload>;
}

export const WORKLOADS = {
  ...twins('W1', 'overhead: 10,000 items, instant target, exact-match, maxConcurrency 50', w1, W1_ROWS),
  ...twins('W2', 'latency-bound: 2,000 items, 50 ms target, maxConcurrency 50', w2, W2_ROWS),
  ...twins('I1', "item runner alone: 100,000 attempts of W1's target and scorer, 50 at a time, no store", i1, I1_ROWS),
  W1C: {
    title: 'W1 rerun from the output cache: a readwrite run fills it, the timed readwrite rerun reads every output',
    run: w1c,
    rows: W1C_ROWS,
  },
  W2C: {
    title: 'W2 rerun from the output cache: a readwrite run fills it, the timed readwrite rerun reads every output',
    run: w2c,
    rows: W2C_ROWS,
  },
  RS1: {
    title: 're-score of a finished 100,000-item run with one scorer (exact-match), no target called',
    run: rs1,
    rows: RS1_ROWS,
  },
  W3: {
    title: 'trigger latency over HTTP, 10 vs 100,000 items, worker off',
    run: w3,
    rows: W3_ROWS,
  },
  T1: {
    title: 'targets and scorers: 5,000 items, code vs http target, 1 vs 7 built-in scorers, maxConcurrency 50',
    run: t1,
    rows: T1_ROWS,
  },
  R1: {
    title: `recovery after kill -9 of a real assay serve, default lease and --lease-ms 2000, ${R_SAMPLES} samples each`,
    run: r1,
    rows: r1Rows,
  },
  R2: {
    title: `cancel → cancelled on a real assay serve, 50 ms target, maxConcurrency 50, ${R_SAMPLES} samples`,
    run: r2,
    rows: r2Rows,
  },
  H1: { title: H1_TITLE, run: h1, rows: h1Rows, timeoutMinutes: 90 },
} satisfies Record<string, Workload>;

export type WorkloadId = keyof typeof WORKLOADS;

/** What `npm run bench` runs without --only: the R and H workloads take minutes and run only when named. */
export const DEFAULT_WORKLOADS: WorkloadId[] = ['W1', 'W1M', 'W2', 'W2M', 'W3'];

/** Isolation cost: a workload in worker threads against the same on the main thread (both run). */
export const COMPARISONS = [
  { what: 'W1 items/s, threads / main thread', a: 'W1', b: 'W1M', key: 'itemsPerSec' },
  { what: 'W1 CPU per item, threads / main thread', a: 'W1', b: 'W1M', key: 'cpuUsPerItem' },
  { what: 'W1 main thread busy per item, threads / main thread', a: 'W1', b: 'W1M', key: 'mainBusyUsPerItem' },
  { what: 'W2 efficiency, threads / main thread', a: 'W2', b: 'W2M', key: 'efficiency' },
  { what: 'I1 attempts/s (runner alone), threads / main thread', a: 'I1', b: 'I1M', key: 'attemptsPerSec' },
  { what: 'W1 rerun from the cache: items/s, W1C / W1 (uncached)', a: 'W1C', b: 'W1', key: 'itemsPerSec' },
  {
    what: 'W2 rerun from the cache: speed-up, W2 wall time / W2C wall time (goal ≥ 10)',
    a: 'W2',
    b: 'W2C',
    key: 'seconds',
  },
] as const;
