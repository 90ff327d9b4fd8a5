/**
 * Import and export round trips through the real `assay` binary against a real `assay serve`, and
 * through `@assay/core/io` (what the UI's worker runs) on the same files: CLI export and the UI's
 * export (with ids) import back to the same items with the CLI and with the module, and
 * import → export → import is stable. Also: a refused file leaves no dataset behind with --create,
 * and --map maps columns as the UI's mapping does.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemInput } from '@assay/core/api';
import { exportFile, type ImportFormat, type Mapping, readItems } from '@assay/core/io';
import { type Driver, killAllChildren, removeTempDirs, writeFile } from '@assay/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, TRICKY } from '../../packages/core/test/io/fixtures.js';
import { type IoServer, startIoServer } from './io-server.js';

let dir: string;
let d: Driver;
let sourceId: string;

let cli: IoServer['cli'];
let itemsOf: IoServer['itemsOf'];

async function ok(p: ReturnType<typeof cli>) {
  const r = await p;
  expect(r.code, r.output).toBe(0);
  return r;
}

/** What the UI's "Export CSV / JSONL" buttons download (Dataset.tsx calls exportFile with ids). */
async function uiExport(datasetId: string, format: ImportFormat): Promise<string> {
  let text = '';
  for await (const part of exportFile(d.iterateItems(datasetId), format, { id: true })) text += part;
  return text;
}

/** The items the UI's import worker gets from a file (the same module, on a stream of the file). */
async function moduleImport(file: string, format: ImportFormat, mapping?: Mapping) {
  const out: unknown[] = [];
  for await (const p of readItems(createReadStream(file), { format, mapping })) out.push(p.item ?? p.error);
  return out;
}

const datasetNames = async () => (await d.listDatasets({ perPage: 100 })).datasets.map((x) => x.name);
const want = TRICKY.map(expected);

beforeAll(async () => {
  ({ dir, d, cli, itemsOf } = await startIoServer('assay-io-'));
  const ds = await d.createDataset({ name: 'source' });
  sourceId = ds.id;
  await d.addItems(
    sourceId,
    TRICKY.map(({ id: _id, ...it }) => it as ItemInput),
  );
  expect(await itemsOf(sourceId)).toEqual(want);
});

afterAll(async () => {
  await killAllChildren();
  removeTempDirs();
});

describe('items import/export round trips (real CLI, real server, the UI’s module)', () => {
  it('CLI and UI exports (CSV and JSONL) import back to the same items, with the CLI and with the module', async () => {
    await ok(cli('items', 'export', '-d', 'source', '--format', 'csv', '-o', 'cli.csv'));
    await ok(cli('items', 'export', '-d', 'source', '--format', 'jsonl', '-o', 'cli.jsonl'));
    writeFile(dir, 'ui.csv', await uiExport(sourceId, 'csv'));
    writeFile(dir, 'ui.jsonl', await uiExport(sourceId, 'jsonl'));
    const cliCsv = readFileSync(join(dir, 'cli.csv'), 'utf8');
    const cliJsonl = readFileSync(join(dir, 'cli.jsonl'), 'utf8');
    expect(cliCsv.split('\n')[0]).toBe('externalId,input,groundTruth,metadata');
    expect(readFileSync(join(dir, 'ui.csv'), 'utf8').split('\n')[0]).toBe('id,externalId,input,groundTruth,metadata');
    expect(cliCsv).toContain('"a, ""quoted"", and\nmulti-line\r\ncell"'); // a real multi-line quoted cell

    for (const [file, format] of [
      ['cli.csv', 'csv'],
      ['cli.jsonl', 'jsonl'],
      ['ui.csv', 'csv'],
      ['ui.jsonl', 'jsonl'],
    ] as const) {
      const name = `from-${file.replace('.', '-')}`;
      const r = await ok(cli('items', 'import', file, '-d', name, '--create', '--strict', '--json'));
      expect(JSON.parse(r.stdout), file).toMatchObject({ imported: TRICKY.length, invalid: 0 });
      const ds = JSON.parse(r.stdout).datasetId as string;
      expect(await itemsOf(ds), file).toEqual(want);
      expect(await moduleImport(join(dir, file), format), file).toEqual(want);
      // import → export is stable: the copy exports to the same text as the source did.
      const again = await ok(cli('items', 'export', '-d', name, '--format', format));
      expect(again.stdout, file).toBe(format === 'csv' ? cliCsv : cliJsonl);
    }
  }, 240_000);

  it('import → export → import is stable, starting from a hand-written CSV with dotted columns', async () => {
    const csv = [
      'externalId,input.question,input.context,groundTruth,metadata.region,metadata.level',
      'h1,"What is 2+2, really?","Line one\nline two",4,eu,1',
      'h2,"Say ""hi""",,"{""answer"":""hi"",""alts"":[""hello"",""hey""]}",,',
      'h3,Ünïcödé ✓,"  spaced  ",,"a,b",[1]',
    ].join('\r\n');
    writeFile(dir, 'hand.csv', csv);
    const first = await ok(cli('items', 'import', 'hand.csv', '-d', 'hand', '--create', '--json'));
    expect(JSON.parse(first.stdout)).toMatchObject({ imported: 3, invalid: 0 });
    const items = await itemsOf(JSON.parse(first.stdout).datasetId);
    expect(items).toEqual([
      {
        externalId: 'h1',
        input: { question: 'What is 2+2, really?', context: 'Line one\nline two' },
        groundTruth: 4,
        metadata: { region: 'eu', level: 1 },
      },
      { externalId: 'h2', input: { question: 'Say "hi"' }, groundTruth: { answer: 'hi', alts: ['hello', 'hey'] } },
      {
        externalId: 'h3',
        input: { question: 'Ünïcödé ✓', context: '  spaced  ' },
        metadata: { region: 'a,b', level: [1] },
      },
    ]);
    expect(await moduleImport(join(dir, 'hand.csv'), 'csv')).toEqual(items);

    await ok(cli('items', 'export', '-d', 'hand', '--format', 'csv', '-o', 'hand-1.csv'));
    await ok(cli('items', 'import', 'hand-1.csv', '-d', 'hand-2', '--create', '--strict'));
    await ok(cli('items', 'export', '-d', 'hand-2', '--format', 'csv', '-o', 'hand-2.csv'));
    expect(readFileSync(join(dir, 'hand-2.csv'), 'utf8')).toBe(readFileSync(join(dir, 'hand-1.csv'), 'utf8'));
    expect(
      await itemsOf((await d.listDatasets({ perPage: 100 })).datasets.find((x) => x.name === 'hand-2')!.id),
    ).toEqual(items);
  }, 120_000);

  it('--create leaves no dataset behind when the file is refused; --map maps columns as the UI’s mapping does', async () => {
    writeFile(dir, 'named.csv', 'question,expected,topic\nq1,a1,geo\nq2,a2,art\n');
    const refused = await cli('items', 'import', 'named.csv', '-d', 'refused', '--create');
    expect(refused.code, refused.output).toBe(2);
    expect(refused.stderr).toContain("named.csv line 1: unknown column(s) 'question', 'expected', 'topic'");
    expect(refused.stderr).toContain('--map question=input --map expected=groundTruth --map topic=metadata');

    writeFile(dir, 'all-bad.jsonl', '{"input":1,"extra":2}\nnot json\n');
    const bad = await cli('items', 'import', 'all-bad.jsonl', '-d', 'all-bad', '--create');
    expect(bad.code, bad.output).toBe(2);
    expect(bad.stderr).toContain('all-bad.jsonl line 1: Unrecognized key: "extra"');
    expect(bad.stderr).toContain("dataset 'all-bad' was not created");
    expect(await datasetNames()).not.toContain('refused');
    expect(await datasetNames()).not.toContain('all-bad');

    // The UI preselects question → input and expected → groundTruth; topic → metadata is chosen.
    const mapping = { question: 'input', expected: 'groundTruth', topic: 'metadata' };
    const mapped = await ok(
      cli(
        'items',
        'import',
        'named.csv',
        '-d',
        'mapped',
        '--create',
        '--json',
        ...Object.entries(mapping).flatMap(([c, t]) => ['--map', `${c}=${t}`]),
      ),
    );
    const got = await itemsOf(JSON.parse(mapped.stdout).datasetId);
    expect(got).toEqual([
      { input: 'q1', groundTruth: 'a1', metadata: { topic: 'geo' } },
      { input: 'q2', groundTruth: 'a2', metadata: { topic: 'art' } },
    ]);
    expect(await moduleImport(join(dir, 'named.csv'), 'csv', mapping)).toEqual(got);
  }, 120_000);
});
