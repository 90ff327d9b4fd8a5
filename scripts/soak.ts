/**
 * Crash soak: a run of a real `assay serve` child survives `kill -9` at random moments.
 *
 *   npm run soak                              20 trials
 *   npm run soak -- --trials 50 --seed 7      more trials, reproducible choices
 *   npm run soak -- --items 500 --repetitions 2 --sleep-ms 3 --concurrency 8 --lease-ms 2000
 *
 * Each trial: a fresh data dir; `assay serve --lease-ms 2000` with a target that sleeps a few ms;
 * a dataset of `items` items; a run with `repetitions`; the server's process group is killed
 * with SIGKILL at a random moment (right after the trigger, i.e. while the run is pending or being
 * planned, or at a random share of the run done, up to near its end), restarted at once, and in
 * about half of the trials killed and restarted again. When the run has finished, the server is
 * stopped with SIGTERM and the SQLite file is checked directly: run `completed`, exactly one
 * run-item row and one score per item × repetition (none missing, none duplicated, all
 * succeeded with the right output), the run row's counts and summary equal the rows, and
 * `PRAGMA integrity_check` = ok.
 *
 * Recovery time of a kill: from the SIGKILL to the first result stored by the restarted process
 * (the earliest `completed_at` after the kill), which includes starting the new process. Prints a
 * line per trial and a summary; exits 1 if any trial failed (its data dir is kept for a look).
 *
 * The trial code is exported for test/e2e/soak.test.ts, which runs 3 trials in CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDb } from '@assay/testkit/db';
import { Driver, doneCount, isFinal } from '@assay/testkit/driver';
import { SLEEP_SOURCE, writeFile } from '@assay/testkit/files';
import { freePort, killAllChildren, type Server, sleep, startServer, waitExit, waitFor } from '@assay/testkit/process';

export interface SoakOptions {
  trials: number;
  items: number;
  repetitions: number;
  /** Base sleep of the target per call; each call sleeps sleepMs ± 50 %. */
  sleepMs: number;
  concurrency: number;
  leaseMs: number;
  seed: number;
  /** Keep the data dir of a failed trial (its path is in the result). */
  keepFailed: boolean;
}

export const DEFAULT_SOAK: SoakOptions = {
  trials: 20,
  items: 300,
  repetitions: 3,
  sleepMs: 4,
  concurrency: 4,
  leaseMs: 2000,
  seed: Date.now() % 1_000_000,
  keepFailed: true,
};

export interface KillRecord {
  /** Where the kill was aimed: `trigger` (right after the trigger answered) or a share of the run done. */
  aim: string;
  /** What the database said right after the kill. */
  runStatus: string;
  planned: boolean;
  doneAtKill: number;
  /** SIGKILL → first result stored by a later process (null: nothing was left to run). */
  recoveryMs: number | null;
  /** Process start after the kill → that first result. */
  startToResultMs: number | null;
  /** Process start after the kill → `GET /api/health` answers. */
  startToHealthyMs: number;
}

export interface TrialResult {
  trial: number;
  ok: boolean;
  error?: string;
  dataDir?: string;
  runId?: string;
  expected: number;
  kills: KillRecord[];
  /** Trigger → run `completed`, in ms (includes the restarts). */
  wallMs: number;
}

/** mulberry32: a small seeded PRNG, so the random choices of a run can be replayed with --seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function soakConfig(dir: string, sleepMs: number): string {
  return writeFile(
    dir,
    'assay.config.mjs',
    `
${SLEEP_SOURCE}export default {
  targets: [
    {
      id: 'echo',
      type: 'function',
      run: async (input, ctx) => {
        await sleep(${sleepMs} * (0.5 + Math.random()), ctx.signal);
        return input.answer;
      },
    },
  ],
  scorers: [
    { id: 'exact', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) },
  ],
};
`,
  );
}

const isoMs = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);

/** Everything the database file says about a finished run; throws on the first thing that is wrong. */
export function checkRunInDatabase(dataDir: string, datasetId: string, runId: string, repetitions: number): number {
  return withDb(dataDir, (db) => {
    const fail = (what: string) => {
      throw new Error(`database check: ${what}`);
    };
    const one = (q: string, ...args: unknown[]) =>
      db
        .prepare(q)
        .pluck()
        .get(...args) as any;
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') fail(`integrity_check = ${integrity}`);

    const items = Number(
      one('SELECT count(*) FROM dataset_items WHERE dataset_id = ? AND valid_to IS NULL', datasetId),
    );
    const expected = items * repetitions;
    const run = db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as any;
    if (!run) fail(`run ${runId} is missing`);
    if (run.status !== 'completed') fail(`run status ${run.status} (error ${run.error ?? 'none'})`);

    const rows = Number(one('SELECT count(*) FROM run_items WHERE run_id = ?', runId));
    const distinct = Number(
      one('SELECT count(*) FROM (SELECT DISTINCT item_id, repetition FROM run_items WHERE run_id = ?)', runId),
    );
    if (rows !== expected) fail(`${rows} run_items rows, expected ${items} items × ${repetitions} = ${expected}`);
    if (distinct !== rows) fail(`${rows} run_items rows but only ${distinct} distinct (item, repetition)`);
    const byStatus = db
      .prepare('SELECT status, count(*) AS n FROM run_items WHERE run_id = ? GROUP BY status')
      .all(runId) as { status: string; n: number }[];
    const succeeded = Number(byStatus.find((s) => s.status === 'succeeded')?.n ?? 0);
    if (succeeded !== expected) fail(`run_items by status ${JSON.stringify(byStatus)}, expected all succeeded`);

    // Every current dataset item has exactly one row per repetition 0..N-1, and nothing else has a row.
    const wrongItems = Number(
      one(
        `SELECT count(*) FROM dataset_items di WHERE di.dataset_id = ? AND di.valid_to IS NULL AND
           (SELECT count(DISTINCT ri.repetition) FROM run_items ri
             WHERE ri.run_id = ? AND ri.item_id = di.id AND ri.repetition BETWEEN 0 AND ?) != ?`,
        datasetId,
        runId,
        repetitions - 1,
        repetitions,
      ),
    );
    if (wrongItems) fail(`${wrongItems} items without exactly one row per repetition`);
    const strangers = Number(
      one(
        `SELECT count(*) FROM run_items ri WHERE ri.run_id = ? AND NOT EXISTS
           (SELECT 1 FROM dataset_items di WHERE di.dataset_id = ? AND di.valid_to IS NULL AND di.id = ri.item_id)`,
        runId,
        datasetId,
      ),
    );
    if (strangers) fail(`${strangers} run_items rows of items not in the dataset`);
    // The stored output is the target's answer for that item (a result of another item would not match).
    const wrongOutput = Number(
      one(
        `SELECT count(*) FROM run_items ri JOIN dataset_items di ON di.row_id = ri.item_row_id
           WHERE ri.run_id = ? AND (ri.output IS NULL OR json_extract(ri.output, '$') IS NOT json_extract(di.input, '$.answer'))`,
        runId,
      ),
    );
    if (wrongOutput) fail(`${wrongOutput} results whose output is not their item's answer`);
    const stillLeased = Number(
      one(
        'SELECT count(*) FROM run_items WHERE run_id = ? AND (lease_until IS NOT NULL OR completed_at IS NULL)',
        runId,
      ),
    );
    if (stillLeased) fail(`${stillLeased} finished rows still carry a lease or no completed_at`);

    const scores = Number(one(`SELECT count(*) FROM scores WHERE run_id = ? AND scorer_id = 'exact'`, runId));
    const perfect = Number(one(`SELECT count(*) FROM scores WHERE run_id = ? AND score = 1`, runId));
    const allScores = Number(one('SELECT count(*) FROM scores WHERE run_id = ?', runId));
    if (scores !== expected || perfect !== expected || allScores !== expected)
      fail(`scores: ${allScores} rows, ${scores} of 'exact', ${perfect} equal to 1; expected ${expected}`);
    const orphanScores = Number(
      one(
        `SELECT count(*) FROM scores s WHERE s.run_id = ? AND NOT EXISTS (SELECT 1 FROM run_items ri
           WHERE ri.run_id = s.run_id AND ri.item_id = s.item_id AND ri.repetition = s.repetition)`,
        runId,
      ),
    );
    if (orphanScores) fail(`${orphanScores} scores without their run item`);

    // The run row and its summary agree with the rows.
    if (Number(run.total_items) !== expected) fail(`runs.total_items = ${run.total_items}, expected ${expected}`);
    if (Number(run.succeeded_count) !== rows || Number(run.failed_count) !== 0 || Number(run.skipped_count) !== 0)
      fail(`run counts succeeded/failed/skipped = ${run.succeeded_count}/${run.failed_count}/${run.skipped_count}`);
    const summary = run.summary ? JSON.parse(run.summary) : null;
    if (!summary) fail('run has no summary');
    const bad = (['total', 'succeeded'] as const).filter((k) => summary[k] !== rows);
    if (bad.length || (summary.failed ?? 0) !== 0 || (summary.cancelled ?? 0) !== 0 || (summary.skipped ?? 0) !== 0)
      fail(`summary ${JSON.stringify({ ...summary, scorers: undefined })} does not match ${rows} rows`);
    const scorer = summary.scorers?.find((s: any) => s.scorerId === 'exact');
    if (!scorer || scorer.count !== expected || scorer.mean !== 1)
      fail(`summary scorer ${JSON.stringify(scorer)}, expected count ${expected} and mean 1`);
    if (!run.completed_at || isoMs(run.completed_at) < isoMs(run.started_at)) fail('run completed_at missing');
    return expected;
  });
}

/** First stored result (or the run's completion) after `afterMs`, from the database. */
function firstStoredAfter(dataDir: string, runId: string, afterMs: number): number | null {
  return withDb(dataDir, (db) => {
    const after = new Date(afterMs).toISOString();
    const first = db
      .prepare('SELECT min(completed_at) FROM run_items WHERE run_id = ? AND completed_at > ?')
      .pluck()
      .get(runId, after) as string | null;
    const runDone = db.prepare('SELECT completed_at FROM runs WHERE id = ?').pluck().get(runId) as string | null;
    const candidates = [first, runDone && runDone > after ? runDone : null].filter((x): x is string => !!x);
    return candidates.length ? Math.min(...candidates.map(isoMs)) : null;
  });
}

/**
 * One trial. Never throws: what went wrong is in the result. `log` receives progress lines.
 */
export async function runTrial(trial: number, opts: SoakOptions, random: () => number): Promise<TrialResult> {
  const dir = mkdtempSync(join(tmpdir(), 'assay-soak-'));
  const dataDir = join(dir, 'data');
  const expected = opts.items * opts.repetitions;
  const result: TrialResult = { trial, ok: false, expected, kills: [], wallMs: 0 };
  let server: Server | null = null;
  let runId = '';
  try {
    const config = soakConfig(dir, opts.sleepMs);
    const port = await freePort();
    const args = [
      '--config',
      config,
      '--data-dir',
      dataDir,
      '--host',
      '127.0.0.1',
      '--lease-ms',
      String(opts.leaseMs),
      '--shutdown-timeout',
      '5000',
    ];
    const start = () => startServer(port, args, { cwd: dir, ms: 30_000 });
    server = await start();
    const d = new Driver(server); // the same port after each restart
    const items = Array.from({ length: opts.items }, (_, i) => ({
      input: { n: i, answer: `answer ${trial}-${i}` },
      groundTruth: `answer ${trial}-${i}`,
    }));
    const ds = await d.seedDataset(`soak-${trial}`, items);
    const t0 = Date.now();
    const trig = await d.startRun(ds.id, {
      targetId: 'echo',
      scorerIds: ['exact'],
      maxConcurrency: opts.concurrency,
      repetitions: opts.repetitions,
    });
    runId = trig.runId;
    result.runId = runId;

    // One or two kills: the first right after the trigger in 25 % of trials, else at a random share
    // of the run (5–97 % done); a second kill in half of the trials, later in the run.
    const kills = random() < 0.5 ? 2 : 1;
    let floor = 0;
    const pending: { killedAt: number; restartedAt: number; record: KillRecord }[] = [];
    for (let k = 0; k < kills; k++) {
      const atTrigger = k === 0 && random() < 0.25;
      const share = atTrigger ? 0 : floor + (0.97 - floor) * random();
      floor = share;
      const threshold = Math.floor(share * expected);
      if (!atTrigger) {
        await waitFor(
          () => d.getRun(ds.id, runId),
          (r) => doneCount(r) >= threshold || isFinal(r),
          { ms: 60_000, every: 5, what: `run to reach ${threshold} done` },
        );
      }
      await sleep(Math.floor(random() * 15)); // a little jitter, so the kill lands anywhere in a write
      server.killGroup('SIGKILL');
      const killedAt = Date.now();
      const exit = await waitExit(server, 10_000);
      if (exit.signal !== 'SIGKILL') throw new Error(`killed server exited with ${JSON.stringify(exit)}`);
      const seen = withDb(dataDir, (db) => {
        const run = db.prepare('SELECT status, planned_at FROM runs WHERE id = ?').get(runId) as any;
        const done = db
          .prepare(`SELECT count(*) FROM run_items WHERE run_id = ? AND status = 'succeeded'`)
          .pluck()
          .get(runId) as number;
        return { status: String(run?.status), planned: !!run?.planned_at, done: Number(done) };
      });
      const restartedAt = Date.now();
      server = await start();
      const healthyAt = Date.now();
      pending.push({
        killedAt,
        restartedAt,
        record: {
          aim: atTrigger ? 'trigger' : `${Math.round(share * 100)}%`,
          runStatus: seen.status,
          planned: seen.planned,
          doneAtKill: seen.done,
          recoveryMs: null,
          startToResultMs: null,
          startToHealthyMs: healthyAt - restartedAt,
        },
      });
    }

    const run = await waitFor(
      () => d.getRun(ds.id, runId),
      (r) => isFinal(r),
      { ms: 90_000, every: 50, what: `run ${runId} to finish` },
    );
    result.wallMs = Date.now() - t0;
    if (run.status !== 'completed') throw new Error(`run ended ${run.status}: ${run.error ?? 'no error'}`);
    // The results endpoint agrees: one result per item × repetition.
    const page = await d.listRunResults(ds.id, runId, { page: 0, perPage: 1 });
    if (page.pagination?.total !== expected)
      throw new Error(`results endpoint total ${page.pagination?.total}, expected ${expected}`);

    server.killGroup('SIGTERM');
    const exit = await waitExit(server, 20_000);
    if (exit.code !== 0) throw new Error(`SIGTERM exit ${JSON.stringify(exit)}`);
    server = null;

    checkRunInDatabase(dataDir, ds.id, runId, opts.repetitions);
    for (const p of pending) {
      const first = firstStoredAfter(dataDir, runId, p.killedAt);
      p.record.recoveryMs = first === null ? null : first - p.killedAt;
      p.record.startToResultMs = first === null ? null : first - p.restartedAt;
      result.kills.push(p.record);
    }
    result.ok = true;
  } catch (e) {
    result.error = `${e instanceof Error ? e.message : String(e)}${
      server ? `\n--- server output (tail) ---\n${server.output().slice(-2000)}` : ''
    }`;
  } finally {
    if (server?.isRunning()) {
      server.killGroup('SIGKILL');
      await server.exited;
    }
  }
  if (result.ok || !opts.keepFailed) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  else result.dataDir = dataDir;
  return result;
}

const fmtMs = (x: number | null) => (x === null ? 'n/a' : `${x} ms`);

export function describeTrial(r: TrialResult): string {
  const kills = r.kills
    .map(
      (k) =>
        `kill@${k.aim} (${k.runStatus}${k.planned ? '' : ', planning'}, ${k.doneAtKill} done) → first result ${fmtMs(k.recoveryMs)}`,
    )
    .join('; ');
  return r.ok
    ? `trial ${r.trial}: ok, ${r.expected} results, ${(r.wallMs / 1000).toFixed(1)} s; ${kills}`
    : `trial ${r.trial}: FAILED run ${r.runId ?? '?'}${r.dataDir ? ` (data dir kept: ${r.dataDir})` : ''}: ${r.error}`;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function summarize(results: TrialResult[]): string[] {
  const ok = results.filter((r) => r.ok);
  const kills = ok.flatMap((r) => r.kills);
  const rec = kills.map((k) => k.recoveryMs).filter((x): x is number => x !== null);
  const startTo = kills.map((k) => k.startToResultMs).filter((x): x is number => x !== null);
  const sorted = [...rec].sort((a, b) => a - b);
  return [
    `trials: ${results.length}, passed: ${ok.length}, failed: ${results.length - ok.length}`,
    `kills: ${kills.length} (at trigger: ${kills.filter((k) => k.aim === 'trigger').length}, while planning: ${
      kills.filter((k) => !k.planned).length
    }, after the run had finished: ${kills.filter((k) => k.runStatus === 'completed').length})`,
    `recovery, kill -9 → first result stored after restart (ms): median ${median(rec)}, min ${sorted[0] ?? 'n/a'}, max ${
      sorted[sorted.length - 1] ?? 'n/a'
    } over ${rec.length} kills`,
    `  of which process start → first result (ms): median ${median(startTo)}; process start → healthy (ms): median ${median(
      kills.map((k) => k.startToHealthyMs),
    )}`,
    `  all recovery samples (ms): ${rec.join(', ')}`,
  ];
}

/** Runs `opts.trials` trials one after another. */
export async function soak(opts: SoakOptions, log: (line: string) => void = console.log): Promise<TrialResult[]> {
  const random = rng(opts.seed);
  const results: TrialResult[] = [];
  try {
    for (let i = 1; i <= opts.trials; i++) {
      const r = await runTrial(i, opts, random);
      results.push(r);
      log(describeTrial(r));
    }
  } finally {
    await killAllChildren();
  }
  return results;
}

export function parseSoakArgs(argv: string[]): SoakOptions {
  const opts = { ...DEFAULT_SOAK };
  const ints: Record<string, keyof SoakOptions> = {
    '--trials': 'trials',
    '--items': 'items',
    '--repetitions': 'repetitions',
    '--sleep-ms': 'sleepMs',
    '--concurrency': 'concurrency',
    '--lease-ms': 'leaseMs',
    '--seed': 'seed',
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--no-keep') {
      opts.keepFailed = false;
      continue;
    }
    const key = ints[flag];
    if (!key) throw new Error(`unknown argument ${argv[i]}; flags: ${Object.keys(ints).join(' ')} --no-keep`);
    const raw = inline ?? argv[++i];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < (key === 'seed' || key === 'sleepMs' ? 0 : 1))
      throw new Error(`${flag} needs a positive integer, got ${raw}`);
    (opts as any)[key] = n;
  }
  return opts;
}

async function main() {
  const opts = parseSoakArgs(process.argv.slice(2));
  console.log(
    `# soak: ${opts.trials} trials, ${opts.items} items × ${opts.repetitions} repetitions, target ${opts.sleepMs} ms ±50 %, ` +
      `maxConcurrency ${opts.concurrency}, --lease-ms ${opts.leaseMs}, seed ${opts.seed}`,
  );
  const t0 = Date.now();
  const results = await soak(opts);
  for (const line of summarize(results)) console.log(line);
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const stop = () => {
    void killAllChildren().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await main();
}
