/**
 * What the UI benchmarks share: a real `assay serve` child on a free port with a config of the
 * bench's own, and headless Chromium with a fresh profile beside it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headlessChromium } from '@assay/testkit/browser';
import { freePort, type Server, startServer } from '@assay/testkit/process';
import { type BrowserContext, chromium } from 'playwright-core';

export interface BenchServer {
  /** The bench's temporary folder (config, data, browser profile); {@link stop} removes it. */
  readonly dir: string;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** Opens headless Chromium (1280 × 720) with its profile in {@link dir}. */
  browser(): Promise<BrowserContext>;
  /** Stops the server (SIGTERM, then waits for its exit) and removes {@link dir}. */
  stop(): Promise<void>;
}

/**
 * Writes `config` (the source of `assay.config.mjs`) into a fresh temporary folder, starts
 * `assay serve` on it with its data in that folder, and waits until it is healthy.
 *
 * @example
 * const bench = await startBenchServer('assay-ui-bench-', `export default { targets: [] };`);
 * try { … } finally { await bench.stop(); }
 */
export async function startBenchServer(prefix: string, config: string): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  writeFileSync(join(dir, 'assay.config.mjs'), config);
  let server: Server;
  try {
    server = await startServer(await freePort(), [
      '--config',
      join(dir, 'assay.config.mjs'),
      '--data-dir',
      join(dir, 'data'),
    ]);
  } catch (e) {
    remove();
    throw e;
  }
  return {
    dir,
    base: server.base,
    browser: () =>
      chromium.launchPersistentContext(join(dir, 'profile'), {
        ...headlessChromium,
        viewport: { width: 1280, height: 720 },
      }),
    async stop() {
      server.killGroup('SIGTERM');
      await server.exited;
      remove();
    },
  };
}
