/**
 * Time to first render of the run page of a 100,000-result run, in headless Chromium against a
 * real `assay serve` child process: from navigation start until the results table shows its first
 * page and the scorer card shows the run's mean. Prints each sample and the median.
 *
 *   node --import tsx packages/ui/bench/first-render.ts [items=100000] [samples=7]
 */
import { startBenchServer } from './serve.js';

const ITEMS = Number(process.argv[2] ?? 100_000);
const SAMPLES = Number(process.argv[3] ?? 7);

const bench = await startBenchServer(
  'assay-ui-bench-',
  `export default { targets: [{ id: 'echo', type: 'function', run: async (q) => q }],
  scorers: [{ id: 'half', score: ({ input }) => ({ score: (input.n % 10) / 9, reason: 'n mod 10' }) }] };`,
);
const { base } = bench;
const call = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${base}/api${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as any;
};
try {
  const ds = await call('POST', '/datasets', { name: 'bench-100k' });
  for (let i = 0; i < ITEMS; i += 10_000) {
    const n = Math.min(10_000, ITEMS - i);
    await call('POST', `/datasets/${ds.id}/items/batch`, {
      items: Array.from({ length: n }, (_, k) => ({ input: { n: i + k, text: `item ${i + k}` }, groundTruth: i + k })),
    });
  }
  /** Starts a run of the dataset (echo, scored by `half`) and polls it until it is final. */
  const runToEnd = async () => {
    const started = await call('POST', `/datasets/${ds.id}/runs`, {
      targetId: 'echo',
      scorerIds: ['half'],
      maxConcurrency: 100,
    });
    for (;;) {
      const r = await call('GET', `/datasets/${ds.id}/runs/${started.runId}`);
      if (['completed', 'failed', 'cancelled'].includes(r.status)) return { runId: started.runId as string, run: r };
      await new Promise((res) => setTimeout(res, 500));
    }
  };
  const t0 = Date.now();
  const run = await runToEnd();
  console.log(`run of ${run.run.totalItems} items ${run.run.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const context = await bench.browser();
  const url = `${base}/datasets/${ds.id}/runs/${run.runId}`;
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES + 1; i++) {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit' });
    // In the page: ms from navigation start until the first result row and the scorer mean are shown.
    // (a string, not a function: tsx would add helpers the page does not have)
    const ms = (await page.evaluate(`new Promise((ok) => {
      const done = () =>
        document.querySelector('table[aria-label="Results"] tbody tr') &&
        /\\d/.test(document.querySelector('[data-testid="scorer-half"] .big')?.textContent ?? '');
      if (done()) return ok(performance.now());
      const obs = new MutationObserver(() => {
        if (done()) {
          obs.disconnect();
          ok(performance.now());
        }
      });
      obs.observe(document, { childList: true, subtree: true, characterData: true });
    })`)) as number;
    await page.close();
    if (i > 0) samples.push(ms); // the first load warms the server's page cache and the HTTP cache
    console.log(`${i === 0 ? 'warm-up' : `sample ${i}`}: ${ms.toFixed(0)} ms`);
  }
  samples.sort((a, b) => a - b);
  console.log(
    `median time to first render (run page, ${ITEMS} results): ${samples[Math.floor(samples.length / 2)]!.toFixed(0)} ms over ${samples.length} samples (min ${samples[0]!.toFixed(0)}, max ${samples[samples.length - 1]!.toFixed(0)})`,
  );
  await context.close();

  // The API calls behind the page, timed alone (median of 5 each).
  const timed = async (label: string, method: string, path: string, body?: unknown) => {
    const ts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await call(method, path, body);
      ts.push(performance.now() - t);
    }
    ts.sort((a, b) => a - b);
    console.log(`${label}: ${ts[2]!.toFixed(0)} ms`);
  };
  const runPath = `/datasets/${ds.id}/runs/${run.runId}`;
  await timed('GET results page 0 (50 rows)', 'GET', `${runPath}/results?perPage=50`);
  await timed('GET results page 1000 (50 rows)', 'GET', `${runPath}/results?perPage=50&page=1000`);
  await timed('GET results sorted by score', 'GET', `${runPath}/results?perPage=50&sortScorer=half&order=asc`);
  await timed('GET scores (stats + histogram)', 'GET', `${runPath}/scores`);
  const second = await runToEnd();
  await timed(`POST compare (${ITEMS} vs ${ITEMS} results)`, 'POST', `/datasets/${ds.id}/compare`, {
    runIdA: run.runId,
    runIdB: second.runId,
  });
} finally {
  await bench.stop();
}
