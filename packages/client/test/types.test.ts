/**
 * The SDK's result types are the contract's: each is the `z.infer` of the route's response schema
 * in `@assay/core/api`, never a copy. `tsc` (npm test's typecheck) fails this file when they drift;
 * the runtime half checks a real answer against the same schema.
 */
import {
  type Comparison,
  comparisonSchema,
  type datasetSchema,
  type ResponseOf,
  type runAcceptedSchema,
  type runListSchema,
  type runSchema,
} from '@assay/contract';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { AssayClient, type Dataset, type Run } from '../src/index.js';
import { useServers } from './server.js';

const start = useServers();
type Result<M extends keyof AssayClient> = AssayClient[M] extends (...args: never[]) => Promise<infer R> ? R : never;

describe('SDK types come from the contract', () => {
  it('compare, getRun, getDataset, triggerRun: the result type is the response schema’s', async () => {
    expectTypeOf<Result<'compare'>>().toEqualTypeOf<z.infer<typeof comparisonSchema>>();
    expectTypeOf<Result<'compare'>>().toEqualTypeOf<Comparison>();
    expectTypeOf<Result<'compare'>>().toEqualTypeOf<ResponseOf<'compareRuns'>>();
    expectTypeOf<Result<'getRun'>>().toEqualTypeOf<z.infer<typeof runSchema>>();
    expectTypeOf<Run>().toEqualTypeOf<z.infer<typeof runSchema>>();
    expectTypeOf<Result<'getDataset'>>().toEqualTypeOf<z.infer<typeof datasetSchema>>();
    expectTypeOf<Dataset>().toEqualTypeOf<z.infer<typeof datasetSchema>>();
    expectTypeOf<Result<'triggerRun'>>().toEqualTypeOf<z.infer<typeof runAcceptedSchema>>();
    expectTypeOf<Result<'scoreStats'>>().toEqualTypeOf<ResponseOf<'scoreStats'>>();
    // listRuns re-reads a run whose error the page cut, so its runs are whole runs.
    expectTypeOf<Result<'listRuns'>['pagination']>().toEqualTypeOf<z.infer<typeof runListSchema>['pagination']>();
    expectTypeOf<Result<'listRuns'>['runs'][number]>().toEqualTypeOf<Run>();

    const server = await start();
    const client = new AssayClient({ url: server.url });
    const ds = await client.createDataset({ name: 'typed' });
    await client.addItems(ds.id, [{ input: 'a', groundTruth: 'a' }]);
    const a = await client.triggerRun(ds.id, { targetId: 'echo', scorerIds: ['exact-match'] });
    const b = await client.triggerRun(ds.id, { targetId: 'wrong', scorerIds: ['exact-match'] });
    await client.waitForRun(ds.id, a.runId);
    await client.waitForRun(ds.id, b.runId);
    const c = await client.compare(ds.id, { runIdA: a.runId, runIdB: b.runId });
    expect(comparisonSchema.parse(c)).toEqual(c);
    expect(c.scorers[0]).toMatchObject({
      scorerId: 'exact-match',
      a: { mean: 1 },
      b: { mean: 0 },
      delta: -1,
      // One item is no evidence: McNemar on one flip has p = 1.
      pValue: 1,
      verdict: 'no significant change',
      regressed: false,
    });
    expect(c.items).toMatchObject([{ change: 'regression', a: { output: 'a' }, b: { output: 'wrong' } }]);
  });
});
