/**
 * What the workloads of bench/run.ts and bench/responsive.ts share: the items every dataset holds,
 * seeding, timing a run to its stored final status, reading its results back, RSS, profiles,
 * percentiles and number formatting.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AssayConfig, ItemInput, Run, TriggerRunInput } from '@assay/core';
import type { Assay } from '@assay/runtime';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TMP = join(ROOT, 'bench', '.tmp');
const MB = 1024 * 1024;
const FINAL: Run['status'][] = ['completed', 'failed', 'cancelled'];

export type Metrics = Record<string, number>;

export interface Question {
  n: number;
  question: string;
}
/** Item n of every dataset: a small JSON input and the answer an exact-match scorer expects. */
export const itemOf = (n: number): ItemInput => ({
  input: { n, question: `what is ${n} + ${n}?` },
  groundTruth: String(2 * n),
});
export const answer = (input: Question) => String(2 * input.n);

export const rssMB = () => process.memoryUsage.rss() / MB;
/** The kernel's high-water mark of this process's RSS (catches spikes a sampler would miss). */
export const maxRssMB = () => process.resourceUsage().maxRSS / 1024;

/** Samples RSS every 50 ms while `fn` runs; returns fn's value and the highest sample. */
export async function withRssSampler<T>(fn: () => Promise<T>): Promise<{ value: T; peakSampledMB: number }> {
  let peak = rssMB();
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMB());
  }, 50);
  try {
    const value = await fn();
    return { value, peakSampledMB: Math.max(peak, rssMB()) };
  } finally {
    clearInterval(timer);
  }
}

/** Creates a dataset of `count` items (`item(n)`, default {@link itemOf}), added in batches of 10 000 (the API's batch limit). */
export async function seed(
  assay: Assay,
  name: string,
  count: number,
  item: (n: number) => ItemInput = itemOf,
): Promise<string> {
  const ds = await assay.storage.createDataset({ name });
  for (let start = 0; start < count; start += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, count - start) }, (_, i) => item(start + i));
    await assay.storage.addItems(ds.id, batch);
  }
  return ds.id;
}

/**
 * Waits until the stored run row has a final status. Woken by the in-process `run.status` event
 * (published right after the status is committed), with a 100 ms poll as a fallback; the answer
 * always comes from storage, never from the event.
 */
export async function waitForFinal(assay: Assay, runId: string): Promise<Run> {
  let signalled = false;
  let wake: (() => void) | null = null;
  const unsubscribe = assay.events.subscribe(runId, (e) => {
    if (e.type !== 'run.status') return;
    signalled = true;
    wake?.();
  });
  try {
    for (;;) {
      signalled = false;
      const run = await assay.storage.getRun(runId);
      if (run && FINAL.includes(run.status)) return run;
      if (signalled) continue;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, 100);
      });
      clearTimeout(timer);
      wake = null;
    }
  } finally {
    unsubscribe();
  }
}

/** Set in a child by `--profile <file>`: CPU-profile the timed phase only (trigger → final status). */
let profileFile = '';
export const setProfileFile = (file: string) => {
  profileFile = file;
};

async function startProfile(): Promise<(() => Promise<void>) | null> {
  if (!profileFile) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    // tsx runs transformed code; point each frame at its TypeScript source line instead.
    for (const { callFrame: f } of profile.nodes) {
      if (!f.url.startsWith('file://')) continue;
      const entry = findSourceMap(f.url)?.findEntry(f.lineNumber, f.columnNumber);
      if (entry && 'originalLine' in entry) {
        f.lineNumber = entry.originalLine;
        f.columnNumber = entry.originalColumn;
      }
    }
    mkdirSync(dirname(profileFile), { recursive: true });
    writeFileSync(profileFile, JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * Triggers a run (or, with `start`, whatever `start` triggers) and waits for it: seconds from just
 * before the trigger to the stored final status.
 */
export async function timedRun(
  assay: Assay,
  datasetId: string,
  targetId: string,
  expected: number,
  scorerIds: string[] = ['exact-match'],
  profile = true,
  /** More of the trigger's input (`cache`, …). */
  trigger: Partial<TriggerRunInput> = {},
  start: () => Promise<Run> = () =>
    assay.runs.trigger(datasetId, { targetId, scorerIds, maxConcurrency: 50, ...trigger }),
) {
  const stopProfile = profile ? await startProfile() : null;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const triggered = await start();
  const run = await waitForFinal(assay, triggered.id);
  const seconds = (performance.now() - t0) / 1000;
  // CPU spent, less sensitive to a busy machine than wall time: the whole process (all threads,
  // user + system) and the main thread's busy time (its event loop not idle).
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const cost = { cpuMs: (cpu.user + cpu.system) / 1000, mainBusyMs: elu.active };
  await stopProfile?.();
  if (run.status !== 'completed' || run.succeededCount !== expected) {
    throw new Error(
      `run ${run.id} ended ${run.status} with ${run.succeededCount}/${expected} succeeded: ${run.error ?? 'no error'}`,
    );
  }
  // Where the time went, from the run row's own timestamps (ms resolution): created → started
  // (the worker picked the job up) → planned (every run-item row exists) → completed.
  const at = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);
  const phases = {
    pickupMs: at(run.startedAt) - at(run.createdAt),
    planMs: at(run.plannedAt) - at(run.startedAt),
    executeMs: at(run.completedAt) - at(run.plannedAt),
  };
  return { run, seconds, phases, cost };
}

/**
 * Reads every stored result of a run back (pages of 1 000) and checks each one: succeeded, the
 * target's output, and an exact-match score of 1. Returns how many results were stored.
 */
export async function verifyResults(assay: Assay, runId: string, expected: number): Promise<number> {
  let stored = 0;
  for (let page = 0; ; page++) {
    const { rows, pagination } = await assay.storage.listResults(runId, { page, perPage: 1000 });
    for (const r of rows) {
      const want = answer(r.input as Question);
      const score = r.scores.find((s) => s.scorerId === 'exact-match')?.score;
      if (r.status !== 'succeeded' || r.output !== want || score !== 1) {
        throw new Error(`result of item ${r.itemId} is wrong: ${JSON.stringify(r)}`);
      }
      stored++;
    }
    if (!pagination.hasMore) break;
  }
  const succeeded = await assay.storage.listResults(runId, { page: 0, perPage: 1, status: 'succeeded' });
  if (stored !== expected || succeeded.pagination.total !== expected) {
    throw new Error(
      `expected ${expected} stored results, read ${stored} (${succeeded.pagination.total} marked succeeded)`,
    );
  }
  return stored;
}

export const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const fmt = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * Writes `source` as `<dir>/assay.config.mjs` and imports it: a config as `assay serve --config`
 * loads it, to pass to createAssay as `config` with `configPath` (targets and scorers then run in
 * worker threads that load the same file).
 */
export async function configModule(dir: string, source: string): Promise<{ config: AssayConfig; configPath: string }> {
  const configPath = join(dir, 'assay.config.mjs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(configPath, source);
  const mod = (await import(pathToFileURL(configPath).href)) as { default: AssayConfig };
  return { config: mod.default, configPath };
}

/** One line of the report: a metric's median over the runs, every run, its target and whether it was met. */
export interface Row {
  workload: string;
  metric: string;
  median: string;
  runs: string;
  target: string;
  met: string;
}

/** Builds a report row from a metric key (see bench/harness/report.ts rowsOf). */
export type RowOf = (metric: string, key: string, digits: number, target?: string, ok?: (v: number) => boolean) => Row;
