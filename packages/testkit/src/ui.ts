/**
 * What every UI test in headless Chromium shares: the Chromium check (a missing browser fails
 * under CI and skips locally), a current build of the web UI (the server serves packages/ui/dist),
 * a 1280×720 page in a fresh profile, and a picture of the page when a test fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM, headlessChromium } from './browser.js';
import { REPO_ROOT } from './process.js';

export const SCREENSHOTS = join(REPO_ROOT, 'docs/screenshots');
const UI_DIST = join(REPO_ROOT, 'packages/ui/dist/index.html');

/** True when Chromium is there; without it, an error under CI, else a warning (the suite skips). */
export function chromiumOrSkip(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI || process.env.ASSAY_REQUIRE_SERVICES === '1')
    throw new Error(`${CHROMIUM} is missing: the UI tests need Debian's chromium (apt-get install -y chromium)`);
  console.warn(`[ui test] skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return false;
}

/** Builds the web UI when its build is missing or older than a source file. */
export function ensureUiBuilt(): void {
  const src = join(REPO_ROOT, 'packages/ui/app');
  const files = readdirSync(src, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const newest = Math.max(...files.map((f) => statSync(join(f.parentPath, f.name)).mtimeMs));
  if (!existsSync(UI_DIST) || newest > statSync(UI_DIST).mtimeMs)
    execFileSync('npm', ['run', 'build', '-w', '@assay/ui'], { cwd: REPO_ROOT, stdio: 'ignore' });
}

/** A 1280×720 page of a headless Chromium with its profile in `profileDir`. */
export async function openPage(profileDir: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    ...headlessChromium,
    viewport: { width: 1280, height: 720 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** For `afterEach`: a failed test leaves a picture of the page in the temp folder, and says where. */
export async function screenshotOnFailure(
  ctx: { task: { name: string; result?: { state?: string } } },
  page: Page | undefined,
): Promise<void> {
  if (ctx.task.result?.state !== 'fail' || !page) return;
  const file = join(tmpdir(), `assay-ui-failure-${ctx.task.name.replace(/\W+/g, '-').slice(0, 40)}.png`);
  await page.screenshot({ path: file }).catch(() => {});
  console.error(`[ui test] screenshot of the failing page: ${file}`);
}
