import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll } from 'vitest';

/** The real binary, as users run it. */
export const BIN = resolve(import.meta.dirname, '../../../node_modules/.bin/assay');

/** Offline targets for the CLI tests, as a plain .mjs config (what users without TypeScript write). */
export const CONFIG = `
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); });
});
export default {
  targets: [
    { id: 'echo', type: 'function', run: (input) => input?.answer ?? input },
    { id: 'slow', type: 'agent', run: async (input, ctx) => { await sleep(Number(process.env.SLOW_MS ?? 40), ctx.signal); return input?.answer ?? input; } },
    { id: 'half', type: 'function', run: (input) => (typeof input === 'number' && input % 2 === 1 ? 'wrong' : input?.answer ?? input) },
    { id: 'broken', type: 'function', run: () => { throw Object.assign(new Error('model unavailable'), { retryable: false }); } },
  ],
};
`;

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A temporary working directory with `assay.config.mjs`, removed after the file's tests. */
export function workspace(): { dir: string; file(name: string, content: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'assay-cli-'));
  writeFileSync(join(dir, 'assay.config.mjs'), CONFIG);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    },
  };
}

export interface Spawned {
  child: ChildProcess;
  /** Resolves when the process exits. */
  done: Promise<Result>;
  /** Resolves with the match once stdout or stderr matches. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
}

/** Starts `assay ...args` in `cwd` (no ASSAY_URL / ASSAY_API_KEY unless given, no colours). */
export function spawnAssay(args: string[], cwd: string, env: Record<string, string> = {}): Spawned {
  const base = { ...process.env };
  delete base.ASSAY_URL;
  delete base.ASSAY_API_KEY;
  const child = spawn(BIN, args, { cwd, env: { ...base, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const check = () => {
    for (const w of watchers.splice(0)) {
      const m = w.re.exec(stdout) ?? w.re.exec(stderr);
      if (m) w.resolve(m);
      else watchers.push(w);
    }
  };
  child.stdout!.on('data', (d) => {
    stdout += d;
    check();
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    check();
  });
  const done = new Promise<Result>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    done,
    output: () => ({ stdout, stderr }),
    waitFor: (re) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        watchers.push({ re, resolve });
        check();
        done.then((r) => reject(new Error(`exited (${r.code}) before ${re}:\n${r.stdout}\n${r.stderr}`)));
      }),
  };
}

/** Runs `assay ...args` to its end. */
export function assay(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return spawnAssay(args, cwd, env).done;
}

/** Runs and expects an exit code, showing the output when it differs. */
export async function expectExit(result: Promise<Result>, code: number): Promise<Result> {
  const r = await result;
  if (r.code !== code) {
    throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

export const json = (r: Result) => JSON.parse(r.stdout);
