/**
 * Import of a ~50 MB CSV through the web UI, in headless Chromium against a real `assay serve`:
 * how long preview, validation and the batch insert take, and how long the main thread was ever
 * blocked meanwhile (Long Tasks API: tasks over 50 ms). Parsing runs in a Web Worker, so the page
 * should stay responsive.
 *
 *   node --import tsx packages/ui/bench/import-50mb.ts [megabytes=50]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MB = Number(process.argv[2] ?? 50);

const port = await new Promise<number>((ok) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => ok(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'assay-ui-import-'));
writeFileSync(
  join(dir, 'assay.config.mjs'),
  `export default { targets: [{ id: 'echo', type: 'function', run: async (q) => q }] };`,
);
const csv = join(dir, 'big.csv');
await new Promise<void>((ok, fail) => {
  const out = createWriteStream(csv);
  out.on('error', fail);
  out.write('question,expected,topic,notes\n');
  const filler = 'x'.repeat(380);
  let i = 0;
  const target = MB * 1024 * 1024;
  let bytes = 0;
  const more = () => {
    while (bytes < target) {
      const line = `"What is item ${i}, a question with a comma?",answer-${i},topic-${i % 17},${filler}\n`;
      bytes += line.length;
      i++;
      if (!out.write(line)) return out.once('drain', more);
    }
    out.end(ok);
  };
  more();
});
const size = statSync(csv).size;
const child = spawn(
  process.execPath,
  [
    join(ROOT, 'packages/cli/bin/assay.js'),
    'serve',
    '--config',
    join(dir, 'assay.config.mjs'),
    '--data-dir',
    join(dir, 'data'),
    '--port',
    String(port),
  ],
  { stdio: 'ignore' },
);
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch (e) {
      if (i > 200) throw e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const ds = (await (
    await fetch(`${base}/api/datasets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'import-bench' }),
    })
  ).json()) as { id: string };
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 720 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(600_000);
  await page.goto(`${base}/datasets/${ds.id}`);
  await page.getByRole('button', { name: 'Import CSV / JSONL' }).click();
  await page.evaluate(`(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
      .observe({ type: 'longtask', buffered: false });
  })()`);
  const dialog = page.getByRole('dialog', { name: 'Import items' });
  let t = Date.now();
  await dialog.locator('input[type=file]').setInputFiles(csv);
  await dialog.getByLabel('Map column question').waitFor();
  const preview = Date.now() - t;
  t = Date.now();
  await dialog.getByRole('button', { name: 'Validate' }).click();
  await dialog.getByTestId('valid-count').waitFor();
  const validate = Date.now() - t;
  const valid = await dialog.getByTestId('valid-count').textContent();
  t = Date.now();
  await dialog.getByRole('button', { name: /^Import [\d,]+ items$/ }).click();
  await dialog.getByText(/dataset is at version \d+/).waitFor();
  const insert = Date.now() - t;
  const long = (await page.evaluate('window.__long')) as number[];
  console.log(`file: ${(size / 1024 / 1024).toFixed(1)} MB, ${valid} valid rows`);
  console.log(`preview ${preview} ms · validate ${validate} ms · insert ${insert} ms`);
  console.log(
    `main-thread long tasks (> 50 ms) during the import: ${long.length}, longest ${long.length ? Math.max(...long).toFixed(0) : 0} ms, total ${long.reduce((a, b) => a + b, 0).toFixed(0)} ms`,
  );
  await context.close();
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
}
