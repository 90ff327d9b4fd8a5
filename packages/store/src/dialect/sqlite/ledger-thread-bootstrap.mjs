// Entry of the SQLite ledger thread: starts ledger-thread-entry.js (the build) or
// ledger-thread-entry.ts (the sources, with tsx's loader registered in this thread only then).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('./ledger-thread-entry.js', import.meta.url);
if (existsSync(fileURLToPath(built))) await import(built.href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('./ledger-thread-entry.ts', import.meta.url).href);
}
