/**
 * Three trials of the crash soak (scripts/soak.ts; `npm run soak` runs 20+): a real `assay serve`
 * killed with SIGKILL at random moments and restarted, then the SQLite file checked directly.
 */

import { killAllChildren } from '@assay/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SOAK, describeTrial, soak } from '../../scripts/soak.js';

afterAll(killAllChildren);

describe('crash soak (3 trials)', () => {
  it('every trial ends completed with exactly one result per item × repetition and an intact file', async () => {
    const seed = Date.now() % 1_000_000;
    const results = await soak({ ...DEFAULT_SOAK, trials: 3, items: 200, seed, keepFailed: false }, () => {});
    const lines = results.map(describeTrial).join('\n');
    expect(results, `seed ${seed}\n${lines}`).toHaveLength(3);
    for (const r of results) {
      expect(r.ok, `seed ${seed}\n${describeTrial(r)}`).toBe(true);
      expect(r.kills.length).toBeGreaterThanOrEqual(1);
      expect(r.expected).toBe(200 * DEFAULT_SOAK.repetitions);
    }
  }, 120_000);
});
