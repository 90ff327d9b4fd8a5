/**
 * The demo's comparison as a new user sees it after `npm start`: the compare page of the two demo
 * runs (capital-agent vs capital-agent-v2) in headless Chromium against a real `assay serve` of
 * examples/assay.config.mjs seeded with examples/demo-dataset.json. The two answers v2 broke come
 * first, `fast` (a latency scorer) is reported beside the verdict, each scorer shows its interval,
 * and deciding on exact-match alone makes the twelve fixed answers a significant improvement.
 * Writes docs/screenshots/compare-demo.png.
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
} from '@assay/testkit';
import { chromiumOrSkip, ensureUiBuilt, openPage, SCREENSHOTS } from '@assay/testkit/ui';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const haveChromium = chromiumOrSkip();

let server: Server;
let context: BrowserContext;
let page: Page;

describe.skipIf(!haveChromium)('the demo compare in headless Chromium', () => {
  beforeAll(async () => {
    ensureUiBuilt();
    const dir = tempDir('assay-ui-demo-');
    server = await startServer(
      await freePort(),
      [
        '--config',
        'examples/assay.config.mjs',
        '--seed',
        'examples/demo-dataset.json',
        '--data-dir',
        join(dir, 'data'),
      ],
      { cwd: REPO_ROOT },
    );
    ({ context, page } = await openPage(join(dir, 'profile')));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await killAllChildren();
    removeTempDirs();
  });

  it('shows the answers v2 broke first, a verdict per scorer with its interval, and the latency scorer beside', async () => {
    const d = new Driver(server);
    const ds = (await d.listDatasets()).datasets[0]!;
    const runs = (await d.listRuns(ds.id)).runs;
    const v1 = await d.waitRunFinal(ds.id, runs.find((r) => r.targetId === 'capital-agent')!.id);
    const v2 = await d.waitRunFinal(ds.id, runs.find((r) => r.targetId === 'capital-agent-v2')!.id);

    await page.goto(`${server.base}/datasets/${ds.id}/compare?a=${v1.id}&b=${v2.id}`);
    const verdict = page.getByTestId('compare-verdict');
    await verdict.waitFor();
    // The first changed items are the two answers v2 got wrong (Bern, Rabat), not latency changes.
    const changes = page.locator('article.change');
    await changes.first().waitFor();
    const first = await changes.evaluateAll((els) =>
      els
        .slice(0, 2)
        .map((e) => ({ regression: e.classList.contains('change-regression'), text: e.textContent ?? '' })),
    );
    expect(first.map((c) => c.regression)).toEqual([true, true]);
    expect(first.map((c) => (/Bern/.test(c.text) ? 'Bern' : /Rabat/.test(c.text) ? 'Rabat' : c.text)).sort()).toEqual([
      'Bern',
      'Rabat',
    ]);
    // Every scorer row carries an interval ("[lower, upper]" or "lower … upper" as the page writes it);
    // `fast` does not decide.
    const scorerRows = page.locator('table').first().locator('tbody tr');
    const rows = await scorerRows.allTextContents();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const fast = rows.find((r) => r.startsWith('fast'));
    expect(fast).toBeDefined();
    expect(await page.getByLabel('Decides: fast').isChecked()).toBe(false);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'compare-demo.png') });

    // Deciding on exact-match alone: 12 fixed, 2 broken of 64 is a significant improvement.
    for (const id of ['similar', 'short-answer', 'no-refusal']) {
      const box = page.getByLabel(`Decides: ${id}`);
      if (await box.isChecked()) await box.uncheck();
    }
    await verdict.getByText('improved', { exact: false }).waitFor();
  }, 90_000);
});
