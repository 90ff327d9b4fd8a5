/** T1 targets and scorers (issue 5). */
import { spawn } from 'node:child_process';
import type { AssayConfig } from '@assay/core';
import { createAssay } from '@assay/runtime';
import { answer, type Metrics, maxRssMB, type Question, type RowOf, seed, timedRun } from '../harness/lib.js';

/** The answering service of T1: POST a question's input as JSON → `{ "answer": "2n" }`, at once. */
const ANSWER_SERVER = `
  const http = require('node:http');
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const n = JSON.parse(body).n;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: String(2 * n), usage: { in: 12, out: 3 } }));
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/**
 * T1 targets and scorers (issue 5): 5,000 items, maxConcurrency 50, three runs on one dataset —
 * the instant code target with exact-match (the baseline), the same answers from an `http` target
 * (a node:http server in its own process, JSON Pointer output and usage), and the code target
 * with seven cheap built-in scorers. The ratios say what an HTTP hop and a scorer mix cost.
 */
export async function t1(dataDir: string): Promise<Metrics> {
  const N = 5_000;
  const server = spawn(process.execPath, ['-e', ANSWER_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((ok, fail) => {
      server.stdout.once('data', (d) => ok(Number(String(d).trim())));
      server.once('exit', (code) => fail(new Error(`answer server exited ${code}`)));
    });
    const config: AssayConfig = {
      targets: [
        { id: 'instant', type: 'function', run: (input: Question) => answer(input) },
        {
          id: 'http',
          type: 'http',
          url: `http://127.0.0.1:${port}/answer`,
          output: '/answer',
          usage: { inputTokens: '/usage/in', outputTokens: '/usage/out' },
        },
      ],
      scorers: [{ id: 'close', use: 'levenshtein', options: { ignoreCase: true } }],
    };
    const scorers = ['exact-match', 'contains', 'contains-all', 'regex', 'numeric-close', 'json-valid', 'close'];
    const assay = await createAssay({ config, dataDir, worker: true });
    const datasetId = await seed(assay, 't1', N);
    const base = await timedRun(assay, datasetId, 'instant', N);
    const http = await timedRun(assay, datasetId, 'http', N);
    const mix = await timedRun(assay, datasetId, 'instant', N, scorers);
    if (http.run.summary?.usage?.inputTokens !== 12 * N) throw new Error('http usage was not recorded');
    await assay.close();
    return {
      items: N,
      functionItemsPerSec: N / base.seconds,
      httpItemsPerSec: N / http.seconds,
      httpRatio: base.seconds / http.seconds,
      sevenScorersItemsPerSec: N / mix.seconds,
      scorersRatio: base.seconds / mix.seconds,
      peakRssMB: maxRssMB(),
    };
  } finally {
    server.kill('SIGKILL');
  }
}

export const T1_ROWS = (row: RowOf) => [
  row('code target + exact-match: items/s (trigger → completed)', 'functionItemsPerSec', 0),
  row('http target (own process) + exact-match: items/s', 'httpItemsPerSec', 0),
  row('  http / code throughput', 'httpRatio', 2),
  row('code target + 7 built-in scorers: items/s', 'sevenScorersItemsPerSec', 0),
  row('  7 scorers / 1 scorer throughput', 'scorersRatio', 2),
  row('peak RSS, kernel maxRSS (MB)', 'peakRssMB', 0),
];
