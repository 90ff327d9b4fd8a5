/**
 * The UI's import and export in headless Chromium against a real `assay serve`, checked against the
 * real `assay` CLI on the same files: dotted columns and an `id` column map as in the CLI, the
 * dialog says why Validate is disabled, errors carry the CLI's line numbers, the UI's export
 * downloads files the CLI imports back unchanged, and a CLI export imports back through the UI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ItemInput } from '@assay/core/api';
import { type Driver, killAllChildren, REPO_ROOT, removeTempDirs, type Server, writeFile } from '@assay/testkit';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expected, TRICKY } from '../../packages/core/test/io/fixtures.js';
import { type IoServer, startIoServer } from '../e2e/io-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UI_DIST = join(REPO_ROOT, 'packages/ui/dist/index.html');

/** Newest modification time of what the UI bundle is built from (its app and core's io module). */
function newestSource(): number {
  const dirs = ['packages/ui/app', 'packages/core/src/io'].map((d) => join(REPO_ROOT, d));
  return Math.max(
    ...dirs.flatMap((d) =>
      readdirSync(d, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((f) => statSync(join(f.parentPath, f.name)).mtimeMs),
    ),
  );
}

let dir: string;
let server: Server;
let d: Driver;
let context: BrowserContext;
let page: Page;

let cli: IoServer['cli'];
let itemsOf: IoServer['itemsOf'];

/** Opens the import dialog of a dataset and picks `file`. */
async function openImport(datasetId: string, name: string, text: string): Promise<Locator> {
  await page.goto(`${server.base}/datasets/${datasetId}`);
  await page.getByRole('button', { name: 'Import CSV / JSONL' }).click();
  const imp = page.getByRole('dialog', { name: 'Import items' });
  await imp.locator('input[type=file]').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  await imp.getByRole('table', { name: 'Column mapping' }).waitFor();
  return imp;
}

async function validateAndImport(imp: Locator, valid: number) {
  await imp.getByRole('button', { name: 'Validate' }).click();
  await imp.getByTestId('valid-count').waitFor();
  expect(await imp.getByTestId('valid-count').textContent()).toBe(String(valid));
  await imp.getByRole('button', { name: `Import ${valid} items` }).click();
  await imp.getByText(/dataset is at version \d+/).waitFor();
  await imp.getByRole('button', { name: 'Close' }).last().click();
}

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && (process.env.CI || process.env.ASSAY_REQUIRE_SERVICES === '1')) {
  throw new Error(`${CHROMIUM} is missing: the UI tests need Debian's chromium (apt-get install -y chromium)`);
}

describe.skipIf(!haveChromium)('UI import and export against the CLI (headless Chromium, real server)', () => {
  beforeAll(async () => {
    if (!existsSync(UI_DIST) || newestSource() > statSync(UI_DIST).mtimeMs) {
      execFileSync('npm', ['run', 'build', '-w', '@assay/ui'], { cwd: REPO_ROOT, stdio: 'ignore' });
    }
    ({ dir, server, d, cli, itemsOf } = await startIoServer('assay-ui-io-'));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await killAllChildren();
    removeTempDirs();
  });

  it('maps dotted columns and an id column as the CLI does, and says why Validate is disabled', async () => {
    const csv = [
      'id,externalId,input.question,metadata.region,notes',
      'old_1,e1,"Qué, ""tal""?",eu,n1',
      'old_2,e2,"line',
      'break",,n2',
    ].join('\n');
    const ds = await d.createDataset({ name: 'dotted' });
    const imp = await openImport(ds.id, 'dotted.csv', csv);
    const target = (c: string) => imp.getByLabel(`Map column ${c}`).inputValue();
    expect(await target('input.question')).toBe('input.question');
    expect(await target('metadata.region')).toBe('metadata.region');
    expect(await target('id')).toBe('ignore');
    expect(await target('notes')).toBe('');
    const validate = imp.getByRole('button', { name: 'Validate' });
    expect(await validate.isDisabled()).toBe(true);
    const why = imp.getByRole('note', { name: 'Why Validate is disabled' });
    expect(await why.textContent()).toContain(
      "Column 'notes' is not an item field: choose what it maps to, or ignore it.",
    );

    await imp.getByLabel('Map column notes').selectOption('ignore');
    expect(await validate.isDisabled()).toBe(false);
    await validateAndImport(imp, 2);
    const want = [
      { externalId: 'e1', input: { question: 'Qué, "tal"?' }, metadata: { region: 'eu' } },
      { externalId: 'e2', input: { question: 'line\nbreak' } },
    ];
    expect(await itemsOf(ds.id)).toEqual(want);

    // The CLI reads the same file to the same items once `notes` is mapped the same way.
    writeFile(dir, 'dotted.csv', csv);
    const r = await cli(
      'items',
      'import',
      'dotted.csv',
      '-d',
      'dotted-cli',
      '--create',
      '--map',
      'notes=ignore',
      '--json',
    );
    expect(r.code, r.output).toBe(0);
    expect(await itemsOf(JSON.parse(r.stdout).datasetId)).toEqual(want);
  }, 120_000);

  it('reports invalid records by the same line numbers as the CLI', async () => {
    const csv = ['input,groundTruth', '"two', 'lines",x', ',no input', 'ok,"{broken"', 'fine,y'].join('\n');
    const ds = await d.createDataset({ name: 'lines' });
    const imp = await openImport(ds.id, 'lines.csv', csv);
    await imp.getByRole('button', { name: 'Validate' }).click();
    await imp.getByTestId('invalid-count').waitFor();
    expect(await imp.getByTestId('invalid-count').textContent()).toBe('2');
    const shown = await imp.getByRole('region', { name: 'Validation report' }).locator('li').allTextContents();

    writeFile(dir, 'lines.csv', csv);
    const r = await cli('items', 'import', 'lines.csv', '-d', 'lines');
    expect(r.code, r.output).toBe(0);
    const fromCli = r.stderr
      .split('\n')
      .filter((l) => l.includes('lines.csv line '))
      .map((l) => l.slice(l.indexOf('line ')));
    expect(shown).toEqual(fromCli);
    expect(shown[0]).toBe('line 4: input: is required');
    expect(shown[1]).toMatch(/^line 5: column groundTruth: not valid JSON/);
  }, 120_000);

  it('the UI export imports back with the CLI, and a CLI export imports back through the UI', async () => {
    const src = await d.createDataset({ name: 'tricky' });
    await d.addItems(
      src.id,
      TRICKY.map(({ id: _id, ...it }) => it as ItemInput),
    );
    const want = TRICKY.map(expected);
    for (const format of ['csv', 'jsonl'] as const) {
      await page.goto(`${server.base}/datasets/${src.id}`);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: `Export ${format.toUpperCase()}` }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`tricky-v1.${format}`);
      const file = join(dir, `ui-export.${format}`);
      await download.saveAs(file);
      if (format === 'csv')
        expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('id,externalId,input,groundTruth,metadata');
      const r = await cli('items', 'import', file, '-d', `ui-${format}`, '--create', '--strict', '--json');
      expect(r.code, r.output).toBe(0);
      expect(await itemsOf(JSON.parse(r.stdout).datasetId)).toEqual(want);

      const exported = await cli('items', 'export', '-d', 'tricky', '--format', format);
      expect(exported.code, exported.output).toBe(0);
      const back = await d.createDataset({ name: `from-cli-${format}` });
      const imp = await openImport(back.id, `cli-export.${format}`, exported.stdout);
      await validateAndImport(imp, TRICKY.length);
      expect(await itemsOf(back.id)).toEqual(want);
    }
  }, 180_000);
});
