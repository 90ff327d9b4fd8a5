#!/usr/bin/env node
// The `assay` binary: the compiled CLI in dist/ (built by `npm run build`; in this repository
// `npm install` builds it). A file of its own so that npm links the binary before the build exists.
import('../dist/bin.js').catch((e) => {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/bin.js')) {
    console.error('assay: the CLI is not built (no dist/bin.js); in the Assay repository run `npm run build`');
    process.exit(1);
  }
  throw e;
});
