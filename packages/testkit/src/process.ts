/**
 * Driving the real `assay` binary as child processes, for e2e tests, the bench and the soak.
 *
 * Every spawned process runs in its own process group (`detached: true`), so a caller can send
 * real signals (`kill -9`, SIGTERM) to the whole group, and {@link killAllChildren} (called from
 * `afterEach`/`afterAll`, or at the end of a script) leaves no process behind, whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const ASSAY_BIN = join(REPO_ROOT, 'node_modules/.bin/assay');

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

/** Polls `fn` until `pred` holds; throws with the last value (and last error) after `ms` (default 20 s). */
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

// ── child processes ──

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited and its output is read. */
  exited: Promise<Exit>;
  isRunning(): boolean;
  /** Sends `signal` to the child's whole process group (no-op if it is gone). */
  killGroup(signal: NodeJS.Signals): void;
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** The `assay` binary to run. Default: this repository's ({@link ASSAY_BIN}). */
  bin?: string;
}

const children = new Set<Child>();

/** Environment for the child: ours minus every variable that changes how `assay` behaves. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['ASSAY_API_KEY', 'ASSAY_DATABASE_URL', 'ASSAY_REDIS_URL', 'PORT', 'HOST']) delete env[k];
  return { ...env, ...extra };
}

/** Spawns `assay <args>` in its own process group (cwd: the temp folder unless given). */
export function spawnAssay(args: string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(opts.bin ?? ASSAY_BIN, args, {
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
  const exited = new Promise<Exit>((ok) => {
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
export async function startWorkers(n: number, args: string[], opts: SpawnOptions = {}): Promise<Child[]> {
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

/** The child's exit, or `'timeout'` after `ms`. */
async function exitWithin(child: Child, ms: number): Promise<Exit | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
  });
  try {
    return await Promise.race([child.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const tail = (child: Child) => child.output().slice(-3000);

/** Waits for a child to exit, failing with its output if it does not within `ms`. */
export async function waitExit(child: Child, ms: number, what = 'assay'): Promise<Exit> {
  const r = await exitWithin(child, ms);
  if (r === 'timeout') throw new Error(`${what} did not exit within ${ms} ms; output:\n${tail(child)}`);
  return r;
}

/** Runs `assay <args>` to completion (killed after `ms`, default 20 s), for commands that are expected to exit. */
export async function runAssay(
  args: string[],
  opts: SpawnOptions & { ms?: number } = {},
): Promise<Exit & { stdout: string; stderr: string; output: string }> {
  const child = spawnAssay(args, opts);
  const ms = opts.ms ?? 20_000;
  const r = await exitWithin(child, ms);
  if (r === 'timeout') {
    child.killGroup('SIGKILL');
    await child.exited;
    throw new Error(`assay ${args.join(' ')} did not exit within ${ms} ms; output:\n${tail(child)}`);
  }
  return { ...r, stdout: child.stdout(), stderr: child.stderr(), output: child.output() };
}

export interface Server extends Child {
  port: number;
  /** `http://127.0.0.1:<port>`. */
  base: string;
}

/**
 * Starts `assay serve --port <port> <args>` and waits until `GET /api/health` answers 200
 * (requests always go to 127.0.0.1, whatever `--host` is).
 */
export async function startServer(
  port: number,
  args: string[],
  opts: SpawnOptions & { ms?: number } = {},
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
    `assay serve on port ${port} did not become healthy (exit ${code ?? signal ?? 'none'}); output:\n${tail(child)}`,
  );
}
