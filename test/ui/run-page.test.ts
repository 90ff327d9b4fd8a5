/**
 * The run page in headless Chromium (Debian's package, driven by playwright-core) against a real
 * `assay serve` child process (API, UI and worker) on a temporary data directory: item identity in
 * the results table (external id, an input column, coloured scores), a whole row opening the
 * item's drawer by mouse and by keyboard, and cancelling — which asks first, then shows the
 * cancelled items in the counts and behind a filter of their own.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Driver,
  freePort,
  killAllChildren,
  REPO_ROOT,
  removeTempDirs,
  type Server,
  startServer,
  tempDir,
  waitFor,
  writeFile,
} from '@assay/testkit';
import { chromiumOrSkip, ensureUiBuilt, openPage, screenshotOnFailure } from '@assay/testkit/ui';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const SHOTS = join(REPO_ROOT, 'docs/screenshots');

// `answer` knows three capitals and gets Rome wrong; Atlantis makes it throw. `picky` fails to
// score "Milan" (a scorer error, not a score). `slow` answers France and Peru at once and takes a
// minute for the others, so a run of it is still running, with two results, when the test cancels it.
const CONFIG = `
const sleep = (ms, signal) => new Promise((res, rej) => {
  if (signal?.aborted) return rej(signal.reason);
  const t = setTimeout(res, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); rej(signal.reason); });
});
const CAPITALS = { France: 'Paris', Peru: 'Lima', Italy: 'Milan' };
export default {
  targets: [
    { id: 'answer', type: 'agent', run: async (input, ctx) => {
        if (input.country === 'Atlantis') throw Object.assign(new Error('no such country'), { retryable: false });
        ctx.reportTrace({ traceId: 'tr-' + input.country, toolCalls: [{ id: 'c1', name: 'lookup', args: { country: input.country } }] });
        return CAPITALS[input.country] ?? 'unknown';
      } },
    { id: 'slow', type: 'workflow', run: async (input, ctx) => {
        if (input.country === 'France' || input.country === 'Peru') return CAPITALS[input.country];
        await sleep(60000, ctx.signal);
        return 'late';
      } },
  ],
  scorers: [
    { id: 'match', score: ({ output, groundTruth }) => ({ score: output === groundTruth ? 1 : 0, usage: { inputTokens: 12, outputTokens: 3 } }) },
    { id: 'picky', score: ({ output }) => { if (output === 'Milan') throw new Error('picky refuses Milan'); return 0.75; } },
  ],
};
`;

// A long question: over 1 MiB, so a results page carries it as a `$truncated` marker.
const LONG = `What is the capital of ${'a very long country name '.repeat(45_000)}`;

const ITEMS = [
  { externalId: 'cap-france', input: { country: 'France', question: 'capital of France?' }, groundTruth: 'Paris' },
  { externalId: 'cap-peru', input: { country: 'Peru', question: 'capital of Peru?' }, groundTruth: 'Lima' },
  { externalId: 'cap-italy', input: { country: 'Italy', question: 'capital of Italy?' }, groundTruth: 'Rome' },
  { externalId: 'cap-atlantis', input: { country: 'Atlantis', question: 'capital of Atlantis?' }, groundTruth: '?' },
  { externalId: 'cap-long', input: { country: 'Longland', question: LONG }, groundTruth: 'unknown' },
];

let dir: string;
let server: Server;
let client: Driver;
let context: BrowserContext;
let page: Page;
let datasetId = '';

const haveChromium = chromiumOrSkip();

describe.skipIf(!haveChromium)('the run page in headless Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    dir = tempDir('assay-ui-run-');
    writeFile(dir, 'assay.config.mjs', CONFIG);
    server = await startServer(await freePort(), [
      '--config',
      join(dir, 'assay.config.mjs'),
      '--data-dir',
      join(dir, 'data'),
    ]);
    client = new Driver(server);
    datasetId = (await client.seedDataset('capitals-run-page', ITEMS)).id;
    ({ context, page } = await openPage(join(dir, 'profile')));
  }, 120_000);

  afterEach((ctx) => screenshotOnFailure(ctx, page));

  afterAll(async () => {
    await context?.close();
    await killAllChildren();
    removeTempDirs();
  });

  it('results show the external id, the input, scores coloured against the pass threshold; a row opens the drawer by click or Enter', async () => {
    const { runId } = await client.startRun(datasetId, { targetId: 'answer', scorerIds: ['match', 'picky'] });
    const run = await client.waitRunFinal(datasetId, runId);
    expect(run.status).toBe('completed');
    await page.goto(`${server.base}/datasets/${datasetId}/runs/${runId}`);
    const table = page.getByRole('table', { name: 'Results' });
    await table
      .locator('tbody tr')
      .nth(ITEMS.length - 1)
      .waitFor();
    const headers = await table.locator('thead th').allTextContents();
    expect(headers).toEqual(['Item', 'Status', 'match', 'picky', 'Latency', 'Input', 'Output / error']);
    const row = (externalId: string) => table.locator('tbody tr', { hasText: externalId });
    const cell = (externalId: string, column: string) => row(externalId).locator('td').nth(headers.indexOf(column));

    // The input column: a preview of the item's input; the long one is the start of its marker.
    expect(await cell('cap-france', 'Input').textContent()).toBe(
      '{"country":"France","question":"capital of France?"}',
    );
    const long = await cell('cap-long', 'Input').textContent();
    expect(long).toMatch(/^\{"country":"Longland","question":"What is the ca.*…$/);
    expect(long!.length).toBeLessThanOrEqual(61);

    // Scores keep their number; the class (colour and glyph) says pass or fail at the threshold 0.5.
    const score = async (externalId: string, scorer: string) => {
      const c = cell(externalId, scorer);
      return { text: await c.textContent(), cls: await c.getAttribute('class'), title: await c.getAttribute('title') };
    };
    expect(await score('cap-france', 'match')).toEqual({
      text: '1',
      cls: 'num score-pass',
      title: 'pass (score ≥ 0.5)',
    });
    expect(await score('cap-italy', 'match')).toEqual({
      text: '0',
      cls: 'num score-fail',
      title: 'fail (score < 0.5)',
    });
    expect(await score('cap-peru', 'picky')).toMatchObject({ text: '0.75', cls: 'num score-pass' });
    // A scorer that threw has no score: it says so, in amber.
    expect(await score('cap-italy', 'picky')).toMatchObject({ text: 'error', cls: 'num score-error' });
    // A failed item has no scores at all.
    expect(await score('cap-atlantis', 'match')).toMatchObject({ text: '—', cls: 'num score-none' });
    // The glyph is the second, non-colour signal.
    const glyph = await cell('cap-italy', 'match').evaluate(
      (el) => el.ownerDocument.defaultView.getComputedStyle(el, '::after').content,
    );
    expect(glyph).toContain('✗');
    await page.screenshot({ path: join(SHOTS, 'run-results.png') });

    // A click anywhere on the row (here its input cell) opens the drawer, titled by the external id.
    await cell('cap-italy', 'Input').click();
    const drawer = page.getByRole('dialog', { name: 'Item cap-italy' });
    await drawer.waitFor();
    await drawer.getByText('picky refuses Milan', { exact: false }).waitFor();
    // What the target reported beside its output (its trace: id and tool calls), and what the
    // scorer said it spent.
    await drawer.getByTestId('trace-id').getByText('tr-Italy').waitFor();
    const calls = drawer.getByRole('table', { name: 'Tool calls' });
    expect(await calls.locator('tbody tr').allInnerTexts()).toEqual([expect.stringContaining('lookup')]);
    expect(await calls.locator('tbody td').nth(1).textContent()).toBe('{"country":"Italy"}');
    expect(await drawer.getByTestId('score-usage').textContent()).toContain('judge: 12 + 3 tokens');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    // Keyboard: each row is one tab stop (its id button is not another), Enter opens the focused one.
    const rows = table.locator('tbody tr');
    await rows.first().focus();
    await page.keyboard.press('Tab');
    const second = (await rows.nth(1).locator('td').first().textContent())!;
    expect(await rows.nth(1).evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: `Item ${second}` }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });

    // The long input: the drawer reads the whole result.
    await row('cap-long').focus();
    await page.keyboard.press('Enter');
    const longDrawer = page.getByRole('dialog', { name: 'Item cap-long' });
    await longDrawer.waitFor();
    await page.waitForFunction(
      `(document.querySelector('dialog[open] pre[data-label="Input"]')?.textContent?.length ?? 0) > ${LONG.length}`,
    );
    await page.keyboard.press('Escape');
    await longDrawer.waitFor({ state: 'hidden' });
  });

  it('Cancel asks first: Keep running leaves the run running; Yes cancels it, and the cancelled items are counted and filterable', async () => {
    // Every item in flight at once: the two quick ones finish, the three others wait.
    const { runId } = await client.startRun(datasetId, { targetId: 'slow', scorerIds: ['match'], maxConcurrency: 5 });
    await page.goto(`${server.base}/datasets/${datasetId}/runs/${runId}`);
    await page.locator('h1 [data-status="running"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('progress-counts').getByText('2 succeeded').waitFor();

    // Dismissed twice (the button, then Esc): nothing is sent, the run goes on.
    const confirm = page.getByRole('dialog', { name: 'Cancel this run?' });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await confirm
      .getByText('The items still to run (3 of 5) end as cancelled; the results so far (2) are kept.', { exact: false })
      .waitFor();
    await page.screenshot({ path: join(SHOTS, 'run-cancel-confirm.png') });
    await confirm.getByRole('button', { name: 'Keep running' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await confirm.waitFor();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    const still = await client.getRun(datasetId, runId);
    expect(still).toMatchObject({ status: 'running', cancelRequestedAt: null });
    await page.locator('h1 [data-status="running"]').waitFor();

    await page.getByRole('button', { name: 'Cancel run' }).click();
    await confirm.getByRole('button', { name: 'Yes, cancel run' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await page.locator('h1 [data-status="cancelled"]').waitFor({ timeout: 30_000 });
    const run = await waitFor(
      () => client.getRun(datasetId, runId),
      (r) => r.status === 'cancelled' && r.summary !== null,
      { ms: 30_000, what: 'the cancelled run with its summary' },
    );
    const s = run.summary!;
    expect(s).toMatchObject({ succeeded: 2, failed: 0, cancelled: 3, skipped: 0 });

    // The counts say what happened to every item, the cancelled ones included.
    const counts = page.getByTestId('progress-counts');
    await counts.getByText(`${s.cancelled} cancelled`, { exact: false }).waitFor();
    expect(await counts.textContent()).toBe('2 succeeded · 0 failed · 3 cancelled');
    // Only a live run can be cancelled.
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);

    // The filter: exactly the cancelled items, then exactly the succeeded ones.
    const shownStatuses = (n: number) =>
      page.waitForFunction(
        `document.querySelectorAll('table[aria-label="Results"] tbody tr [data-status]').length === ${n}`,
      );
    const statuses = () =>
      page.getByRole('table', { name: 'Results' }).locator('tbody tr [data-status]').allTextContents();
    await shownStatuses(5);
    await page.getByLabel('Filter results').selectOption('cancelled');
    await shownStatuses(3);
    expect(await statuses()).toEqual(['cancelled', 'cancelled', 'cancelled']);
    await page.getByLabel('Filter results').selectOption('succeeded');
    await shownStatuses(2);
    expect(await statuses()).toEqual(['succeeded', 'succeeded']);
  });
});
