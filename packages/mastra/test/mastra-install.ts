import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The Mastra version these tests pin (the docs say what was tested). */
export const MASTRA_VERSION = '1.71.0';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The AI SDK provider version the repository uses (root package.json). */
const OPENAI_COMPATIBLE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).devDependencies[
  '@ai-sdk/openai-compatible'
] as string;

/** The environment without npm's own npm_* variables (as packages/testkit/src/pack.ts does). */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return env;
}

export interface MastraProject {
  dir: string;
  /** Imports a module (a package name or subpath, e.g. '@mastra/core/agent') as the project resolves it. */
  load<T = any>(specifier: string): Promise<T>;
  remove(): void;
}

/**
 * A temporary project with the real @mastra/core (and the AI SDK OpenAI-compatible provider and
 * zod, its peer) installed by npm: Mastra declares Node >= 22, so `--engine-strict=false`.
 * Kept out of the repository's lock file on purpose. About 10 s from npm's cache.
 */
export function installMastra(): MastraProject {
  const dir = mkdtempSync(join(tmpdir(), 'assay-mastra-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'assay-mastra-test', private: true, type: 'module' }),
  );
  execFileSync(
    'npm',
    [
      'install',
      `@mastra/core@${MASTRA_VERSION}`,
      `@ai-sdk/openai-compatible@${OPENAI_COMPATIBLE}`,
      '--engine-strict=false',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: dir, env: npmEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 },
  );
  return projectAt(dir);
}

/** The Mastra project in `dir` (installed by {@link installMastra}): a config file in it uses this too. */
export function projectAt(dir: string): MastraProject {
  return {
    dir,
    // A module in the project that re-exports the specifier: Node resolves it from there, with
    // the `import` condition (the package's ESM entry), as the project's own code would.
    load: async (specifier) => {
      // Named for the specifier: processes and threads loading the same one write the same file.
      const shim = join(dir, `load-${specifier.replace(/[^A-Za-z0-9]/g, '_')}.mjs`);
      writeFileSync(shim, `export * from ${JSON.stringify(specifier)};\n`);
      return import(pathToFileURL(shim).href);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
