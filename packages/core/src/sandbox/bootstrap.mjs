// Entry of a thread runner's worker thread. The sources (and a user's assay.config.ts) are
// TypeScript: register tsx's loader in this thread when the thread module is not plain JavaScript.
const entry = new URL('./thread.ts', import.meta.url);
const { register } = await import('tsx/esm/api');
register();
const mod = await import(entry.href);
export default mod.default;
