import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assay, expectExit, json, workspace } from './helpers.js';

const ws = workspace();
const run = (...args: string[]) => assay(args, ws.dir);

const BAD_JSONL = [
  '{"input":{"answer":"Paris"},"groundTruth":"Paris","externalId":"fr"}',
  '{"input":{"answer":"Rome"},"groundTruth":"Rome"}',
  'not json',
  '{"groundTruth":"no input"}',
  '',
  '{"input":1,"externalId":"fr"}',
  '{"input":2,"extra":true}',
  '{"input":{"answer":"Lima"},"groundTruth":"Lima","metadata":{"region":"sa"}}',
  '[1,2]',
].join('\n');

const BAD_CSV = [
  'externalId,input.question,groundTruth',
  'c1,What is the capital of France?,Paris',
  'c2,"a question',
  'on two lines",Rome',
  'c3,only two columns',
  'c4,"{""broken json",x',
  'c5,,Lima',
  'c6,What about Peru?,Lima',
].join('\n');

describe('assay datasets and items (real binary, local data directory)', () => {
  it('imports JSONL: invalid lines are reported with their line numbers, valid ones kept', async () => {
    const created = json(await expectExit(run('datasets', 'create', 'capitals', '--json'), 0));
    expect(created).toMatchObject({ name: 'capitals', itemCount: 0 });
    ws.file('bad.jsonl', BAD_JSONL);

    const r = await expectExit(run('items', 'import', 'bad.jsonl', '--dataset', 'capitals'), 0);
    expect(r.stderr).toContain('bad.jsonl line 3: not valid JSON');
    expect(r.stderr).toContain('bad.jsonl line 4: input: is required');
    expect(r.stderr).toContain("bad.jsonl line 6: externalId 'fr' is already used on line 1");
    expect(r.stderr).toContain('bad.jsonl line 7: Unrecognized key: "extra"');
    expect(r.stderr).toContain('bad.jsonl line 9: expected a JSON object');
    expect(r.stderr).not.toMatch(/line (1|2|5|8):/);
    expect(r.stderr).toMatch(/importing bad\.jsonl: 100% \| 3 items \| 5 invalid/); // the progress line
    expect(r.stdout).toContain("imported 3 item(s) into 'capitals'");
    expect(r.stdout).toContain('5 invalid line(s) skipped');

    const shown = json(await expectExit(run('datasets', 'show', 'capitals', '--json'), 0));
    expect(shown.dataset).toMatchObject({ id: created.id, itemCount: 3, version: 1 });
    expect(shown.versions).toEqual([expect.objectContaining({ version: 1, added: 3 })]);
  });

  it('--strict refuses the whole file when any line is invalid: nothing is stored', async () => {
    const [r, existing] = await Promise.all([
      run('items', 'import', 'bad.jsonl', '--dataset', 'strict-one', '--create', '--strict'),
      run('items', 'import', 'bad.jsonl', '--dataset', 'capitals', '--strict'),
    ]);
    expect([r.code, existing.code]).toEqual([2, 2]);
    expect(r.stderr).toContain('bad.jsonl line 3: not valid JSON');
    expect(r.stderr).toContain('bad.jsonl line 9: expected a JSON object');
    expect(r.stderr).toContain('--strict: 5 invalid line(s) in bad.jsonl; nothing imported');
    // into an existing dataset: unchanged (still 3 items at version 1)
    const list = json(await expectExit(run('datasets', 'list', '--json'), 0));
    expect(list.datasets.map((d: any) => d.name)).toEqual(['capitals']); // --create never ran
    expect(list.datasets[0]).toMatchObject({ itemCount: 3, version: 1 });
  });

  it('imports CSV: dotted columns build objects, quoted multi-line cells count their lines, bad records reported', async () => {
    ws.file('bad.csv', BAD_CSV);
    const r = await expectExit(run('items', 'import', 'bad.csv', '-d', 'questions', '--create', '--json'), 0);
    expect(r.stderr).toContain("created dataset 'questions'");
    expect(r.stderr).toMatch(/bad\.csv line 5: Invalid Record Length/);
    expect(r.stderr).toMatch(/bad\.csv line 6: column input\.question: not valid JSON/);
    expect(r.stderr).toContain('bad.csv line 7: input: is required');
    const out = json(r);
    expect(out).toMatchObject({ imported: 3, invalid: 3, version: 1, itemCount: 3 });
    expect(out.errors.map((e: any) => e.line)).toEqual([5, 6, 7]);

    // a header with an unknown column refuses the file
    ws.file('columns.csv', 'question,answer\nq,a\n');
    const [exported, cols] = await Promise.all([
      expectExit(run('items', 'export', '-d', 'questions'), 0),
      expectExit(run('items', 'import', 'columns.csv', '-d', 'questions'), 2),
    ]);
    expect(cols.stderr).toContain("columns.csv line 1: unknown column(s) 'question', 'answer'");
    expect(
      exported.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { externalId: 'c1', input: { question: 'What is the capital of France?' }, groundTruth: 'Paris' },
      { externalId: 'c2', input: { question: 'a question\non two lines' }, groundTruth: 'Rome' },
      { externalId: 'c6', input: { question: 'What about Peru?' }, groundTruth: 'Lima' },
    ]);
  });

  it('exports JSONL and CSV; the CSV imports back to the same items', async () => {
    const [jsonl, csv] = await Promise.all([
      expectExit(run('items', 'export', '--dataset', 'capitals', '-o', 'capitals.jsonl'), 0),
      expectExit(run('items', 'export', '--dataset', 'capitals', '--format', 'csv'), 0),
    ]);
    expect(jsonl.stderr).toContain("exported 3 item(s) of 'capitals' to capitals.jsonl");
    expect(csv.stdout.split('\n')[0]).toBe('externalId,input,groundTruth,metadata');
    ws.file('capitals.csv', csv.stdout);
    await expectExit(run('items', 'import', 'capitals.csv', '-d', 'from-csv', '--create', '--strict'), 0);
    const back = await expectExit(run('items', 'export', '-d', 'from-csv'), 0);
    const original = readFileSync(join(ws.dir, 'capitals.jsonl'), 'utf8');
    expect(back.stdout).toBe(original);
    expect(
      original
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))[2],
    ).toEqual({
      input: { answer: 'Lima' },
      groundTruth: 'Lima',
      metadata: { region: 'sa' },
    });
  });

  it('usage and API errors exit 2 with a message; help exits 0; delete asks for --yes without a terminal', async () => {
    ws.file('capitals.txt', 'x');
    const [noFormat, noDataset, badOption, noYes, help] = await Promise.all([
      run('items', 'import', 'capitals.txt', '-d', 'capitals'),
      run('datasets', 'show', 'nope'),
      run('items', 'import', 'bad.jsonl', '-d', 'capitals', '--batch-size', '0'),
      run('datasets', 'delete', 'from-csv'),
      run('items', 'import', '--help'),
    ]);
    expect([noFormat, noDataset, badOption, noYes].map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(noFormat.stderr).toContain('pass --format jsonl or --format csv');
    expect(noDataset.stderr).toContain("no dataset with id or name 'nope'");
    expect(badOption.stderr).toContain('--batch-size must be an integer from 1 to 10000');
    expect(noYes.stderr).toContain("refusing to delete 'from-csv'");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--strict');

    const deleted = await expectExit(run('datasets', 'delete', 'from-csv', '--yes'), 0);
    expect(deleted.stdout).toContain("deleted dataset 'from-csv'");
    const table = await expectExit(run('datasets', 'list'), 0);
    expect(table.stdout).toMatch(/id\s+name\s+items\s+version\s+updated/);
    expect(table.stdout).toContain('capitals');
    expect(table.stdout).not.toContain('from-csv');
  });
});
