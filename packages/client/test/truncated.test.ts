import { describe, expect, it } from 'vitest';
import { AssayApiError, AssayClient, hasTruncated, isTruncated } from '../src/index.js';
import { useServers } from './server.js';

const start = useServers();

/** Values over 1 MiB are cut in every list page (the default bounds): the SDK gets them back whole. */
describe('AssayClient and truncated values', () => {
  it('lists show markers; getItem, getRunResult and the iterators return values whole', async () => {
    const server = await start();
    const client = new AssayClient({ url: server.url });
    const big = { answer: 'a'.repeat(1_200_000) };
    const ds = await client.createDataset({ name: 'big' });
    await client.addItems(ds.id, [
      { input: big, externalId: 'big' },
      { input: { answer: 'small' }, externalId: 'small' },
    ]);
    const page = await client.listItems(ds.id);
    const cut = page.items.find((i) => i.externalId === 'big')!;
    expect(isTruncated(cut.input)).toBe(true);
    expect(hasTruncated(cut)).toBe(true);
    expect(hasTruncated(page.items.find((i) => i.externalId === 'small')!)).toBe(false);
    expect((await client.getItem(ds.id, cut.id)).input).toEqual(big);
    const all = [];
    for await (const item of client.iterateItems(ds.id)) all.push(item);
    expect(all.find((i) => i.externalId === 'big')!.input).toEqual(big);

    const run = await client.triggerRun(ds.id, { targetId: 'echo', scorerIds: ['non-empty'] });
    await client.waitForRun(ds.id, run.runId);
    const results = await client.listRunResults(ds.id, run.runId);
    const listed = results.results.find((r) => r.itemId === cut.id)!;
    expect(listed.output).toMatchObject({ $truncated: true, bytes: 1_200_002 });
    const whole = await client.getRunResult(ds.id, run.runId, cut.id, { repetition: 0 });
    expect(whole.output).toBe(big.answer);
    const iterated = [];
    for await (const r of client.iterateRunResults(ds.id, run.runId)) iterated.push(r);
    expect(iterated.find((r) => r.itemId === cut.id)!.output).toBe(big.answer);
    const missing = await client.getRunResult(ds.id, run.runId, cut.id, { repetition: 5 }).catch((e) => e);
    expect(AssayApiError.is(missing) && missing.status).toBe(404);
  });

  it('listRuns reads a run whose error the page cut again, so each listed run is whole', async () => {
    const server = await start({ worker: false });
    const client = new AssayClient({ url: server.url });
    const ds = await client.createDataset({ name: 'errors' });
    await client.addItems(ds.id, [{ input: 'x' }]);
    const huge = await client.triggerRun(ds.id, { targetId: 'echo' });
    const small = await client.triggerRun(ds.id, { targetId: 'echo' });
    const error = `boom ${'e'.repeat(1_200_000)}`;
    // No run error is this large in practice (a run quotes its first item error cut short): written directly.
    await server.assay.storage.updateRun(huge.runId, { status: 'failed', error });
    await server.assay.storage.updateRun(small.runId, { status: 'failed', error: 'short' });
    const raw = (await (await client.raw('GET', `/datasets/${ds.id}/runs`)).json()) as {
      runs: { id: string; error: unknown }[];
    };
    expect(raw.runs.find((r) => r.id === huge.runId)!.error).toMatchObject({ $truncated: true });
    const { runs } = await client.listRuns(ds.id);
    expect(runs.find((r) => r.id === huge.runId)!.error).toBe(error);
    expect(runs.find((r) => r.id === small.runId)!.error).toBe('short');
  });

  it('an item over the size limit is a 413 ITEM_TOO_LARGE with the limit and size', async () => {
    const server = await start();
    const client = new AssayClient({ url: server.url });
    const ds = await client.createDataset({ name: 'limit' });
    const e = await client.addItems(ds.id, [{ input: 'x' }, { input: 'y'.repeat(5 * 1024 * 1024) }]).catch((x) => x);
    expect(AssayApiError.is(e)).toBe(true);
    expect(e).toMatchObject({ status: 413, code: 'ITEM_TOO_LARGE' });
    expect(e.details).toMatchObject({ index: 1, limit: 4 * 1024 * 1024, size: 5 * 1024 * 1024 + 2 });
  });
});
