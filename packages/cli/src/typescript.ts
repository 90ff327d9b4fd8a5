/**
 * Node 20 cannot import TypeScript: a `.ts` config (and the worker threads that load it again)
 * goes through tsx's loader, registered on first need. Both hooks: a config in a project without
 * "type": "module" is CommonJS to Node, which the ESM hook alone would not transform.
 */
import { importOptional } from '@assay/core';

let registered: Promise<void> | undefined;

export const isTypeScript = (path: string) => /\.[cm]?tsx?$/.test(path);

export function registerTypeScript(): Promise<void> {
  registered ??= importOptional(
    () => Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]),
    ['tsx'],
    'A TypeScript config (assay.config.ts)',
  ).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return registered;
}
