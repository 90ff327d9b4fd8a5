#!/usr/bin/env node
// The `assay` binary. Sources are TypeScript; tsx's loader lets Node run them (and users'
// assay.config.ts files) without a build step. Both hooks: a config in a project without
// "type": "module" is CommonJS to Node, which the ESM hook alone would not transform.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

register();
registerCjs();
await import('../src/main.ts');
