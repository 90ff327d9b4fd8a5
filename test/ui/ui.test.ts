/**
 * The web UI end to end: headless Chromium (Debian's package, driven by playwright-core) against a
 * real `assay serve` child process on a temporary data directory. The API server runs without a
 * worker, so a new run stays `pending` until the test starts an `assay worker` on the same SQLite
 * file. One test makes every event-stream request fail, so the page can only poll.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Child,
  Driver,
  freePort,
  killAllChildren,
  REPO_ROOT,
  rawApi,
  removeTempDirs,
  type Server,
  spawnAssay,
  startServer,
  tempDir,
  writeFile,
} from '@assay/testkit';
import { chromiumOrSkip, ensureUiBuilt, openPage, screenshotOnFailure } from '@assay/testkit/ui';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const SHOTS = join(REPO_ROOT, 'docs/screenshots');

let dir: string;
let flag: string;
let server: Server;
let client: Driver;
let worker: Child | undefined;
let context: BrowserContext;
let page: Page;
let datasetId = '';
let failedRunId = '';

const config = (flagFile: string) => `
import { existsSync } from 'node:fs';
const sleep = (ms, signal) => new Promise((res, rej) => {
  if (signal?.aborted) return rej(signal.reason);
  const t = setTimeout(res, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); rej(signal.reason); });
});
const FLAG = ${JSON.stringify(flagFile)};
export default {
  targets: [
    { id: 'good', type: 'function', description: 'answers every item right',
      run: async (q, ctx) => { ctx.reportUsage({ inputTokens: 10, outputTokens: 2, costUsd: 0.001 }); return 'ans-' + q; } },
    { id: 'worse', type: 'function', description: 'gets q2, q4 and q6 wrong',
      run: async (q) => (/[246]$/.test(String(q)) ? 'wrong' : 'ans-' + q) },
    { id: 'flaky', type: 'agent', description: 'fails q2 and q5 while the flag file exists',
      run: async (q) => {
        if (existsSync(FLAG) && /[25]$/.test(String(q))) {
          throw Object.assign(new Error('planned failure for ' + q), { retryable: false });
        }
        return 'ans-' + q;
      } },
    { id: 'slow', type: 'workflow', description: 'takes a minute per item', run: async (q, ctx) => { await sleep(60000, ctx.signal); return 'ans-' + q; } },
  ],
  scorers: [
    { id: 'match', description: '1 when the output equals the ground truth',
      score: ({ output, groundTruth }) => ({ score: output === groundTruth ? 1 : 0, reason: output === groundTruth ? 'equal' : 'differs' }) },
    { id: 'quick', use: 'latency-under', options: { ms: 60000 }, description: '1 within a minute (a latency scorer: reported beside a comparison)' },
  ],
};
`;

const CSV = [
  'question,expected,topic',
  'q1,ans-q1,geo',
  'q2,ans-q2,geo',
  'q3,ans-q3,math',
  ',ans-missing,math', // no input: the validation report flags it
  'q4,ans-q4,math',
  'q5,ans-q5,art',
  'q6,ans-q6,art',
].join('\n');

async function shot(name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function startWorker() {
  if (worker?.isRunning()) return;
  worker = spawnAssay(['worker', '--config', join(dir, 'assay.config.mjs'), '--data-dir', join(dir, 'data')]);
}

/** Opens the run dialog and starts a run of `target` with the `match` scorer. */
async function startRun(target: string, scorers = ['match']) {
  await page.goto(`${server.base}/datasets/${datasetId}`);
  await page.getByRole('button', { name: 'New run' }).click();
  const dialog = page.getByRole('dialog', { name: 'New run' });
  await dialog.getByLabel('Target').selectOption(target);
  for (const id of scorers) await dialog.getByRole('checkbox', { name: new RegExp(`^${id} —`) }).check();
  await dialog.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/\/runs\/run_/);
  await dialog.waitFor({ state: 'hidden' });
  return page.url().split('/runs/')[1]!;
}

/** Waits until the table labelled `name` shows `n` body rows. */
const rowsOf = (name: string, n: number) =>
  page.waitForFunction(`document.querySelectorAll('table[aria-label="${name}"] tbody tr').length === ${n}`);

const expectText = async (text: string | RegExp, timeout = 20_000) =>
  page.getByText(text).first().waitFor({ state: 'visible', timeout });

// On a laptop without Chromium the suite skips (one line says why); in CI a missing browser fails.
const haveChromium = chromiumOrSkip();

describe.skipIf(!haveChromium)('web UI in headless Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    mkdirSync(SHOTS, { recursive: true });
    dir = tempDir('assay-ui-');
    flag = join(dir, 'fail-flag');
    writeFile(dir, 'fail-flag', 'on');
    writeFile(dir, 'assay.config.mjs', config(flag));
    server = await startServer(await freePort(), [
      '--config',
      join(dir, 'assay.config.mjs'),
      '--data-dir',
      join(dir, 'data'),
      '--no-worker',
    ]);
    client = new Driver(server);
    ({ context, page } = await openPage(join(dir, 'profile')));
  }, 120_000);

  afterEach((ctx) => screenshotOnFailure(ctx, page));

  afterAll(async () => {
    await context?.close();
    await killAllChildren();
    removeTempDirs();
  });

  it('serves the UI at / with SPA fallback, and a missing page shows the API error, not a blank page', async () => {
    const index = await fetch(`${server.base}/datasets/whatever`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const asset = (await index.text()).match(/\/assets\/[^"]+\.js/)![0];
    const a = await fetch(server.base + asset);
    expect(a.headers.get('content-type')).toContain('text/javascript');
    expect(a.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.base}/assets/missing.js`)).status).toBe(404);
    const apiMiss = await fetch(`${server.base}/api/nope`);
    expect(apiMiss.status).toBe(404);
    expect(((await apiMiss.json()) as any).error.code).toBe('NOT_FOUND');

    await page.goto(`${server.base}/datasets/ds_does_not_exist`);
    await expectText("Dataset 'ds_does_not_exist' not found");
    await page.goto(`${server.base}/`);
    await expectText('No datasets yet');
  });

  it('creates a dataset and imports a CSV (preview, mapping, validation report, batch insert)', async () => {
    await page.getByRole('button', { name: 'New dataset' }).click();
    const dialog = page.getByRole('dialog', { name: 'New dataset' });
    await dialog.getByLabel('Name').fill('capitals-e2e');
    await dialog.getByLabel('Description').fill('made by the UI test');
    await dialog.getByRole('button', { name: 'Create dataset' }).click();
    await page.waitForURL(/\/datasets\/ds_/);
    datasetId = page.url().split('/datasets/')[1]!.split(/[?#]/)[0]!;
    await expectText('No items yet');

    await page.getByRole('button', { name: 'Import CSV / JSONL' }).click();
    const imp = page.getByRole('dialog', { name: 'Import items' });
    await imp
      .locator('input[type=file]')
      .setInputFiles({ name: 'items.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await imp.getByLabel('Map column question').waitFor();
    // The guesses: question → input, expected → groundTruth, topic → metadata.
    expect(await imp.getByLabel('Map column question').inputValue()).toBe('input');
    expect(await imp.getByLabel('Map column expected').inputValue()).toBe('groundTruth');
    await imp.getByLabel('Map column topic').selectOption('metadata');
    await imp.getByRole('button', { name: 'Validate' }).click();
    await imp.getByTestId('valid-count').waitFor();
    expect(await imp.getByTestId('valid-count').textContent()).toBe('6');
    expect(await imp.getByTestId('invalid-count').textContent()).toBe('1');
    await imp.getByText('line 5: input: is required').waitFor(); // the CLI's line number and message (core io)
    await shot('import-dialog');
    await imp.getByRole('button', { name: 'Import 6 items' }).click();
    await imp.getByText('dataset is at version 1').waitFor();
    await imp.getByRole('button', { name: 'Close' }).last().click();

    await page.getByRole('tab', { name: 'Items (6)' }).waitFor();
    const rows = page.getByRole('table', { name: 'Items' }).locator('tbody tr');
    expect(await rows.count()).toBe(6);
    await page.getByRole('searchbox', { name: 'Search items' }).fill('q5');
    await rowsOf('Items', 1);
    await page.getByRole('searchbox', { name: 'Search items' }).fill('');
    await rowsOf('Items', 6);
    const items = await client.listItems(datasetId, { perPage: 10 });
    const q1 = items.items.find((i) => i.input === 'q1')!;
    expect(q1.groundTruth).toBe('ans-q1');
    expect(q1.metadata).toEqual({ topic: 'geo' });
    await shot('dataset');
  });

  it('adds, edits and deletes an item, checking JSON and the dataset schema first', async () => {
    const ds = await client.createDataset({
      name: 'with-schema',
      inputSchema: { type: 'object', required: ['question'], properties: { question: { type: 'string' } } },
    });
    await page.goto(`${server.base}/datasets/${ds.id}`);
    await page.getByRole('button', { name: 'Add item' }).click();
    const editor = page.getByRole('dialog', { name: 'Add item' });
    await editor.getByLabel('Input (JSON)').fill('{ "question": ');
    await editor.getByRole('button', { name: 'Save' }).click();
    await editor.getByText(/Input is not valid JSON/).waitFor();
    await editor.getByLabel('Input (JSON)').fill('{ "q": 1 }');
    await editor.getByRole('button', { name: 'Save' }).click();
    await editor
      .getByText(/question/)
      .first()
      .waitFor();
    expect((await client.getDataset(ds.id)).itemCount).toBe(0);
    await editor.getByLabel('Input (JSON)').fill('{ "question": "capital of Peru?" }');
    await editor.getByLabel('Ground truth (JSON, optional)').fill('"Lima"');
    await editor.getByRole('button', { name: 'Save' }).click();
    await editor.waitFor({ state: 'hidden' });
    await page.getByRole('table', { name: 'Items' }).getByText('capital of Peru?').waitFor();

    await page.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit item' });
    await edit.getByLabel('Ground truth (JSON, optional)').fill('"Lima, Peru"');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    await page.getByRole('table', { name: 'Items' }).getByText('Lima, Peru').waitFor();

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No items yet').waitFor();
    const versions = await client.listVersions(ds.id);
    expect(versions.versions.map((v) => [v.added, v.updated, v.deleted])).toEqual([
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ]);
  });

  it('a run shows pending at once, then completed; a failed item opens in the detail drawer', async () => {
    failedRunId = await startRun('flaky');
    // No worker yet: the run page shows the 202 answer's state.
    await page.locator('h1 [data-status="pending"]').waitFor();
    await startWorker();
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('progress-done').getByText('6 / 6').waitFor();
    await expectText('2 failed');
    // Failed items have no score: 4 scored, all of them right.
    await page.getByTestId('scorer-match').getByText('100.0%').waitFor();
    await shot('run');

    await page.getByLabel('Filter results').selectOption('failed');
    await rowsOf('Results', 2);
    await page.getByRole('table', { name: 'Results' }).locator('tbody tr button').first().click();
    const drawer = page.getByRole('dialog');
    await drawer
      .getByTestId('result-error')
      .getByText(/planned failure for q[25]/)
      .waitFor();
    await drawer.getByRole('table', { name: 'Attempts' }).waitFor();
    await shot('run-item-drawer');
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
  });

  it('retries the failed items of a run', async () => {
    rmSync(flag);
    await page.getByRole('button', { name: 'Retry failed' }).click();
    await page
      .locator('h1 [data-status="completed"]')
      .waitFor({ state: 'detached', timeout: 10_000 })
      .catch(() => {});
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    await expectText('0 failed');
    await page.getByLabel('Filter results').selectOption('');
    await rowsOf('Results', 6);
    const attempts = await client.listRunResults(datasetId, failedRunId, { status: 'succeeded' });
    expect(attempts.pagination.total).toBe(6);
    const retried = attempts.results.filter((r: any) => r.attempt > 1 || /[25]$/.test(r.input));
    expect(retried.every((r: any) => r.status === 'succeeded')).toBe(true);
  });

  it('cancels a running run', async () => {
    await startRun('slow');
    await page.locator('h1 [data-status="running"]').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel run' }).click();
    // Cancel asks first (test/ui/run-page.test.ts covers both answers).
    await page
      .getByRole('dialog', { name: 'Cancel this run?' })
      .getByRole('button', { name: 'Yes, cancel run' })
      .click();
    await page.locator('h1 [data-status="cancelled"]').waitFor({ timeout: 30_000 });
  });

  it('falls back to polling every 2 s when the event stream is down', async () => {
    // No worker, so the run waits in `pending`; every event-stream request fails.
    worker!.killGroup('SIGTERM');
    await worker!.exited;
    let streamTries = 0;
    await page.route(/\/events$/, (route) => {
      streamTries++;
      return route.abort('connectionrefused');
    });
    try {
      await startRun('good');
      await page.locator('h1 [data-status="pending"]').waitFor();
      await page.locator('.live-polling').waitFor();
      await startWorker();
      await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
      await page.getByTestId('progress-done').getByText('6 / 6').waitFor();
      expect(streamTries).toBeGreaterThan(0);
      // Usage the target reported, totalled: 6 items × (10 in, 2 out, $0.001).
      await page.getByTestId('run-usage').getByText('60 in / 12 out tokens · $0.00600 ($0.00100 per item)').waitFor();
    } finally {
      await page.unroute(/\/events$/);
    }
  });

  it('compares two runs: a verdict per scorer with its interval and p-value, a picker of the deciding scorers, then the items that got worse', async () => {
    const good = await startRun('good', ['match', 'quick']);
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    const worse = await startRun('worse', ['match', 'quick']);
    await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
    // Sorting by score is done by the server: worst first, then best first.
    const firstScore = () =>
      page.getByRole('table', { name: 'Results' }).locator('tbody tr').first().locator('td').nth(2);
    await page.getByLabel('Sort results').selectOption('match:asc');
    await page.waitForFunction(
      `document.querySelector('table[aria-label="Results"] tbody tr td:nth-child(3)')?.textContent === '0'`,
    );
    await page.getByLabel('Sort results').selectOption('match:desc');
    await page.waitForFunction(
      `document.querySelector('table[aria-label="Results"] tbody tr td:nth-child(3)')?.textContent === '1'`,
    );
    expect(await firstScore().textContent()).toBe('1');
    const stats = await client.scoreStats(datasetId, worse, { bins: 2 });
    expect(stats.scorers[0]).toEqual({
      scorerId: 'match',
      count: 6,
      mean: 0.5,
      passRate: 0.5,
      errors: 0,
      histogram: [3, 3],
      items: 6,
      meanInterval: { ...stats.scorers[0]!.passInterval!, method: 'wilson' },
      passInterval: expect.objectContaining({ lower: expect.any(Number), upper: expect.any(Number) }),
    });

    await page.goto(`${server.base}/datasets/${datasetId}?tab=runs`);
    await page.getByRole('table', { name: 'Runs' }).waitFor();
    await page.getByLabel(`Baseline A: ${good}`).check();
    await page.getByLabel(`Candidate B: ${worse}`).check();
    await shot('runs');
    await page.getByRole('button', { name: 'Compare A → B' }).click();
    await page.waitForURL(/\/compare\?/);
    const table = page.getByRole('table', { name: 'Scorer comparison' });
    // 3 of 6 answers broke: a drop of 0.5, but McNemar on 3 flips has p = 0.25, no significant change.
    await page.getByTestId('compare-verdict').getByText('decided by match', { exact: false }).waitFor();
    const matchRow = table.locator('tbody tr', { hasText: 'match' }).first();
    expect(await matchRow.locator('td').nth(3).textContent()).toBe('-0.5');
    expect(await matchRow.locator('td').nth(4).textContent()).toMatch(/^\[-[\d.]+, [-+]?[\d.]+\]$/);
    expect(await matchRow.locator('td').nth(5).textContent()).toBe('0.25');
    await matchRow.getByText('no significant change').waitFor();
    await matchRow.getByText('6 paired · 3↓ 0↑').waitFor();
    // The latency scorer is reported beside, unchecked; the changed items list only what changed.
    const quickRow = table.locator('tbody tr', { hasText: 'quick' });
    await quickRow.getByText('(latency)').waitFor();
    expect(await page.getByLabel('Decides: quick').isChecked()).toBe(false);
    expect(await page.getByLabel('Decides: match').isChecked()).toBe(true);
    await page.getByTestId('compare-counts').getByText('3 regressed').waitFor();
    const changes = page.locator('article.change-regression');
    expect(await changes.count()).toBe(3);
    await changes.first().getByText('"wrong"').or(changes.first().getByText('wrong')).first().waitFor();
    expect(await changes.first().locator('header').textContent()).not.toContain('quick');
    await shot('compare');
    // A looser alpha makes the drop a regression; choosing the latency scorer too makes it decide.
    await page.getByLabel('Alpha').fill('0.3');
    await page.getByRole('button', { name: 'Apply' }).click();
    await matchRow.getByText('regressed').waitFor();
    await page.getByLabel('Decides: quick').check();
    await page.waitForURL(/decide=match%2Cquick/);
    await page.getByTestId('compare-verdict').getByText('decided by match, quick', { exact: false }).waitFor();

    // The same through the API, with a threshold that forgives any drop.
    const lenient = await client.compare(datasetId, {
      runIdA: good,
      runIdB: worse,
      thresholds: { match: 1 },
    });
    expect(client.lastStatus).toBe(200);
    expect(lenient.scorers[0].verdict).toBe('no significant change');
    expect(lenient.counts.regressed).toBe(0);
    // Without runIdB: a request the SDK's types would not let through.
    const bad = await rawApi(server.base, 'POST', `/datasets/${datasetId}/compare`, { runIdA: good });
    expect(bad.status).toBe(400);

    await page.goto(`${server.base}/`);
    await page.getByRole('table', { name: 'Datasets' }).getByText('capitals-e2e').waitFor();
    await shot('datasets');
  });

  it('charts each scorer over time on the runs tab: a dot and a 95% interval per completed run, coloured by its verdict against the baseline', async () => {
    const runs = (await client.listRuns(datasetId, { perPage: 100 })).runs
      .filter((r) => r.status === 'completed')
      .sort((x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!));
    expect(runs.length).toBeGreaterThanOrEqual(4);
    const [first, ...later] = runs;
    // The verdicts the chart must show: the many-run compare against the earliest run, through the SDK.
    const many = await client.compareMany(datasetId, {
      baselineRunId: first!.id,
      runIds: later.map((r) => r.id),
      limit: 0,
    });
    expect(many.comparisons.map((c) => c.run.id)).toEqual(later.map((r) => r.id));
    const tooMany = await rawApi(server.base, 'POST', `/datasets/${datasetId}/compare/many`, {
      baselineRunId: first!.id,
      runIds: Array.from({ length: 11 }, (_, i) => `run_${i}`),
    });
    expect(tooMany.status).toBe(400);

    await page.goto(`${server.base}/datasets/${datasetId}?tab=runs`);
    const dots = (scorer: string) => `[data-testid="runs-chart-${scorer}"] svg g[aria-description="runs"] circle`;
    const standings = (scorer: string) =>
      page.$$eval(dots(scorer), (cs) =>
        cs.map((c) => [c.getAttribute('data-run-id'), c.getAttribute('data-standing')]),
      );
    for (const scorer of ['match', 'quick']) {
      const shown = runs.filter((r) => r.scorerIds.includes(scorer));
      await page.locator(`[data-testid="runs-chart-${scorer}"] svg[aria-label="${scorer} over time"]`).waitFor();
      // One dot per run with the scorer, each with its interval rule, once every comparison is in.
      await page.waitForFunction(
        `[...document.querySelectorAll(${JSON.stringify(dots(scorer))})].filter((c) => c.dataset.standing !== 'pending').length === ${shown.length}`,
      );
      expect(await page.locator(dots(scorer)).count()).toBe(shown.length);
      expect(
        await page.locator(`[data-testid="runs-chart-${scorer}"] svg g[aria-description="intervals"] line`).count(),
      ).toBe(shown.length);
      const expected = shown.map((r) => [
        r.id,
        r.id === first!.id
          ? 'baseline'
          : many.comparisons.find((c) => c.run.id === r.id)!.scorers.find((s) => s.scorerId === scorer)!.verdict,
      ]);
      expect((await standings(scorer)).sort()).toEqual(expected.sort());
    }
    // x is the run's time: the dots stand in the order the runs started.
    const xs = await page.$$eval(dots('match'), (cs) =>
      cs.map((c) => [c.getAttribute('data-run-id'), Number(c.getAttribute('cx'))] as const),
    );
    expect([...xs].sort((p, q) => p[1] - q[1]).map(([id]) => id)).toEqual(runs.map((r) => r.id));
    await shot('dataset-runs');

    // Another baseline: the chart compares every other run with it.
    const last = runs[runs.length - 1]!;
    await page.getByLabel('Chart baseline').selectOption(last.id);
    await page.locator(`${dots('match')}[data-run-id="${last.id}"][data-standing="baseline"]`).waitFor();
    expect((await standings('match')).filter(([, s]) => s === 'baseline')).toEqual([[last.id, 'baseline']]);
    // A click on a dot opens its run.
    await page.locator(`${dots('match')}[data-run-id="${first!.id}"]`).click();
    await page.waitForURL(new RegExp(`/runs/${first!.id}$`));
  });

  it("sets the dataset's default scorers; the run dialog starts with them checked and sends the pass threshold", async () => {
    try {
      await page.goto(`${server.base}/datasets/${datasetId}`);
      await page.getByTestId('default-scorers').getByText('default scorers: none').waitFor();
      await page.getByRole('button', { name: 'Default scorers…' }).click();
      const picker = page.getByRole('dialog', { name: 'Default scorers' });
      await picker.getByRole('checkbox', { name: /^match —/ }).check();
      await picker.getByRole('button', { name: 'Save' }).click();
      await picker.waitFor({ state: 'hidden' });
      await page.getByTestId('default-scorers').getByText('default scorers: match').waitFor();
      expect((await client.getDataset(datasetId)).scorerIds).toEqual(['match']);
      await page.getByRole('button', { name: 'New run' }).click();
      const dialog = page.getByRole('dialog', { name: 'New run' });
      await dialog.getByLabel('Target').selectOption('worse');
      expect(await dialog.getByRole('checkbox', { name: /^match —/ }).isChecked()).toBe(true);
      await dialog.getByLabel('Pass threshold').fill('0.9');
      await dialog.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/runs\/run_/);
      const runId = page.url().split('/runs/')[1]!;
      await page.locator('h1 [data-status="completed"]').waitFor({ timeout: 30_000 });
      await page.getByTestId('scorer-match').getByText('pass rate (≥ 0.9)').waitFor();
      const run = await client.getRun(datasetId, runId);
      expect(run.scorerIds).toEqual(['match']);
      expect(run.summary?.passThreshold).toBe(0.9);
    } finally {
      await client.updateDataset(datasetId, { scorerIds: null });
    }
  });
});
