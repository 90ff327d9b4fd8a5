/**
 * Helpers for end-to-end tests that drive the real `assay` binary as child processes.
 *
 * Every spawned process runs in its own process group (`detached: true`), so a test can send
 * real signals (`kill -9`, SIGTERM) to the whole group, and `killAllChildren()` (called from
 * `afterEach`/`afterAll`) leaves no process behind, whatever the test did.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ASSAY_BIN = join(REPO_ROOT, 'node_modules/.bin/assay');

export const FINAL_RUN_STATUSES = ['completed', 'failed', 'cancelled'];
export const FINAL_ITEM_STATUSES = ['succeeded', 'failed', 'cancelled', 'skipped'];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => ok(port));
    });
  });
}

// ── temporary folders ──

const tempDirs: string[] = [];

/** A fresh temporary folder, deleted by {@link removeTempDirs}. */
export function tempDir(prefix = 'assay-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 5 });
}

/** Writes `source` as `<dir>/<name>` and returns its path. */
export function writeFile(dir: string, name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

/**
 * A config with a target `sleepy` that answers `input.answer` after `sleepMs`, honouring
 * `ctx.signal`, and a scorer `exact`.
 */
export function sleepyConfig(dir: string, sleepMs = 20): string {
  return writeFile(
    dir,
    'assay.config.mjs',
    `
const sleep = (ms, signal) => new Promise((res, rej) => {
  if (signal?.aborted) return rej(signal.reason ?? new Error('aborted'));
  const onAbort = () => { clearTimeout(t); rej(signal.reason ?? new Error('aborted')); };
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); res(); }, ms);
  signal?.addEventListener('abort', onAbort, { once: true });
});
export default {
  targets: [
    { id: 'sleepy', type: 'function', run: async (input, ctx) => { await sleep(${sleepMs}, ctx.signal); return input.answer; } },
  ],
  scorers: [
    { id: 'exact', score: ({ output, groundTruth }) => (output === groundTruth ? 1 : 0) },
  ],
};
`,
  );
}

// ── child processes ──

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Sends `signal` to the child's whole process group (no-op if it is gone). */
  killGroup(signal: NodeJS.Signals): void;
}

const children = new Set<Child>();

/** Environment for the child: ours minus every variable that changes how `assay` behaves. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['ASSAY_API_KEY', 'ASSAY_DATABASE_URL', 'ASSAY_REDIS_URL', 'PORT', 'HOST']) delete env[k];
  return { ...env, ...extra };
}

/** Spawns `assay <args>` in its own process group. */
export function spawnAssay(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Child {
  const proc = spawn(ASSAY_BIN, args, {
    cwd: opts.cwd ?? tmpdir(),
    env: cleanEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
    proc.once('error', (e) => {
      err += `spawn failed: ${e.message}\n`;
      running = false;
      ok({ code: null, signal: null });
    });
    // 'close' (not 'exit') so that all output has been read.
    proc.once('close', (code, signal) => {
      running = false;
      ok({ code, signal });
    });
  });
  const child: Child = {
    proc,
    pid: proc.pid ?? -1,
    output: () => out + err,
    stdout: () => out,
    stderr: () => err,
    exited,
    isRunning: () => running,
    killGroup(signal) {
      if (child.pid <= 0) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // ESRCH: the group is gone already.
      }
    },
  };
  children.add(child);
  void exited.then(() => {
    // Whatever the leader left in its group goes too.
    child.killGroup('SIGKILL');
  });
  return child;
}

/** Spawns `n` × `assay <args>` (workers) and waits until each says it is running. */
export async function startWorkers(
  n: number,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Child[]> {
  const workers = Array.from({ length: n }, () => spawnAssay(args, opts));
  for (const w of workers)
    await waitFor(
      async () => w.stdout(),
      (out) => out.includes('running up to'),
      { what: 'a worker to start', ms: 20_000 },
    );
  return workers;
}

/** Kills every child process group spawned by these helpers and waits for the leaders to exit. */
export async function killAllChildren(): Promise<void> {
  const all = [...children];
  children.clear();
  for (const c of all) if (c.isRunning()) c.killGroup('SIGKILL');
  await Promise.all(all.map((c) => Promise.race([c.exited, sleep(5_000)])));
}

/** Waits for a child to exit, failing with its output if it does not within `ms`. */
export async function waitExit(child: Child, ms: number, what = 'assay') {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  const r = await Promise.race([child.exited, deadline]);
  clearTimeout(timer);
  if (r === 'timeout') throw new Error(`${what} did not exit within ${ms} ms; output:\n${child.output().slice(-3000)}`);
  return r;
}

/** Runs `assay <args>` to completion (killed after `ms`), for commands that are expected to exit. */
export async function runAssay(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; ms?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; output: string }> {
  const child = spawnAssay(args, opts);
  const ms = opts.ms ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  const r = await Promise.race([child.exited, deadline]);
  clearTimeout(timer);
  if (r === 'timeout') {
    child.killGroup('SIGKILL');
    await child.exited;
    throw new Error(`assay ${args.join(' ')} did not exit within ${ms} ms; output:\n${child.output().slice(-3000)}`);
  }
  return { ...r, stdout: child.stdout(), stderr: child.stderr(), output: child.output() };
}

export interface Server extends Child {
  port: number;
  base: string;
}

/**
 * Starts `assay serve --port <port> <args>` and waits until `GET /api/health` answers 200
 * (requests always go to 127.0.0.1, whatever `--host` is).
 */
export async function startServer(
  port: number,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; ms?: number } = {},
): Promise<Server> {
  const child = spawnAssay(['serve', '--port', String(port), ...args], opts);
  const server: Server = Object.assign(child, { port, base: `http://127.0.0.1:${port}` });
  const until = Date.now() + (opts.ms ?? 20_000);
  while (Date.now() < until) {
    if (!child.isRunning()) break;
    try {
      const r = await fetch(`${server.base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (r.ok && child.isRunning()) return server;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  child.killGroup('SIGKILL');
  const { code, signal } = await child.exited;
  throw new Error(
    `assay serve on port ${port} did not become healthy (exit ${code ?? signal ?? 'none'}); output:\n${child
      .output()
      .slice(-3000)}`,
  );
}

// ── HTTP ──

export interface ApiResponse {
  status: number;
  json: any;
}

export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const r = await fetch(`${base}/api${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { raw: text };
  }
  return { status: r.status, json };
}

/** Polls `fn` until `pred` holds; throws with the last value after `ms`. */
export async function waitFor<T>(
  fn: () => Promise<T>,
  pred: (v: T) => boolean,
  opts: { ms?: number; every?: number; what?: string } = {},
): Promise<T> {
  const ms = opts.ms ?? 20_000;
  const until = Date.now() + ms;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      if (pred(last)) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > until) {
      throw new Error(
        `${opts.what ?? 'condition'} not met within ${ms} ms; last value ${JSON.stringify(last)?.slice(0, 500)}${
          lastError ? `; last error ${String(lastError)}` : ''
        }`,
      );
    }
    await sleep(opts.every ?? 50);
  }
}

/** Creates a dataset and adds `items` in batches; returns its id and the created items. */
export async function createDataset(
  base: string,
  name: string,
  items: { input: unknown; groundTruth?: unknown; externalId?: string }[],
): Promise<{ id: string; items: { id: string; input: any; groundTruth: any }[] }> {
  const ds = await api(base, 'POST', '/datasets', { name });
  if (ds.status !== 201) throw new Error(`create dataset: ${ds.status} ${JSON.stringify(ds.json)}`);
  const created: { id: string; input: any; groundTruth: any }[] = [];
  for (let i = 0; i < items.length; i += 200) {
    const b = await api(base, 'POST', `/datasets/${ds.json.id}/items/batch`, { items: items.slice(i, i + 200) });
    if (b.status !== 201) throw new Error(`add items: ${b.status} ${JSON.stringify(b.json)}`);
    created.push(...b.json.items);
  }
  return { id: ds.json.id, items: created };
}

export const getRun = async (base: string, datasetId: string, runId: string) =>
  (await api(base, 'GET', `/datasets/${datasetId}/runs/${runId}`)).json;

export const doneCount = (run: any) => (run?.succeededCount ?? 0) + (run?.failedCount ?? 0);

export const waitRunFinal = (base: string, datasetId: string, runId: string, ms = 30_000) =>
  waitFor(
    () => getRun(base, datasetId, runId),
    (r) => FINAL_RUN_STATUSES.includes(r?.status),
    { ms, every: 100, what: `run ${runId} to finish` },
  );

/** Every result of a run, read page by page (`?page&perPage=100`). */
export async function allResults(base: string, datasetId: string, runId: string): Promise<any[]> {
  const out: any[] = [];
  for (let page = 0; page < 10_000; page++) {
    const r = await api(base, 'GET', `/datasets/${datasetId}/runs/${runId}/results?page=${page}&perPage=100`);
    if (r.status !== 200) throw new Error(`results page ${page}: ${r.status} ${JSON.stringify(r.json)}`);
    out.push(...r.json.results);
    if (!r.json.pagination?.hasMore) return out;
  }
  throw new Error('results never ended (hasMore stayed true)');
}

// ── the database file ──

/** Opens `<dataDir>/assay.db` read-only, runs `fn`, closes it. */
export function withDb<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'assay.db'), { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Count of rows of a run's run_items per status, straight from the database. */
export function itemStatusCounts(dataDir: string, runId: string): Record<string, number> {
  return withDb(dataDir, (db) => {
    const rows = db
      .prepare('SELECT status, count(*) AS n FROM run_items WHERE run_id = ? GROUP BY status')
      .all(runId) as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  });
}

export const finalItems = (counts: Record<string, number>) =>
  FINAL_ITEM_STATUSES.reduce((a, s) => a + (counts[s] ?? 0), 0);
