/** W2 latency-bound (and W2M, the same with targets on the main thread). */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AssayConfig } from '@assay/core';
import { answer, type Metrics, type Question, type RowOf } from '../harness/lib.js';
import { engineRows, type Placement, timedWorkload } from './placement.js';

const W2_CONFIG = `import { setTimeout as sleep } from 'node:timers/promises';
export default {
  targets: [
    {
      id: 'sleepy',
      type: 'function',
      run: async (input, ctx) => {
        await sleep(50, undefined, { signal: ctx.signal });
        return String(2 * input.n);
      },
    },
  ],
};
`;

/** W2 latency-bound: 2 000 items, a target that sleeps 50 ms (honouring its signal), maxConcurrency 50. */
export async function w2(dataDir: string, placement: Placement): Promise<Metrics> {
  const N = 2_000;
  const SLEEP_MS = 50;
  const inline: AssayConfig = {
    targets: [
      {
        id: 'sleepy',
        type: 'function',
        run: async (input: Question, ctx) => {
          await sleep(SLEEP_MS, undefined, { signal: ctx.signal });
          return answer(input);
        },
      },
    ],
  };
  const { value, warmUpMs, peakSampledMB, peakRssMB } = await timedWorkload({
    dataDir,
    placement,
    source: W2_CONFIG,
    inline,
    name: 'w2',
    targetId: 'sleepy',
    items: N,
  });
  const ideal = ((N / 50) * SLEEP_MS) / 1000;
  return {
    items: N,
    seconds: value.seconds,
    idealSeconds: ideal,
    efficiency: ideal / value.seconds,
    cpuUsPerItem: (value.cost.cpuMs * 1000) / N,
    mainBusyUsPerItem: (value.cost.mainBusyMs * 1000) / N,
    warmUpMs,
    ...value.phases,
    peakRssSampledMB: peakSampledMB,
    peakRssMB,
  };
}

export const W2_ROWS = (row: RowOf) => [
  row('efficiency (2.0 s ideal / actual)', 'efficiency', 3, '≥ 0.95', (v) => v >= 0.95),
  row('wall time (s)', 'seconds', 3),
  ...engineRows(row, '2,000'),
  row('1-item warm-up run right after seeding, not timed above (ms)', 'warmUpMs', 0),
];
