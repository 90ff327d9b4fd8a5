/**
 * The compare benchmark (issue 13): how long a comparison takes end to end, from the request to
 * the parsed JSON answer, through the app's HTTP handler (`assay.app.request`, in process: the
 * route, core's paired statistics, the store's paged reads, JSON), on a SQLite file.
 *
 * - C1 pair: two completed 100,000-item runs with 2 scorers each (one 0/1, one graded), compared
 *   by `POST /datasets/:id/compare` (goal: under 2 s).
 * - C2 many: 10 runs × 10,000 items against one baseline, by `POST /datasets/:id/compare/many`.
 *
 * The runs are seeded directly through the store (plan, claim, one outcome per item, finalize),
 * not by running a target. Each comparison runs `--runs N` times (default 3); the table shows the
 * median, every run, and the process's peak RSS.
 *
 *   node --conditions=assay-source --import tsx bench/compare.ts [--runs 3] [--items 100000] [--many-items 10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId, RUN_DEFAULTS, type Storage } from '@assay/core';
import type { ManyComparison } from '@assay/core/api';
import { type Assay, createAssay } from '@assay/runtime';
import { fmt, maxRssMB, median } from './harness/lib.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = flag('--runs', 3);
const PAIR_ITEMS = flag('--items', 100_000);
const MANY_ITEMS = flag('--many-items', 10_000);
const CANDIDATES = 10;
const BATCH = 1000;

/** A seeded generator (mulberry32): the same runs on every machine. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function seedDataset(storage: Storage, name: string, n: number) {
  const ds = await storage.createDataset({ name });
  let version = 0;
  for (let start = 0; start < n; start += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, n - start) }, (_, i) => ({
      input: { n: start + i },
      externalId: `q${start + i}`,
    }));
    ({ version } = await storage.addItems(ds.id, batch));
  }
  return { id: ds.id, version };
}

/**
 * A completed run of `exact` (0/1, right with probability `p`) and `graded` (uniform around
 * `level`), one repetition per item, written through the store as a worker writes it.
 */
async function seedRun(storage: Storage, ds: { id: string; version: number }, seed: number, p: number, level: number) {
  const id = newId('run');
  await storage.transaction((tx) =>
    tx.createRun({
      id,
      datasetId: ds.id,
      datasetVersion: ds.version,
      name: `bench ${seed}`,
      targetType: 'function',
      targetId: 'bench',
      scorerIds: ['exact', 'graded'],
      options: { ...RUN_DEFAULTS },
      metadata: null,
      totalItems: 0,
    }),
  );
  let cursor: string | null = '';
  while (cursor !== null) ({ cursor } = await storage.planRunItems(id, cursor, BATCH));
  const rand = random(seed);
  const at = new Date().toISOString();
  for (;;) {
    const claimed = await storage.claimWork(id, 'bench', BATCH, 600_000);
    if (!claimed.length) break;
    await storage.writeOutcomes(
      id,
      claimed.map((c) => ({
        itemId: c.itemId,
        claimToken: c.claimToken,
        workerId: 'bench',
        repetition: c.repetition,
        status: 'succeeded' as const,
        attempt: 1,
        output: { answer: 'x' },
        error: null,
        latencyMs: 1,
        usage: null,
        startedAt: at,
        completedAt: at,
        scores: [
          { scorerId: 'exact', score: rand() < p ? 1 : 0, reason: null, error: null },
          {
            scorerId: 'graded',
            score: Math.min(1, Math.max(0, level + (rand() - 0.5) / 2)),
            reason: null,
            error: null,
          },
        ],
      })),
    );
  }
  const summary = await storage.summarizeRun(id);
  await storage.updateRun(id, { status: 'completed', startedAt: at, completedAt: new Date().toISOString(), summary });
  return id;
}

async function post<T>(assay: Assay, path: string, body: unknown): Promise<T> {
  const res = await assay.app.request(`/api${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** Times `fn` RUNS times (after nothing else: the first run pays for cold pages too). */
async function timed(fn: () => Promise<unknown>) {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'assay-bench-compare-'));
const assay = await createAssay({ config: { targets: [], scorers: [] }, dataDir: dir, worker: false });
const rows: { name: string; what: string; ms: number[]; goal?: number; check: string }[] = [];
try {
  const t0 = performance.now();
  const big = await seedDataset(assay.storage, 'compare-pair', PAIR_ITEMS);
  const a = await seedRun(assay.storage, big, 1, 0.7, 0.6);
  const b = await seedRun(assay.storage, big, 2, 0.72, 0.61);
  const small = await seedDataset(assay.storage, 'compare-many', MANY_ITEMS);
  const baseline = await seedRun(assay.storage, small, 100, 0.7, 0.6);
  const candidates: string[] = [];
  for (let i = 0; i < CANDIDATES; i++)
    candidates.push(await seedRun(assay.storage, small, 101 + i, 0.64 + 0.015 * i, 0.58 + 0.005 * i));
  console.log(
    `seeded ${2 * PAIR_ITEMS + (CANDIDATES + 1) * MANY_ITEMS} results in ${fmt((performance.now() - t0) / 1000, 1)} s`,
  );

  let pair: { verdict: string; scorers: { scorerId: string; ciMethod: string | null; delta: number | null }[] };
  const pairMs = await timed(async () => {
    pair = await post(assay, `/datasets/${big.id}/compare`, { runIdA: a, runIdB: b });
  });
  rows.push({
    name: 'C1 pair',
    what: `2 runs × ${PAIR_ITEMS.toLocaleString()} items, 2 scorers`,
    ms: pairMs,
    goal: 2000,
    check: `${pair!.verdict}; ${pair!.scorers.map((s) => `${s.scorerId} Δ ${fmt(s.delta ?? Number.NaN, 3)} (${s.ciMethod})`).join(', ')}`,
  });

  let many: ManyComparison;
  const manyMs = await timed(async () => {
    many = await post(assay, `/datasets/${small.id}/compare/many`, { baselineRunId: baseline, runIds: candidates });
  });
  const verdicts = new Map<string, number>();
  for (const c of many!.comparisons) verdicts.set(c.verdict, (verdicts.get(c.verdict) ?? 0) + 1);
  rows.push({
    name: 'C2 many',
    what: `${CANDIDATES} runs × ${MANY_ITEMS.toLocaleString()} items vs a baseline, 2 scorers`,
    ms: manyMs,
    check: [...verdicts].map(([v, n]) => `${n} ${v}`).join(', '),
  });
} finally {
  await assay.close(2000);
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\ncompare benchmark (SQLite file, in-process HTTP; median of ${RUNS})\n`);
const table = [
  ['workload', 'what', 'median', 'runs', 'goal', 'answer'],
  ...rows.map((r) => [
    r.name,
    r.what,
    `${fmt(median(r.ms))} ms`,
    r.ms.map((x) => fmt(x)).join(' / '),
    r.goal ? `< ${fmt(r.goal)} ms ${median(r.ms) < r.goal ? 'met' : 'NOT met'}` : '—',
    r.check,
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
console.log(`\npeak RSS ${fmt(maxRssMB())} MB (seeding included)`);
