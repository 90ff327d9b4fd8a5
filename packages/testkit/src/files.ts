import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tempDirs: string[] = [];

/** A fresh temporary folder, deleted by {@link removeTempDirs}. */
export function tempDir(prefix = 'assay-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/** Deletes every folder {@link tempDir} made (call it from `afterAll`). */
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
 * JavaScript source of `sleep(ms, signal)` for generated config files: resolves after `ms`, rejects
 * with the signal's reason as soon as it aborts (as a target honouring `ctx.signal` must).
 */
export const SLEEP_SOURCE = `const sleep = (ms, signal) => new Promise((res, rej) => {
  if (signal?.aborted) return rej(signal.reason ?? new Error('aborted'));
  const onAbort = () => { clearTimeout(t); rej(signal.reason ?? new Error('aborted')); };
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); res(); }, ms);
  signal?.addEventListener('abort', onAbort, { once: true });
});
`;

/** Run options for {@link sleepyConfig}'s target and scorer: `{ ...SLEEPY_RUN, maxConcurrency: 8 }`. */
export const SLEEPY_RUN = { targetId: 'sleepy', scorerIds: ['exact'] };

/**
 * Writes `<dir>/assay.config.mjs`: a target `sleepy` that answers `input.answer` after `sleepMs`,
 * honouring `ctx.signal`, and a scorer `exact`. Returns its path.
 */
export function sleepyConfig(dir: string, sleepMs = 20): string {
  return writeFile(
    dir,
    'assay.config.mjs',
    `
${SLEEP_SOURCE}export default {
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
