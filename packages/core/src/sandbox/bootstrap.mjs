// Entry of a thread runner's worker thread: starts thread.js (the build) or thread.ts (the
// sources, under tsx). tsx's loader is registered in this thread only when it is needed: for the
// sources, or for a TypeScript config (assay.config.ts). Both hooks, since a config in a project
// without "type": "module" is CommonJS to Node, which the ESM hook alone would not transform.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const built = new URL('./thread.js', import.meta.url);
const fromSource = !existsSync(fileURLToPath(built));
const entry = fromSource ? new URL('./thread.ts', import.meta.url) : built;
if (fromSource || /\.[cm]?tsx?$/.test(workerData?.configPath ?? '')) {
  const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
  register();
  registerCjs();
}
const mod = await import(entry.href);
export default mod.default;

// A quarantine thread (not a pool's): it runs the one task it was started for and answers.
if (workerData?.single) parentPort?.postMessage({ reply: await mod.default(workerData.single) });
