/**
 * One run of one workload in a child process of its own: started with the parent's Node flags (so
 * `node --cpu-prof --import tsx bench/run.ts --only W1 --quick` profiles the W1 child) on a fresh
 * SQLite data dir under bench/.tmp that is deleted afterwards, so no run sees another run's heap,
 * JIT state or database, and a child's peak RSS is its own. The child prints its metrics on one
 * line behind {@link RESULT_PREFIX}; every other line it prints is passed through, indented.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Metrics, percentile, ROOT, TMP } from './lib.js';

const RESULT_PREFIX = '@@bench-result ';

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

/** In the child: runs the workload on a fresh `dataDir` and prints its metrics for the parent. */
export async function child(run: (dataDir: string) => Promise<Metrics>, dataDir: string): Promise<void> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  try {
    const probe = probeCommitMs(dataDir);
    const metrics = { ...(await run(dataDir)), commitP50Ms: probe.p50, commitP90Ms: probe.p90 };
    await new Promise<void>((r) => process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(metrics)}\n`, () => r()));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * In the parent: runs `script --child <id>` once and resolves with the metrics it printed; killed
 * after `timeoutMinutes`. With `profile`, the child CPU-profiles its timed phase into
 * bench/.tmp/profiles.
 */
export function runChild(
  script: string,
  id: string,
  iteration: number,
  opts: { profile: boolean; timeoutMinutes: number },
): Promise<Metrics> {
  const dataDir = join(TMP, `${id}-${iteration}-${process.pid}`);
  const args = [...process.execArgv, script, '--child', id, '--data-dir', dataDir];
  if (opts.profile) args.push('--profile-file', join(TMP, 'profiles', `${id}-run${iteration}.cpuprofile`));
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
    const killer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMinutes * 60_000);
    proc.on('error', fail);
    proc.on('close', (code, signal) => {
      clearTimeout(killer);
      rmSync(dataDir, { recursive: true, force: true });
      if (code === 0 && result) ok(result);
      else fail(new Error(`${id} run ${iteration} exited with ${signal ?? code} and no result`));
    });
  });
}
