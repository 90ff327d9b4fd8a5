/**
 * The demo's comparison as a new user sees it after `npm start`: the compare page of the two demo
 * runs (capital-agent vs capital-agent-v2) in headless Chromium against a real `assay serve` of
 * examples/assay.config.mjs seeded with examples/demo-dataset.json. The two answers v2 broke come
 * first, `fast` (a latency scorer) is reported beside the verdict, each scorer shows its interval,
 * and deciding on exact-match alone makes the twelve fixed answers a significant improvement.
 * Writes docs/screenshots/compare-demo.png.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHROMIUM,
  Driver,
  freePort,
  headlessChromium,
  killAllChildren,
  REPO_ROOT,
  removeTempDirs,
  type Server,
  startServer,
  tempDir,
} from '@assay/testkit';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const UI_DIST = join(REPO_ROOT, 'packages/ui/dist/index.html');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && (process.env.CI || process.env.ASSAY_REQUIRE_SERVICES === '1')) {
  throw new Error(`${CHROMIUM} is missing: the UI tests need Debian's chromium (apt-get install -y chromium)`);
}

function newestSource(): number {
  const src = join(REPO_ROOT, 'packages/ui/app');
  const files = readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return Math.max(...files.map((f) => statSync(join(f.parentPath, f.name)).mtimeMs));
}

let server: Server;
let context: BrowserContext;
let page: Page;

describe.skipIf(!haveChromium)('the demo compare in headless Chromium', () => {
  beforeAll(async () => {
    if (!existsSync(UI_DIST) || newestSource() > statSync(UI_DIST).mtimeMs) {
      execFileSync('npm', ['run', 'build', '-w', '@assay/ui'], { cwd: REPO_ROOT, stdio: 'ignore' });
    }
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
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      ...headlessChromium,
      viewport: { width: 1280, height: 720 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
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
    await page.screenshot({ path: join(REPO_ROOT, 'docs/screenshots/compare-demo.png'), fullPage: false });

    // Deciding on exact-match alone: 12 fixed, 2 broken of 64 is a significant improvement.
    for (const id of ['similar', 'short-answer', 'no-refusal']) {
      const box = page.getByLabel(`Decides: ${id}`);
      if (await box.isChecked()) await box.uncheck();
    }
    await verdict.getByText('improved', { exact: false }).waitFor();
    mkdirSync(join(REPO_ROOT, 'docs/screenshots'), { recursive: true });
  }, 90_000);
});
