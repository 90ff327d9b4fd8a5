#!/usr/bin/env node
// The `assay` binary. Sources are TypeScript; tsx's loader lets Node run them (and users'
// assay.config.ts files) without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
