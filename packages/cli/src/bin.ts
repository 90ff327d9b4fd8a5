// The `assay` CLI, built to dist/bin.js, which the binary bin/assay.js imports. TypeScript is
// loaded only for a `.ts` config (see load-config.ts), never for Assay itself.
import './main.js';
