import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssayClient } from '@assay/client';
import { type Assay, createAssay } from '@assay/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMastraDatasets, MASTRA_DATASET_KEY } from '../src/index.js';
import { installMastra, type MastraProject } from './mastra-install.js';

/**
 * Mastra's own datasets API (the real @mastra/core on its in-memory storage) imported into an
 * embedded Assay through the real SDK: the first import, then a rerun after changes in Mastra.
 */
let project: MastraProject;
let assay: Assay;
let dataDir: string;
let client: AssayClient;

beforeAll(async () => {
  project = installMastra();
  dataDir = mkdtempSync(join(tmpdir(), 'assay-mastra-import-'));
  assay = await createAssay({ config: { targets: [] }, dataDir, pollMs: 20 });
  client = new AssayClient({ url: 'http://assay.local', fetch: (req) => assay.app.fetch(req) });
}, 300_000);

afterAll(async () => {
  await assay?.close(2000);
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  project?.remove();
});

const itemsOf = async (datasetId: string) => {
  const out = [];
  for await (const i of client.iterateItems(datasetId)) out.push(i);
  return out;
};

describe('importMastraDatasets', () => {
  it('imports datasets and items, then a rerun imports only what changed', async () => {
    const { Mastra } = await project.load('@mastra/core');
    const { InMemoryStore } = await project.load('@mastra/core/storage');
    const mastra = new Mastra({ storage: new InMemoryStore(), logger: false });
    const qa = await mastra.datasets.create({ name: 'qa', description: 'questions', metadata: { owner: 'eval' } });
    const [a, b, c] = await qa.addItems({
      items: [
        { input: 'capital of France?', groundTruth: 'Paris', metadata: { topic: 'geo' } },
        { input: [{ role: 'user', content: 'hi' }] },
        { input: { n: 3 }, groundTruth: { n: 6 } },
      ],
    });
    const other = await mastra.datasets.create({ name: 'other' });
    await other.addItems({ items: [{ input: 'x' }] });

    const first = await importMastraDatasets(mastra.datasets, client);
    expect(first.map((d) => [d.name, d.created, d.added, d.updated, d.deleted, d.unchanged]).sort()).toEqual([
      ['other', true, 1, 0, 0, 0],
      ['qa', true, 3, 0, 0, 0],
    ]);
    const qaId = first.find((d) => d.name === 'qa')!.assayId;
    const otherId = first.find((d) => d.name === 'other')!.assayId;
    const ds = await client.getDataset(qaId);
    expect(ds).toMatchObject({ name: 'qa', description: 'questions', itemCount: 3 });
    expect(ds.metadata).toEqual({ owner: 'eval', [MASTRA_DATASET_KEY]: qa.id });
    const imported = await itemsOf(qaId);
    const byExt = new Map(imported.map((i) => [i.externalId, i]));
    expect(byExt.get(a.id)).toMatchObject({
      input: 'capital of France?',
      groundTruth: 'Paris',
      metadata: { topic: 'geo' },
    });
    expect(byExt.get(b.id)).toMatchObject({
      input: [{ role: 'user', content: 'hi' }],
      groundTruth: null,
      metadata: null,
    });
    expect(byExt.get(c.id)).toMatchObject({ input: { n: 3 }, groundTruth: { n: 6 } });

    // Changes in Mastra: one item edited, one deleted, one added; and an item added in Assay only.
    await qa.updateItem({ itemId: a.id, groundTruth: 'Paris, France' });
    await qa.deleteItem({ itemId: b.id });
    const [d] = await qa.addItems({ items: [{ input: 'capital of Japan?', groundTruth: 'Tokyo' }] });
    await client.addItems(qaId, [{ input: 'assay only' }]);
    const otherVersion = (await client.getDataset(otherId)).version;

    const second = await importMastraDatasets(mastra.datasets, client);
    expect(
      second.map((r) => [r.name, r.assayId, r.created, r.added, r.updated, r.deleted, r.unchanged]).sort(),
    ).toEqual([
      ['other', otherId, false, 0, 0, 0, 1],
      ['qa', qaId, false, 1, 1, 1, 1],
    ]);
    const after = await itemsOf(qaId);
    expect(after.map((i) => i.externalId ?? i.input).sort()).toEqual([a.id, c.id, d.id, 'assay only'].sort());
    expect(after.find((i) => i.externalId === a.id)?.groundTruth).toBe('Paris, France');
    expect(after.find((i) => i.externalId === d.id)).toMatchObject({
      input: 'capital of Japan?',
      groundTruth: 'Tokyo',
    });
    // Nothing changed in `other`: no new version.
    expect((await client.getDataset(otherId)).version).toBe(otherVersion);

    // A third import finds nothing to do.
    const qaVersion = (await client.getDataset(qaId)).version;
    const third = await importMastraDatasets(mastra.datasets, client, { ids: [qa.id] });
    expect(third).toEqual([expect.objectContaining({ name: 'qa', added: 0, updated: 0, deleted: 0, unchanged: 3 })]);
    expect((await client.getDataset(qaId)).version).toBe(qaVersion);
  });
});
