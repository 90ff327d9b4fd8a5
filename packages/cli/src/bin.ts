#!/usr/bin/env node
// The `assay` binary (built to dist/bin.js). TypeScript is loaded only for a `.ts` config
// (see load-config.ts), never for Assay itself.
import './main.js';
