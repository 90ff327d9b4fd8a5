/** W1 overhead (and W1M, the same with targets on the main thread). */
import type { AssayConfig } from '@assay/core';
import { createAssay } from '@assay/runtime';
import { answer, type Metrics, type Question, type RowOf, rssMB, verifyResults } from '../harness/lib.js';
import { engineRows, type Placement, timedWorkload } from './placement.js';

const W1_CONFIG = `export default {
  targets: [{ id: 'instant', type: 'function', run: (input) => String(2 * input.n) }],
};
`;

/** W1 overhead: 10 000 items, a target that answers at once, exact-match, maxConcurrency 50. */
export async function w1(dataDir: string, placement: Placement): Promise<Metrics> {
  const N = 10_000;
  const baseRssMB = rssMB();
  const inline: AssayConfig = {
    targets: [{ id: 'instant', type: 'function', run: (input: Question) => answer(input) }],
  };
  const { config, value, warmUpMs, peakSampledMB, peakRssMB } = await timedWorkload({
    dataDir,
    placement,
    source: W1_CONFIG,
    inline,
    name: 'w1',
    targetId: 'instant',
    items: N,
  });
  // Durability: reopen the database file in a new instance and read every result back.
  const reopened = await createAssay({ config, dataDir, worker: false });
  const stored = await verifyResults(reopened, value.run.id, N);
  await reopened.close();
  return {
    items: N,
    seconds: value.seconds,
    itemsPerSec: N / value.seconds,
    cpuUsPerItem: (value.cost.cpuMs * 1000) / N,
    mainBusyUsPerItem: (value.cost.mainBusyMs * 1000) / N,
    storedResults: stored,
    warmUpMs,
    ...value.phases,
    baseRssMB,
    peakRssSampledMB: peakSampledMB,
    peakRssMB,
  };
}

export const W1_ROWS = (row: RowOf) => [
  row('items/s (trigger → completed)', 'itemsPerSec', 0, '≥ 5,000', (v) => v >= 5000),
  row('wall time (s)', 'seconds', 2),
  row('stored results verified', 'storedResults', 0, '= 10,000', (v) => v === 10_000),
  ...engineRows(row, '10,000'),
  row('RSS before createAssay (MB)', 'baseRssMB', 0),
  row('1-item warm-up run right after seeding, not timed above (ms)', 'warmUpMs', 0),
];
