// Entry of a thread runner's worker thread. The sources (and a user's assay.config.ts) are
// TypeScript: register tsx's loader in this thread — both hooks, since a config in a project
// without "type": "module" is CommonJS to Node, which the ESM hook alone would not transform.
import { parentPort, workerData } from 'node:worker_threads';

const entry = new URL('./thread.ts', import.meta.url);
const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
register();
registerCjs();
const mod = await import(entry.href);
export default mod.default;

// A quarantine thread (not a pool's): it runs the one task it was started for and answers.
if (workerData?.single) parentPort?.postMessage({ reply: await mod.default(workerData.single) });
