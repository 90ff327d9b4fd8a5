/**
 * What W1 and W2 (and their main-thread twins W1M, W2M) share: where the targets run, the warm-up
 * run before the timed one, and the report rows about the engine's own cost.
 */
import { join } from 'node:path';
import type { AssayConfig } from '@assay/core';
import { type Assay, createAssay } from '@assay/runtime';
import { configModule, maxRssMB, type RowOf, seed, timedRun, withRssSampler } from '../harness/lib.js';

/**
 * How W1 and W2 get their config. `threads`: as `assay serve --config FILE` does, the config is a
 * module file (in the run's data dir) passed as `config` and `configPath`, so targets and scorers
 * run in worker threads (what users get). `main`: the same config as objects, no `configPath`, so
 * they run on the main thread (no isolation; the W1M / W2M comparison).
 */
export type Placement = 'threads' | 'main';

export async function configFor(placement: Placement, dataDir: string, source: string, inline: AssayConfig) {
  if (placement === 'main') return { config: inline };
  return configModule(join(dataDir, 'config'), source);
}

/**
 * A 1-item run before the timed one, in W1/W2 and W1M/W2M alike: the timed run then sees a
 * server that is up (worker threads started, config loaded in them), as a run triggered on a
 * running `assay serve` does. Returns its wall time (ms): with threads, what is left of their
 * start-up after seeding.
 */
export async function warmUp(assay: Assay, targetId: string): Promise<number> {
  const datasetId = await seed(assay, 'warm-up', 1);
  const t0 = performance.now();
  await timedRun(assay, datasetId, targetId, 1, ['exact-match'], false);
  return performance.now() - t0;
}

/** The rows W1 and W2 both report after their headline: CPU, main-thread time and where it went. */
export const engineRows = (row: RowOf, items: string) => [
  row('CPU per item, whole process, all threads (µs)', 'cpuUsPerItem', 0),
  row('main thread busy per item (µs)', 'mainBusyUsPerItem', 0),
  row('  of which: trigger → worker picks the run up (ms)', 'pickupMs', 0),
  row(`  of which: planning ${items} run items (ms)`, 'planMs', 0),
  row('  of which: executing + storing + summary (ms)', 'executeMs', 0),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
];

/**
 * The measured part W1 and W2 share: an instance with its worker on `dataDir`, `items` items as
 * dataset `name`, the warm-up, then the timed run of `targetId` (RSS sampled), the kernel's peak
 * RSS, and the instance closed.
 */
export async function timedWorkload(o: {
  dataDir: string;
  placement: Placement;
  source: string;
  inline: AssayConfig;
  name: string;
  targetId: string;
  items: number;
}) {
  const options = await configFor(o.placement, o.dataDir, o.source, o.inline);
  const assay = await createAssay({ ...options, dataDir: o.dataDir, worker: true });
  const datasetId = await seed(assay, o.name, o.items);
  const warmUpMs = await warmUp(assay, o.targetId);
  const { value, peakSampledMB } = await withRssSampler(() => timedRun(assay, datasetId, o.targetId, o.items));
  const peakRssMB = maxRssMB();
  await assay.close();
  return { config: options.config, value, warmUpMs, peakSampledMB, peakRssMB };
}
