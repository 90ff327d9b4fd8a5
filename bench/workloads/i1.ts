/**
 * I1: the item runner alone — what isolation costs per attempt without the store. 100,000 attempts
 * of W1's instant target and exact-match, 50 at a time, through the thread runner (I1: worker
 * threads loading the config file, as `assay serve --config` does) or the inline runner (I1M: this
 * thread). CPU per attempt is read per thread from /proc/self/task/<tid>/schedstat (Linux): this
 * thread, and all the others (worker threads and V8's helper threads) together.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AttemptRequest,
  createInlineRunner,
  createRegistry,
  createThreadRunner,
  type ItemRunner,
} from '@assay/core';
import type { Metrics, RowOf } from '../harness/lib.js';
import type { Placement } from './placement.js';

const N = 100_000;
const WARM_UP = 2_000;
const CONCURRENCY = 50;
const CONFIG = `export default {
  targets: [{ id: 'instant', type: 'function', run: (input) => String(2 * input.n) }],
};
`;

/** On-CPU time (ns) of this thread and of all the process's other threads, or null off Linux. */
function cpuByThread(): { main: number; others: number } | null {
  if (!existsSync('/proc/self/task')) return null;
  let main = 0;
  let others = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let ns = 0;
    try {
      ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue; // a thread that ended meanwhile
    }
    if (tid === String(process.pid)) main += ns;
    else others += ns;
  }
  return { main, others };
}

export async function i1(dataDir: string, placement: Placement): Promise<Metrics> {
  const configPath = join(dataDir, 'assay.config.mjs');
  writeFileSync(configPath, CONFIG);
  const registry = createRegistry((await import(configPath)).default);
  const target = registry.targets.get('instant')!;
  const scorers = [registry.scorers.get('exact-match')!];
  const runner: ItemRunner = placement === 'threads' ? createThreadRunner({ configPath }) : createInlineRunner();
  const signal = new AbortController().signal;
  const request = (i: number): AttemptRequest => ({
    runId: 'run_i1',
    targetId: 'instant',
    scorerIds: ['exact-match'],
    itemId: `item_${i}`,
    repetition: 0,
    attempt: 1,
    input: { n: i, question: `what is 2 times ${i}?` },
    groundTruth: String(2 * i),
    metadata: null,
    itemTimeoutMs: 30_000,
    scorerTimeoutMs: 30_000,
  });
  const drive = async (count: number) => {
    let next = 0;
    let scored = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < count) {
          const r = await runner.attempt(request(next++), target, scorers, signal);
          if (r.ok && r.scores[0]?.score === 1) scored++;
        }
      }),
    );
    return scored;
  };
  try {
    await drive(WARM_UP); // threads up, config loaded in them, code warm
    const cpu0 = cpuByThread();
    const t0 = performance.now();
    const scored = await drive(N);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuByThread();
    const perAttempt = (a: number, b: number) => (a - b) / N / 1000;
    return {
      attempts: N,
      scored,
      seconds,
      attemptsPerSec: N / seconds,
      ...(cpu0 && cpu1
        ? {
            mainCpuUsPerAttempt: perAttempt(cpu1.main, cpu0.main),
            otherCpuUsPerAttempt: perAttempt(cpu1.others, cpu0.others),
          }
        : {}),
    };
  } finally {
    await runner.close();
  }
}

export const I1_ROWS = (row: RowOf) => [
  row('attempts/s (100,000 attempts, 50 at a time)', 'attemptsPerSec', 0),
  row('attempts scored 1 by exact-match', 'scored', 0, '= 100,000', (v) => v === N),
  row('CPU per attempt, this thread (µs)', 'mainCpuUsPerAttempt', 1),
  row('CPU per attempt, all other threads (µs)', 'otherCpuUsPerAttempt', 1),
];
