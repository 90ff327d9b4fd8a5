/**
 * The output cache (issue 14): W1C and W2C are W1 and W2 rerun from the cache — a first run with
 * `cache: 'readwrite'` fills it, the timed second run (`readwrite` too) takes every output from it
 * — and RS1 re-scores a finished 100,000-item run with one scorer. Targets and scorers run in
 * worker threads, as `assay serve --config` runs them.
 */
import { createAssay } from '@assay/runtime';
import { type Metrics, maxRssMB, type RowOf, seed, timedRun, verifyResults } from '../harness/lib.js';
import { configFor, warmUp } from './placement.js';

/** W1's and W2's targets, with the `version` that lets a code target be cached. */
const CONFIGS = {
  instant: `export default {
  targets: [{ id: 'instant', type: 'function', version: '1', run: (input) => String(2 * input.n) }],
};
`,
  sleepy: `import { setTimeout as sleep } from 'node:timers/promises';
export default {
  targets: [
    {
      id: 'sleepy',
      type: 'function',
      version: '1',
      run: async (input, ctx) => {
        await sleep(50, undefined, { signal: ctx.signal });
        return String(2 * input.n);
      },
    },
  ],
};
`,
};

/** A fill run and a timed rerun from the cache of `items` items of `targetId`; the rerun's results are checked. */
async function fromCache(dataDir: string, targetId: keyof typeof CONFIGS, items: number): Promise<Metrics> {
  const options = await configFor('threads', dataDir, CONFIGS[targetId], { targets: [] });
  const assay = await createAssay({ ...options, dataDir, worker: true });
  try {
    const datasetId = await seed(assay, `${targetId}-cache`, items);
    const warmUpMs = await warmUp(assay, targetId);
    const cache = { cache: 'readwrite' as const };
    const fill = await timedRun(assay, datasetId, targetId, items, ['exact-match'], false, cache);
    const cached = await timedRun(assay, datasetId, targetId, items, ['exact-match'], true, cache);
    const hits = cached.run.summary?.cache?.hits ?? 0;
    if (hits !== items) throw new Error(`the rerun took ${hits} of ${items} outputs from the cache`);
    const stored = await verifyResults(assay, cached.run.id, items);
    return {
      items,
      seconds: cached.seconds,
      itemsPerSec: items / cached.seconds,
      fillSeconds: fill.seconds,
      fillItemsPerSec: items / fill.seconds,
      speedup: fill.seconds / cached.seconds,
      cacheHits: hits,
      storedResults: stored,
      cpuUsPerItem: (cached.cost.cpuMs * 1000) / items,
      mainBusyUsPerItem: (cached.cost.mainBusyMs * 1000) / items,
      warmUpMs,
      ...cached.phases,
      peakRssMB: maxRssMB(),
    };
  } finally {
    await assay.close();
  }
}

export const w1c = (dataDir: string) => fromCache(dataDir, 'instant', 10_000);
export const w2c = (dataDir: string) => fromCache(dataDir, 'sleepy', 2_000);

const cacheRows = (items: string) => (row: RowOf) => [
  row('rerun from the cache: items/s (trigger → completed)', 'itemsPerSec', 0),
  row('rerun from the cache: wall time (s)', 'seconds', 3),
  row('first run (readwrite, fills the cache): wall time (s)', 'fillSeconds', 3),
  row('speed-up: first run / rerun wall time', 'speedup', 1),
  row(
    `outputs from the cache (of ${items})`,
    'cacheHits',
    0,
    `= ${items}`,
    (v) => v === Number(items.replace(',', '')),
  ),
  row('rerun: CPU per item, whole process (µs)', 'cpuUsPerItem', 0),
  row('rerun: main thread busy per item (µs)', 'mainBusyUsPerItem', 0),
  row('  of which: trigger → worker picks the run up (ms)', 'pickupMs', 0),
  row(`  of which: planning ${items} run items (ms)`, 'planMs', 0),
  row('  of which: executing + storing + summary (ms)', 'executeMs', 0),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
];
export const W1C_ROWS = cacheRows('10,000');
export const W2C_ROWS = cacheRows('2,000');

/** RS1: a 100,000-item run of the instant target (untimed), then a timed re-score of it with exact-match. */
export async function rs1(dataDir: string): Promise<Metrics> {
  const N = 100_000;
  const options = await configFor('threads', dataDir, CONFIGS.instant, { targets: [] });
  const assay = await createAssay({ ...options, dataDir, worker: true });
  try {
    const datasetId = await seed(assay, 'rescore', N);
    const source = await timedRun(assay, datasetId, 'instant', N, [], false);
    const rescore = await timedRun(assay, datasetId, 'instant', N, ['exact-match'], true, {}, () =>
      assay.runs.rescore(datasetId, source.run.id, { scorerIds: ['exact-match'] }),
    );
    const stored = await verifyResults(assay, rescore.run.id, N);
    return {
      items: N,
      seconds: rescore.seconds,
      itemsPerSec: N / rescore.seconds,
      sourceSeconds: source.seconds,
      storedResults: stored,
      cpuUsPerItem: (rescore.cost.cpuMs * 1000) / N,
      mainBusyUsPerItem: (rescore.cost.mainBusyMs * 1000) / N,
      peakRssMB: maxRssMB(),
    };
  } finally {
    await assay.close();
  }
}

export const RS1_ROWS = (row: RowOf) => [
  row('re-score: items/s (trigger → completed)', 'itemsPerSec', 0),
  row('re-score: wall time (s)', 'seconds', 2),
  row('source run (instant target, no scorer): wall time (s)', 'sourceSeconds', 2),
  row('stored results verified', 'storedResults', 0, '= 100,000', (v) => v === 100_000),
  row('re-score: CPU per item, whole process (µs)', 'cpuUsPerItem', 0),
  row('re-score: main thread busy per item (µs)', 'mainBusyUsPerItem', 0),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
];
