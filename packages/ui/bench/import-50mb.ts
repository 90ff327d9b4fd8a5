/**
 * Import of a ~50 MB CSV through the web UI, in headless Chromium against a real `assay serve`:
 * how long preview, validation and the batch insert take, and how long the main thread was ever
 * blocked meanwhile (Long Tasks API: tasks over 50 ms). Parsing runs in a Web Worker, so the page
 * should stay responsive.
 *
 *   node --import tsx packages/ui/bench/import-50mb.ts [megabytes=50]
 */
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchServer } from './serve.js';

const MB = Number(process.argv[2] ?? 50);

const bench = await startBenchServer(
  'assay-ui-import-',
  `export default { targets: [{ id: 'echo', type: 'function', run: async (q) => q }] };`,
);
const { base } = bench;
try {
  const csv = join(bench.dir, 'big.csv');
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
  const ds = (await (
    await fetch(`${base}/api/datasets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'import-bench' }),
    })
  ).json()) as { id: string };
  const context = await bench.browser();
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
  await bench.stop();
}
