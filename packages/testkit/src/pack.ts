/**
 * Assay as a user gets it: the publishable packages packed to tarballs (`npm pack`) and installed
 * into a fresh project outside the repository, third-party dependencies from the registry. Used
 * by the pack-and-install test and by `npm run bench:install` (size and time of an install).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './process.js';

/** Every package that is published, in dependency order (their folders under packages/). */
export const PUBLISHED = [
  'contract',
  'core',
  'mastra',
  'store',
  'queue',
  'ui',
  'server',
  'runtime',
  'client',
  'cli',
] as const;
export type Published = (typeof PUBLISHED)[number];

export interface Packed {
  name: string;
  dir: string;
  /** Absolute path of the tarball. */
  tarball: string;
  /** Bytes of the tarball and of its unpacked files. */
  size: number;
  unpackedSize: number;
  files: string[];
}

/** npm's environment minus what an enclosing `npm run`/`npm test` set (workspace, prefix, …). */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Packs the published packages (their built dist/ must exist: `npm run build`) into `dest`. */
export function packAll(dest: string, packages: readonly Published[] = PUBLISHED): Packed[] {
  for (const p of packages) {
    const marker = p === 'ui' ? 'dist/index.html' : p === 'cli' ? 'dist/bin.js' : 'dist/index.js';
    if (!existsSync(join(REPO_ROOT, 'packages', p, marker)))
      throw new Error(`packages/${p}/${marker} is missing: run \`npm run build\` first`);
  }
  mkdirSync(dest, { recursive: true });
  const args = [
    'pack',
    '--json',
    '--pack-destination',
    dest,
    ...packages.flatMap((p) => ['--workspace', `packages/${p}`]),
  ];
  const out = execFileSync('npm', args, {
    cwd: REPO_ROOT,
    env: npmEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const list = JSON.parse(out) as {
    name: string;
    filename: string;
    size: number;
    unpackedSize: number;
    files: { path: string }[];
  }[];
  return list.map((p, i) => ({
    name: p.name,
    dir: join(REPO_ROOT, 'packages', packages[i] ?? ''),
    tarball: join(dest, p.filename),
    size: p.size,
    unpackedSize: p.unpackedSize,
    files: p.files.map((f) => f.path),
  }));
}

/** A new project folder with a package.json of a user's ("type": "module"). */
export function newProject(dir: string, name = 'my-app'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  return dir;
}

export interface Installed {
  ms: number;
  /** Bytes of the project's node_modules afterwards (`du -sb`). */
  bytes: number;
  output: string;
}

/** `npm install <specs…>` in `dir` (tarball paths and registry names), timed. */
export function npmInstall(dir: string, specs: string[]): Promise<Installed> {
  const started = Date.now();
  return new Promise((ok, fail) => {
    const child = spawn('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
      cwd: dir,
      env: npmEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.once('error', fail);
    child.once('close', (code) => {
      if (code !== 0) return fail(new Error(`npm install failed (${code}) in ${dir}:\n${output}`));
      ok({ ms: Date.now() - started, bytes: duBytes(join(dir, 'node_modules')), output });
    });
  });
}

/** Apparent size of a folder in bytes (`du -sb`). */
export function duBytes(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

export const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
