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
 *   npm run bench -- --only I1,I1M       the item runner alone, no store (bench/workloads/i1.ts): 100,000
 *                                        attempts in worker threads vs on this thread, CPU per thread.
 *   npm run bench -- --only T1           targets and scorers (issue 5): code vs http target, 1 vs 7 scorers
 *   npm run bench -- --only W1,W1C,W2,W2C --quick
 *                                        the output cache (issue 14, bench/workloads/cache.ts): W1 and W2
 *                                        rerun from the cache (a readwrite run fills it, the timed readwrite
 *                                        rerun reads it), with the ratios to the uncached W1 and W2; RS1
 *                                        re-scores a finished 100,000-item run with one scorer.
 *   npm run bench -- --only R1,R2 --quick
 *                                        the reliability workloads (issue 3, bench/workloads/r1.ts, r2.ts): recovery
 *                                        after kill -9 and cancel → cancelled, each a median of 10 samples
 *                                        on real `assay serve` child processes.
 *   npm run bench -- --only H1 --quick   responsiveness (issue 10, bench/workloads/h1.ts): /api/health
 *                                        latency every 50 ms on a real `assay serve` during a 1,000,000-item
 *                                        run, a scorer spinning 60 s and a ReDoS regex item.
 *                                        R1, R2 and H1 take minutes, so they run only when named in --only.
 *
 * Every run of a workload is a fresh child process (bench/harness/child.ts). With several workloads
 * and runs, the runs go round-robin (W1 run 1, W1M run 1, W1 run 2, …). The harness (child
 * processes, measuring, the report) is in bench/harness/, one module per workload in bench/workloads/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { child, runChild } from './harness/child.js';
import { fmt, type Metrics, setProfileFile, TMP } from './harness/lib.js';
import { environment, printRatio, printTable, rowsOf } from './harness/report.js';
import { COMPARISONS, DEFAULT_WORKLOADS, WORKLOADS, type Workload, type WorkloadId } from './workloads/index.js';

const SCRIPT = fileURLToPath(import.meta.url);

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
        `unknown argument ${a}; usage: bench/run.ts [--only W1,W1M,W2,W2M,I1,I1M,W1C,W2C,RS1,W3,T1,R1,R2,H1] [--quick] [--json file] [--profile]`,
      );
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    setProfileFile(opts.profileFile);
    return child(WORKLOADS[opts.child as WorkloadId].run, opts.dataDir);
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
      const workload: Workload = WORKLOADS[id];
      const timeoutMinutes = workload.timeoutMinutes ?? 15;
      const m = { ...(await runChild(SCRIPT, id, i, { profile: opts.profile, timeoutMinutes })), loadBefore: load };
      results[id]!.push(m);
      console.log(
        `  ${id} run ${i} (load avg before ${load.toFixed(2)}): ${Object.entries(m).map(([k, v]) => `${k}=${fmt(v, Number.isInteger(v) ? 0 : 2)}`)}`,
      );
    }
  }

  printTable(
    opts.only.flatMap((id) => rowsOf(id, results[id]!, WORKLOADS[id].rows)),
    iterations,
  );
  for (const c of COMPARISONS) printRatio(c.what, results[c.a], results[c.b], c.key);
  if (opts.json) {
    writeFileSync(resolve(opts.json), `${JSON.stringify({ environment: environment(), results }, null, 2)}\n`);
    console.log(`\nwrote ${resolve(opts.json)}`);
  }
}

await main();
