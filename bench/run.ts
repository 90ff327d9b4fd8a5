/**
 * Assay benchmarks: workloads W1–W3 of ARCHITECTURE.md "Benchmark workloads" and the issue
 * workloads. Results and how to read them: docs/benchmarks.md.
 *
 *   npm run bench                        the default set (W1, W1M, W2, W2M, W3), 3 runs each, medians
 *   npm run bench -- --only W1,W3        a subset
 *   npm run bench -- --quick             1 run each
 *   npm run bench -- --json out.json     also write every run's numbers as JSON
 *   npm run bench -- --profile           also CPU-profile the timed phase of each W1/W2 run (trigger →
 *                                        completed) into bench/.tmp/profiles; summarize them with
 *                                        bench/cpuprofile-top.ts. The profiler slows the run down.
 *   npm run bench -- --only W1,W1M,W2,W2M
 *                                        isolation cost (issue 10): W1 and W2 load their config from a
 *                                        module file with `configPath`, as `assay serve --config` does,
 *                                        so targets run in worker threads; W1M / W2M are the same with
 *                                        the config as objects, on the main thread. The report ends with
 *                                        the threads / main-thread ratios.
 *   npm run bench -- --only T1           targets and scorers (issue 5): code vs http target, 1 vs 7 scorers
 *   npm run bench -- --only R1,R2 --quick
 *                                        the reliability workloads (issue 3, bench/reliability.ts): recovery
 *                                        after kill -9 and cancel → cancelled, each a median of 10 samples
 *                                        on real `assay serve` child processes.
 *   npm run bench -- --only H1 --quick   responsiveness (issue 10, bench/responsive.ts): /api/health
 *                                        latency every 50 ms on a real `assay serve` during a 1,000,000-item
 *                                        run, a scorer spinning 60 s and a ReDoS regex item.
 *                                        R1, R2 and H1 take minutes, so they run only when named in --only.
 *
 * Every run of a workload is a fresh child process started with this process's Node flags (so
 * `node --cpu-prof --import tsx bench/run.ts --only W1 --quick` profiles the W1 child) on a fresh
 * SQLite data dir under bench/.tmp that is deleted afterwards: no run sees another run's heap, JIT
 * state or database, and a child's peak RSS is its own. With several workloads and runs, the runs
 * go round-robin (W1 run 1, W1M run 1, W1 run 2, …).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { fmt, type Metrics, median, percentile, ROOT, type Row, type RowOf, setProfileFile, TMP } from './lib.js';
import { R_SAMPLES, r1, r1Rows, r2, r2Rows } from './reliability.js';
import { H1_TITLE, h1, h1Rows } from './responsive.js';
import { T1_ROWS, t1, W1_ROWS, W2_ROWS, W3_ROWS, w1, w2, w3 } from './workloads.js';

const SCRIPT = fileURLToPath(import.meta.url);
const RESULT_PREFIX = '@@bench-result ';

const WORKLOADS = {
  W1: {
    title: 'overhead: 10,000 items, instant target, exact-match, maxConcurrency 50; targets in worker threads',
    run: (dir: string) => w1(dir, 'threads'),
    rows: W1_ROWS,
  },
  W1M: {
    title: 'W1 with targets on the main thread (no isolation)',
    run: (dir: string) => w1(dir, 'main'),
    rows: W1_ROWS,
  },
  W2: {
    title: 'latency-bound: 2,000 items, 50 ms target, maxConcurrency 50; targets in worker threads',
    run: (dir: string) => w2(dir, 'threads'),
    rows: W2_ROWS,
  },
  W2M: {
    title: 'W2 with targets on the main thread (no isolation)',
    run: (dir: string) => w2(dir, 'main'),
    rows: W2_ROWS,
  },
  W3: {
    title: 'trigger latency over HTTP, 10 vs 100,000 items, worker off',
    run: w3,
    rows: W3_ROWS,
  },
  T1: {
    title: 'targets and scorers: 5,000 items, code vs http target, 1 vs 7 built-in scorers, maxConcurrency 50',
    run: t1,
    rows: T1_ROWS,
  },
  R1: {
    title: `recovery after kill -9 of a real assay serve, default lease and --lease-ms 2000, ${R_SAMPLES} samples each`,
    run: r1,
    rows: r1Rows,
  },
  R2: {
    title: `cancel → cancelled on a real assay serve, 50 ms target, maxConcurrency 50, ${R_SAMPLES} samples`,
    run: r2,
    rows: r2Rows,
  },
  H1: { title: H1_TITLE, run: h1, rows: h1Rows },
} as const;
type WorkloadId = keyof typeof WORKLOADS;
/** What `npm run bench` runs without --only: the R and H workloads take minutes and run only when named. */
const DEFAULT_WORKLOADS: WorkloadId[] = ['W1', 'W1M', 'W2', 'W2M', 'W3'];

/** Isolation cost: a workload in worker threads against the same on the main thread (both run). */
const COMPARISONS = [
  { what: 'W1 items/s, threads / main thread', a: 'W1', b: 'W1M', key: 'itemsPerSec' },
  { what: 'W1 CPU per item, threads / main thread', a: 'W1', b: 'W1M', key: 'cpuUsPerItem' },
  { what: 'W1 main thread busy per item, threads / main thread', a: 'W1', b: 'W1M', key: 'mainBusyUsPerItem' },
  { what: 'W2 efficiency, threads / main thread', a: 'W2', b: 'W2M', key: 'efficiency' },
] as const;

// ── child: one run of one workload ───────────────────────────────────────────────────────────

/**
 * The disk's commit latency right now: 50 one-row transactions on a scratch SQLite file in WAL mode
 * with synchronous=FULL (Assay's default), i.e. one fsync each. Every run reports it, because W1
 * and W3 wait on fsync and a shared machine's disk can be 10x slower from one minute to the next.
 */
function probeCommitMs(dir: string): { p50: number; p90: number } {
  const file = join(dir, 'fsync-probe.db');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('create table t (id integer primary key, v text)');
    const insert = db.prepare('insert into t (v) values (?)');
    const ms: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      insert.run('x'.repeat(200));
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { p50: percentile(ms, 0.5), p90: percentile(ms, 0.9) };
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  }
}

async function child(id: WorkloadId, dataDir: string): Promise<void> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  try {
    const probe = probeCommitMs(dataDir);
    const metrics = { ...(await WORKLOADS[id].run(dataDir)), commitP50Ms: probe.p50, commitP90Ms: probe.p90 };
    await new Promise<void>((r) => process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(metrics)}\n`, () => r()));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ── parent: orchestration and the report ─────────────────────────────────────────────────────

function runChild(id: WorkloadId, iteration: number, profile: boolean): Promise<Metrics> {
  const dataDir = join(TMP, `${id}-${iteration}-${process.pid}`);
  const args = [...process.execArgv, SCRIPT, '--child', id, '--data-dir', dataDir];
  if (profile) args.push('--profile-file', join(TMP, 'profiles', `${id}-run${iteration}.cpuprofile`));
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result: Metrics | null = null;
    let buffered = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line.slice(RESULT_PREFIX.length));
        else console.log(`  [${id}] ${line}`);
        nl = buffered.indexOf('\n');
      }
    });
    const killer = setTimeout(() => proc.kill('SIGKILL'), (id === 'H1' ? 90 : 15) * 60_000);
    proc.on('error', fail);
    proc.on('close', (code, signal) => {
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
      if (code === 0 && result) ok(result);
      else fail(new Error(`${id} run ${iteration} exited with ${signal ?? code} and no result`));
    });
  });
}

/** The report's rows for one workload: median, every run, the target and whether it was met. */
function rowsOf(id: WorkloadId, runs: Metrics[]): Row[] {
  const all = (key: string, digits: number) => runs.map((r) => fmt(r[key], digits)).join(' / ');
  const row: RowOf = (metric, key, digits, target = '', ok) => {
    const m = median(runs.map((r) => r[key]));
    return {
      workload: id,
      metric,
      median: fmt(m, digits),
      runs: all(key, digits),
      target,
      met: ok ? (ok(m) ? 'yes' : '**no**') : '',
    };
  };
  // Context for every workload: how busy the machine and its disk were.
  const context = [
    row('machine: 1-min load average before the run', 'loadBefore', 2),
    row('machine: SQLite FULL commit (fsync) p50 before the run (ms)', 'commitP50Ms', 2),
  ];
  return [...WORKLOADS[id].rows(row), ...context];
}

function environment(): string[] {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    } catch {
      return '?';
    }
  };
  const dirty = git('status', '--porcelain', '--', 'packages');
  return [
    `node ${process.version}, ${availableParallelism()} CPUs, ${fmt(totalmem() / 1024 ** 3, 1)} GiB RAM`,
    `git ${git('rev-parse', '--short', 'HEAD')}${dirty && dirty !== '?' ? ` + uncommitted changes in packages/:\n${dirty.replace(/^/gm, '    ')}` : ''}`,
  ];
}

function parseArgs(argv: string[]) {
  const opts = {
    only: DEFAULT_WORKLOADS,
    quick: false,
    json: '',
    child: '',
    dataDir: '',
    profile: false,
    profileFile: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const list = (a === '--only' ? value() : a.slice('--only='.length)).split(',').map((s) => s.trim().toUpperCase());
      const unknown = list.filter((w) => !(w in WORKLOADS));
      if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; known: ${Object.keys(WORKLOADS)}`);
      opts.only = list as WorkloadId[];
    } else if (a === '--json') opts.json = value();
    else if (a === '--child') opts.child = value();
    else if (a === '--profile') opts.profile = true;
    else if (a === '--profile-file') opts.profileFile = value();
    else if (a === '--data-dir') opts.dataDir = value();
    else
      throw new Error(
        `unknown argument ${a}; usage: bench/run.ts [--only W1,W1M,W2,W2M,W3,T1,R1,R2,H1] [--quick] [--json file] [--profile]`,
      );
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    setProfileFile(opts.profileFile);
    return child(opts.child as WorkloadId, opts.dataDir);
  }

  const iterations = opts.quick ? 1 : 3;
  console.log(`# Assay benchmarks (${iterations} run${iterations > 1 ? 's' : ''} per workload, medians)`);
  for (const line of environment()) console.log(line);
  mkdirSync(TMP, { recursive: true });
  const results: Partial<Record<WorkloadId, Metrics[]>> = Object.fromEntries(opts.only.map((id) => [id, []]));
  // Round-robin (W1 run 1, W1M run 1, W1 run 2, …): a noisy minute hits the workloads compared alike.
  for (let i = 1; i <= iterations; i++) {
    for (const id of opts.only) {
      if (i === 1) console.log(`\n${id} ${WORKLOADS[id].title}`);
      const load = loadavg()[0];
      const m = { ...(await runChild(id, i, opts.profile)), loadBefore: load };
      results[id]!.push(m);
      console.log(
        `  ${id} run ${i} (load avg before ${load.toFixed(2)}): ${Object.entries(m).map(([k, v]) => `${k}=${fmt(v, Number.isInteger(v) ? 0 : 2)}`)}`,
      );
    }
  }

  const rows = opts.only.flatMap((id) => rowsOf(id, results[id]!));
  const header = ['workload', 'metric', 'median', `runs (${iterations})`, 'target', 'met'];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${[r.workload, r.metric, r.median, r.runs, r.target, r.met].join(' | ')} |`);
  for (const c of COMPARISONS) {
    const [a, b] = [results[c.a], results[c.b]];
    if (!a || !b) continue;
    const per = a.map((r, i) => fmt(r[c.key] / b[i][c.key], 2)).join(' / ');
    const ratio = median(a.map((r) => r[c.key])) / median(b.map((r) => r[c.key]));
    console.log(`${c.what}: ${fmt(ratio, 2)} (ratio of medians; per run pair ${per})`);
  }
  if (opts.json) {
    writeFileSync(resolve(opts.json), `${JSON.stringify({ environment: environment(), results }, null, 2)}\n`);
    console.log(`\nwrote ${resolve(opts.json)}`);
  }
}

await main();
