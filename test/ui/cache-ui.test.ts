/**
 * The target output cache and re-scoring in the UI, in headless Chromium (Debian's package, driven
 * by playwright-core) against a real `assay serve` child process (API, UI and worker) on a
 * temporary data directory. The target is code with a `version` (so it can be cached) that
 * appends a line per call to a file, so "no target called" is counted by the target itself: two
 * runs with cache `readwrite` from the run dialog (the second all hits, the cached tags naming the
 * first run), then **Re-score…** with another scorer, whose run says what it re-scores and scores
 * every item without a target call. A target without a version shows why it is never cached.
 */
import { mkdirSync, readFileSync } from 'node:fs';
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
  writeFile,
} from '@assay/testkit';
import { chromiumOrSkip, ensureUiBuilt, openPage, screenshotOnFailure } from '@assay/testkit/ui';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const SHOTS = join(REPO_ROOT, 'docs/screenshots');

/**
 * `answer` (version 1) knows four capitals, reports a cent of cost per call and logs each call to
 * `calls.log` (its worker threads share no memory, the file counts them all); `plain` is the same
 * code without a version, so it is never cached. `short` is the re-score's scorer: 1 for an answer
 * of at most four letters.
 */
function config(dir: string) {
  const log = JSON.stringify(join(dir, 'calls.log'));
  return `import { appendFileSync } from 'node:fs';
const CAPITALS = { France: 'Paris', Peru: 'Lima', Italy: 'Rome', Japan: 'Tokyo' };
const answer = async (input, ctx) => {
  appendFileSync(${log}, ctx.item.id + '\\n');
  ctx.reportUsage({ inputTokens: 10, outputTokens: 2, costUsd: 0.01 });
  return CAPITALS[input.country] ?? 'unknown';
};
export default {
  targets: [
    { id: 'answer', type: 'agent', version: '1', run: answer },
    { id: 'plain', type: 'agent', run: answer },
  ],
  scorers: [
    { id: 'match', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) },
    { id: 'short', score: ({ output }) => (String(output).length <= 4 ? 1 : 0) },
  ],
};
`;
}

const ITEMS = [
  { externalId: 'cap-france', input: { country: 'France' }, groundTruth: 'Paris' },
  { externalId: 'cap-peru', input: { country: 'Peru' }, groundTruth: 'Lima' },
  { externalId: 'cap-italy', input: { country: 'Italy' }, groundTruth: 'Rome' },
  { externalId: 'cap-japan', input: { country: 'Japan' }, groundTruth: 'Tokyo' },
];

let dir: string;
let server: Server;
let client: Driver;
let context: BrowserContext;
let page: Page;
let datasetId = '';

const calls = () => {
  try {
    return readFileSync(join(dir, 'calls.log'), 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

/** Opens the run dialog and starts a run of `answer` with the `match` scorer and cache `mode`; returns its id. */
async function startRunFromDialog(mode: string) {
  await page.goto(`${server.base}/datasets/${datasetId}`);
  await page.getByRole('button', { name: 'New run' }).click();
  const dialog = page.getByRole('dialog', { name: 'New run' });
  await dialog.getByLabel('Target').selectOption('answer');
  await dialog.getByRole('checkbox', { name: 'match', exact: true }).check();
  await dialog.getByLabel('Cache').selectOption(mode);
  await dialog.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/\/runs\/run_/);
  await dialog.waitFor({ state: 'hidden' });
  return page.url().split('/runs/')[1]!;
}

/** Waits until the results table shows `n` rows, each with a status. */
const resultRows = (n: number) =>
  page.waitForFunction(
    `document.querySelectorAll('table[aria-label="Results"] tbody tr [data-status]').length === ${n}`,
  );

const haveChromium = chromiumOrSkip();

describe.skipIf(!haveChromium)('the cache and re-score on the run page, in headless Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    dir = tempDir('assay-ui-cache-');
    writeFile(dir, 'assay.config.mjs', config(dir));
    server = await startServer(await freePort(), [
      '--config',
      join(dir, 'assay.config.mjs'),
      '--data-dir',
      join(dir, 'data'),
    ]);
    client = new Driver(server);
    datasetId = (await client.seedDataset('capitals-cache', ITEMS)).id;
    ({ context, page } = await openPage(join(dir, 'profile')));
  }, 120_000);

  afterEach((ctx) => screenshotOnFailure(ctx, page));

  afterAll(async () => {
    await context?.close();
    await killAllChildren();
    removeTempDirs();
  });

  it('a second readwrite run from the run dialog is all cache hits (no target call), its results tagged with the first run', async () => {
    const first = await startRunFromDialog('readwrite');
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    const line = page.getByTestId('run-cache');
    await line.getByText('0 hits', { exact: false }).waitFor();
    await expect
      .poll(() => line.textContent())
      .toBe('cache readwrite 0 hits · 4 target calls · 4 stored · $0.0400 spent · $0.00 saved');
    expect(calls()).toBe(4);
    // A fresh run's results are not cached: no tag.
    await resultRows(4);
    expect(await page.getByRole('table', { name: 'Results' }).locator('.tag.cached').count()).toBe(0);

    const second = await startRunFromDialog('readwrite');
    expect(second).not.toBe(first);
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    await line.getByText('4 hits', { exact: false }).waitFor();
    await expect
      .poll(() => line.textContent())
      .toBe('cache readwrite 4 hits · 0 target calls · 0 stored · $0.00 spent · $0.0400 saved');
    expect(calls()).toBe(4);
    const run = await client.getRun(datasetId, second);
    expect(run.options.cache).toBe('readwrite');
    expect(run.summary?.cache).toMatchObject({ mode: 'readwrite', hits: 4, misses: 0, stored: 0, costSpentUsd: 0 });

    // Every row carries the tag; its tooltip names the run whose target call produced the output.
    await resultRows(4);
    const tags = page.getByRole('table', { name: 'Results' }).locator('tbody tr .tag.cached');
    // Rows can render before their cached tags (the page refetches as the run ends): wait for them.
    await expect.poll(() => tags.count()).toBe(4);
    expect(await tags.allTextContents()).toEqual(['cached', 'cached', 'cached', 'cached']);
    for (const title of await tags.evaluateAll((els) => els.map((e) => e.getAttribute('title'))))
      expect(title).toBe(`output from run ${first} (target not called)`);
    // Transitions finished: the progress bar at its full width.
    await page.screenshot({ path: join(SHOTS, 'run-cache.png'), animations: 'disabled' });

    // The drawer says so too, and links the source run; following the link opens that run's page.
    await page.getByRole('table', { name: 'Results' }).locator('tbody tr', { hasText: 'cap-peru' }).click();
    const drawer = page.getByRole('dialog', { name: 'Item cap-peru' });
    const from = drawer.getByTestId('cached-from');
    await from.waitFor();
    expect(await from.textContent()).toContain(`The target was not called for this result`);
    await from.getByRole('link', { name: first }).click();
    await page.waitForURL(new RegExp(`/runs/${first}$`));
    await drawer.waitFor({ state: 'hidden' });
    await line.getByText('0 hits', { exact: false }).waitFor();
  });

  it('Re-score… scores the stored outputs with another scorer in a new run that names its source and calls no target', async () => {
    const { runId: source } = await client.startRun(datasetId, {
      targetId: 'answer',
      scorerIds: ['match'],
      cache: 'readwrite',
    });
    await client.waitRunFinal(datasetId, source);
    const before = calls();
    await page.goto(`${server.base}/datasets/${datasetId}/runs/${source}`);
    await page.locator('h1 [data-status="completed"]').waitFor();

    await page.getByRole('button', { name: 'Re-score…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-score this run' });
    // The run's own scorers start checked (for a scorer whose code changed).
    const match = dialog.getByRole('checkbox', { name: 'match', exact: true });
    await match.waitFor();
    expect(await match.isChecked()).toBe(true);
    await match.uncheck();
    // No scorer: nothing to start.
    expect(await dialog.getByRole('button', { name: 'Start re-score' }).isDisabled()).toBe(true);
    await dialog.getByRole('checkbox', { name: 'short', exact: true }).check();
    await dialog.getByLabel('Pass threshold').fill('0.9');
    await page.screenshot({ path: join(SHOTS, 'rescore-dialog.png'), animations: 'disabled' });
    await dialog.getByRole('button', { name: 'Start re-score' }).click();
    await page.waitForURL((u) => /\/runs\/run_/.test(u.pathname) && !u.pathname.endsWith(source));
    await dialog.waitFor({ state: 'hidden' });
    const rescored = page.url().split('/runs/')[1]!;

    // The new run's page: what it re-scores (a link to the source), then completed with `short`'s scores.
    const note = page.getByTestId('rescore-source');
    await note.waitFor();
    expect(await note.textContent()).toMatch(
      /^Re-score of run .+: it scores that run's stored outputs; no target is called\.$/,
    );
    expect(await note.getByRole('link').getAttribute('href')).toBe(`/datasets/${datasetId}/runs/${source}`);
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('scorer-short').waitFor();
    expect(await page.getByTestId('scorer-match').count()).toBe(0);
    await resultRows(4);
    const table = page.getByRole('table', { name: 'Results' });
    expect(await table.locator('thead th').allTextContents()).toEqual([
      'Item',
      'Status',
      'short',
      'Latency',
      'Input',
      'Output / error',
    ]);
    // A row can show before its score does (the page refetches as the run ends): wait for each.
    const shortOf = async (externalId: string) =>
      table.locator('tbody tr', { hasText: externalId }).locator('td').nth(2).textContent();
    await expect.poll(() => shortOf('cap-france')).toBe('0');
    await expect.poll(() => shortOf('cap-peru')).toBe('1');
    await expect.poll(() => shortOf('cap-italy')).toBe('1');
    await expect.poll(() => shortOf('cap-japan')).toBe('0');
    await expect.poll(() => table.locator('tbody tr .tag.cached').count()).toBe(4);
    await page.getByTestId('run-cache').getByText('4 hits', { exact: false }).waitFor();
    expect(await page.getByTestId('run-cache').textContent()).toMatch(/^cache read 4 hits · 0 target calls · 0 stored/);

    expect(calls()).toBe(before);
    const run = await client.getRun(datasetId, rescored);
    expect(run).toMatchObject({ sourceRunId: source, scorerIds: ['short'], status: 'completed', succeededCount: 4 });
    expect(run.summary?.passThreshold).toBe(0.9);
    const results = await client.allResults(datasetId, rescored);
    expect(results.map((r) => r.scores.map((s) => s.scorerId))).toEqual([['short'], ['short'], ['short'], ['short']]);
    // Each output is the source's, with the latency and the origin of its first computation.
    const sourceResults = await client.allResults(datasetId, source);
    const origin = (rs: typeof results) => rs.map((r) => [r.itemId, r.output, r.latencyMs, r.cachedFrom]);
    expect(results.every((r) => r.cached)).toBe(true);
    expect(origin(results)).toEqual(origin(sourceResults));
  });

  it('a target without a version says why the run was not cached', async () => {
    const { runId } = await client.startRun(datasetId, { targetId: 'plain', scorerIds: ['match'], cache: 'readwrite' });
    const run = await client.waitRunFinal(datasetId, runId);
    expect(run.options).toMatchObject({ cache: 'off', cacheNotice: expect.stringContaining("'plain'") });
    await page.goto(`${server.base}/datasets/${datasetId}/runs/${runId}`);
    const notice = page.getByTestId('cache-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toBe(run.options.cacheNotice);
    // It ran uncached: no cache line, no cached tags.
    await resultRows(4);
    expect(await page.getByTestId('run-cache').count()).toBe(0);
    expect(await page.locator('.tag.cached').count()).toBe(0);
  });
});
